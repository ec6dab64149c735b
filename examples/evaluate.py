"""Evaluate retrieval the way the papers do: mAP@k of test queries against the training set.

A result is relevant when it has the query's class. For every code length the script trains
a hashing model on COSFIRE descriptors of the training galaxies (a validation part of them
picks the epoch), hashes the test galaxies, and reports mAP@k, mAP@R and precision@10,
overall and per class. Equal Hamming distances are frequent with short codes; they are put
in a seeded random order (``ties="random"``), and the exact expectation over all orders is
given beside it (``ties="average"``), so that no number depends on the database's order.

    python examples/evaluate.py                          # synthetic galaxies, about 15 s
    python examples/evaluate.py first --bits 8 16 36     # FIRST (COSFIRE_HASH_DATA)

Without a data argument it uses FIRST when ``COSFIRE_HASH_DATA`` is set, else the synthetic
galaxies.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import cosfire
from cosfire.datasets import open_dataset
from hashing import TrainingConfig, stratified_split, train_hashing
from retrieval import hamming_distances, pack_codes, retrieval_report


def main(argv: list[str] | None = None) -> dict[int, dict]:
    """Run the example; return the retrieval report of every code length."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", nargs="?", help="'synthetic', 'first', a zip or a folder")
    parser.add_argument("--per-class", type=int, default=4, help="filters per class")
    parser.add_argument("--bits", type=int, nargs="+", default=[8, 16], help="code lengths")
    parser.add_argument("--epochs", type=int, default=60, help="most training epochs")
    parser.add_argument("-k", type=int, default=20, help="mAP@k cut-off (the papers: 100)")
    args = parser.parse_args(argv)
    dataset = open_dataset(args.data or os.environ.get("COSFIRE_HASH_DATA") or "synthetic")

    # descriptors of the database (train split) and of the queries (test split)
    train, test = dataset.items("train"), dataset.items("test")
    train_y = np.array([item.label for item in train])
    test_y = np.array([item.label for item in test])
    bank = cosfire.configure_bank(
        train,
        train_y,
        class_names=dataset.class_names,
        per_class=args.per_class,
        read=dataset.read,
    )
    train_x = cosfire.describe(bank, train, read=dataset.read)
    test_x = cosfire.describe(bank, test, read=dataset.read)
    k = min(args.k, len(train))
    print(f"{len(test)} queries against {len(train)} galaxies, {bank.n_filters} filters, k={k}")

    reports = {}
    fit, valid = stratified_split(train_y, 0.2, seed=0)
    for bits in args.bits:
        config = TrainingConfig(bits=bits, epochs=args.epochs, patience=20, seed=0)
        model, _ = train_hashing(
            train_x[fit], train_y[fit], train_x[valid], train_y[valid], config=config
        )
        # Hamming distances between every query and every database code (packed bits)
        distances = hamming_distances(
            pack_codes(model.encode(test_x)), pack_codes(model.encode(train_x))
        )
        report = retrieval_report(
            distances,
            test_y,
            train_y,
            k=k,
            precision_ks=(10,),
            class_names=dataset.class_names,
            ties="random",
            seed=0,
        )
        expected = retrieval_report(distances, test_y, train_y, k=k, ties="average")
        report["map_average_ties"] = expected[f"map_at_{k}"]
        reports[bits] = report
        print(
            f"{bits:3d} bits: mAP@{k} {report[f'map_at_{k}']:.3f} (all tie orders: "
            f"{report['map_average_ties']:.3f}), mAP@R {report['map_at_r']:.3f}, "
            f"precision@10 {report['precision_at_10']:.3f}"
        )
        for class_name, values in report["per_class"].items():
            print(f"      {class_name:8s} mAP@{k} {values[f'map_at_{k}']:.3f}")
    return reports


if __name__ == "__main__":
    main()
