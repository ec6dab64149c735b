"""Train a hashing model on COSFIRE descriptors, index a collection, and search it.

The whole retrieval path in a page: a bank of COSFIRE filters describes every galaxy; a
small network (``hashing``) learns to turn a descriptor into a k-bit binary code such that
galaxies of one class get nearby codes; the training galaxies' codes go into a Hamming index
(``retrieval``), saved as an archive; a query galaxy is described, hashed, and its nearest
codes are the answer.

    python examples/train_and_search.py                 # synthetic galaxies, about 15 s
    python examples/train_and_search.py first --bits 36 # FIRST (COSFIRE_HASH_DATA), minutes

Without a data argument it uses FIRST when ``COSFIRE_HASH_DATA`` is set, else the synthetic
galaxies.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

import cosfire
from cosfire.datasets import open_dataset
from hashing import TrainingConfig, stratified_split, train_hashing
from retrieval import Archive, HammingIndex, load_archive, save_archive


def main(argv: list[str] | None = None) -> dict:
    """Run the example; return the archive, the queries' names and their results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", nargs="?", help="'synthetic', 'first', a zip or a folder")
    parser.add_argument("--per-class", type=int, default=4, help="filters per class")
    parser.add_argument("--bits", type=int, default=16, help="code length")
    parser.add_argument("--epochs", type=int, default=60, help="most training epochs")
    parser.add_argument("-k", type=int, default=5, help="results per query")
    parser.add_argument("-o", "--output", default="runs/examples/archive.chx")
    args = parser.parse_args(argv)
    dataset = open_dataset(args.data or os.environ.get("COSFIRE_HASH_DATA") or "synthetic")

    # 1. a bank configured on training galaxies, and the descriptors of every split
    train, test = dataset.items("train"), dataset.items("test")
    bank = cosfire.configure_bank(
        train,
        [item.label for item in train],
        class_names=dataset.class_names,
        per_class=args.per_class,
        read=dataset.read,
    )
    train_x = cosfire.describe(bank, train, read=dataset.read)
    test_x = cosfire.describe(bank, test, read=dataset.read)
    train_y = np.array([item.label for item in train])
    print(f"{bank.n_filters} filters; described {len(train)} training, {len(test)} test galaxies")

    # 2. the hashing network: a validation part of the training set picks the best epoch
    #    (the test galaxies are never looked at while training)
    fit, valid = stratified_split(train_y, 0.2, seed=0)
    config = TrainingConfig(bits=args.bits, epochs=args.epochs, patience=20, seed=0)
    model, history = train_hashing(
        train_x[fit], train_y[fit], train_x[valid], train_y[valid], config=config
    )
    print(
        f"trained {args.bits}-bit codes: best validation mAP {history.best_valid_map:.3f} (epoch {history.best_epoch})"
    )

    # 3. the archive: every training galaxy's code in a Hamming index, with its name and class
    index = HammingIndex(args.bits)
    index.add(model.encode(train_x))
    archive = Archive(
        index, tuple(dataset.name(item) for item in train), train_y, dataset.class_names
    )
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    archive = load_archive(save_archive(archive, output))  # as a later session would open it
    print(f"wrote {output}: {len(archive)} galaxies")

    # 4. search: hash the test galaxies and look up their nearest codes
    distances, ids = archive.index.search(model.encode(test_x), args.k)
    for row in range(0, len(test), max(1, len(test) // 3))[:3]:
        print(f"query {Path(dataset.name(test[row])).name} ({test[row].class_name}):")
        found = archive.lookup(ids[row])
        for rank, ((path, label), distance) in enumerate(
            zip(found, distances[row], strict=True), 1
        ):
            print(f"  {rank}. {label:8s} distance {distance:2d}  {Path(path).name}")
    same = archive.labels[ids] == np.array([item.label for item in test])[:, None]
    print(f"{same.mean():.0%} of the top-{args.k} results share the query's class")
    return {"archive": archive, "queries": test, "ids": ids, "share_same_class": same.mean()}


if __name__ == "__main__":
    main()
