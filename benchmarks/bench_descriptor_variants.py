"""Benchmark: which COSFIRE bank settings change descriptor quality on the FIRST galaxies.

    python benchmarks/bench_descriptor_variants.py [--per-class 25] [--train-per-class 100]
                                                   [--with-floor] [--json]

Each variant configures a bank of ``--per-class`` filters per class on a stratified sample of the
train split (seed 0), describes that sample and the whole valid split, and scores a quadratic-
kernel SVM on L2-normalised descriptors (best C of 1..1000 on valid), as ``cosfire-hash tune``
does. Variants: the radio defaults; unweighted geometric mean; both DoG polarities; a finer peak
merge (eta 0.2); scale invariance (0.5..2); reflection invariance; a 220 px crop; "sum"
blurring; DoG sigma 2 or 3 instead of 5; a mixed bank (sigmas 2, 3, 5 in turn).
``--with-floor`` adds a diagnostic that is not an engine option: a floor of 1 % of each blurred
map's maximum under every map, which turns the AND of a filter's parts into a soft AND (every
pixel becomes support, so it is tens of times slower). Needs the FIRST data
(``COSFIRE_HASH_DATA`` or the download).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import replace

import numpy as np

import cosfire.plan
from cosfire.bank import configure_bank
from cosfire.configure import FilterConfig
from cosfire.datasets import open_dataset, stratified_subset
from cosfire.descriptor import describe
from cosfire.preprocess import Preprocessing
from retrieval.classification import SVMProtocol, svm_accuracy_by_c

VARIANTS: dict[str, dict] = {
    "radio defaults": {},
    "unweighted mean": {"config": {"weighted": False}},
    "both polarities": {"config": {"polarity": "both"}},
    "eta 0.2 rad": {"config": {"eta": 0.2}},
    "sum blurring": {"config": {"blur": "sum"}},
    "scales 0.5..2": {"scales": (0.5, 0.71, 1.0, 1.41, 2.0)},
    "reflection": {"reflection": True},
    "crop 220 px": {"crop_px": 220},
    "sigma 2": {"config": {"sigma": 2.0}},
    "sigma 3": {"config": {"sigma": 3.0}},
    "mixed sigmas 2, 3, 5": {"configs": [{"sigma": 2.0}, {"sigma": 3.0}, {"sigma": 5.0}]},
}


@contextlib.contextmanager
def _svm_by_c(train_x, train_y, score_x, score_y, cs) -> dict[float, float]:
    """Accuracy per C of the library's SVM protocol (quadratic kernel, L2 rows)."""
    protocol = SVMProtocol(cs=tuple(cs))
    return svm_accuracy_by_c(train_x, train_y, score_x, score_y, protocol=protocol)


def floored_maps(fraction: float) -> Iterator[None]:
    """Diagnostic only: every blurred map gets a floor of ``fraction`` of its maximum."""
    original = cosfire.plan.blurred_response

    def floored(source, radius, blur):
        blurred = original(source, radius, blur)
        peak = blurred.max()
        return np.maximum(blurred, fraction * peak) if peak > 0 else blurred

    cosfire.plan.blurred_response = floored
    try:
        yield
    finally:
        cosfire.plan.blurred_response = original


def score(variant: dict, dataset, train_items, valid_items, per_class: int, jobs: int) -> dict:
    train_y = np.array([i.label for i in train_items])
    valid_y = np.array([i.label for i in valid_items])
    start = time.perf_counter()
    bank = configure_bank(
        train_items,
        train_y,
        class_names=dataset.class_names,
        per_class=per_class,
        seed=0,
        config=[
            replace(FilterConfig(), **c)
            for c in variant.get("configs", [variant.get("config", {})])
        ],
        preprocessing=Preprocessing(crop_px=variant.get("crop_px", 150)),
        read=dataset.read,
    ).with_invariances(scales=variant.get("scales"), reflection=variant.get("reflection"))
    train_x = describe(bank, train_items, read=dataset.read, n_jobs=jobs)
    valid_x = describe(bank, valid_items, read=dataset.read, n_jobs=jobs)
    accuracy = _svm_by_c(train_x, train_y, valid_x, valid_y, (1.0, 10.0, 100.0, 1000.0))
    return {
        "valid_accuracy": max(accuracy.values()),
        "zero_fraction": float(np.mean(train_x == 0)),
        "mean_tuples": float(np.mean([len(f.tuples) for f in bank.filters])),
        "seconds": time.perf_counter() - start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="first")
    parser.add_argument("--per-class", type=int, default=25)
    parser.add_argument("--train-per-class", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--with-floor", action="store_true")
    parser.add_argument("--only", nargs="+", help="variant names to run (default: all)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    dataset = open_dataset(args.dataset)
    train_items = stratified_subset(dataset.items("train"), args.train_per_class, seed=0)
    valid_items = dataset.items("valid")
    names = args.only or list(VARIANTS)
    rows = []
    for name in names:
        result = score(VARIANTS[name], dataset, train_items, valid_items, args.per_class, args.jobs)
        rows.append({"variant": name, **result})
    if args.with_floor:
        with floored_maps(0.01):
            result = score({}, dataset, train_items, valid_items, args.per_class, jobs=1)
        rows.append({"variant": "soft AND: floor 1 % of map max", **result})
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(
        f"{args.per_class} filters per class, {len(train_items)} training images, "
        f"{len(valid_items)} validation images\n"
    )
    print(f"{'variant':34s} {'valid acc':>9s} {'zeros':>6s} {'tuples':>6s} {'seconds':>8s}")
    for r in rows:
        print(
            f"{r['variant']:34s} {100 * r['valid_accuracy']:9.1f} {100 * r['zero_fraction']:6.1f} "
            f"{r['mean_tuples']:6.1f} {r['seconds']:8.0f}"
        )


if __name__ == "__main__":
    main()
