"""Benchmark: describing the FIRST radio galaxies with a COSFIRE filter bank.

Configures a bank (default 93 filters per class from the train split, seed 0, the radio
defaults), describes every image of the chosen split (default ``all``: 2,158 galaxies) with
24 rotations, and prints a table: wall time, time per (filter x image) and per
(tuple x rotation x image), peak memory, for the engine and, in the same run, for the plain-loop
reference implementation of ``tests/reference_cosfire.py`` on a small sample of
(filter, image) pairs, whose values the engine must reproduce.

    python benchmarks/bench_describe.py --data PATH/galaxy_data.zip [--jobs 2] [--json]

Targets (issue 3): the whole dataset with 372 filters and 24 rotations in at most 120 s on
2 cores, peak memory under 2 GB, descriptors equal to the reference.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from reference_cosfire import reference_apply  # noqa: E402

from cosfire.bank import FilterBank, configure_bank  # noqa: E402
from cosfire.configure import FilterConfig  # noqa: E402
from cosfire.datasets import open_dataset  # noqa: E402
from cosfire.descriptor import describe, plan_maxima  # noqa: E402
from cosfire.preprocess import preprocess  # noqa: E402


def peak_memory_mb() -> float:
    """Peak resident memory of this process plus its largest finished child, MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) / 1024.0


def reference_sample(bank: FilterBank, images: list[np.ndarray], pairs: int, seed: int) -> dict:
    """Time the plain-loop reference on random (filter, image) pairs and compare values."""
    rng = np.random.default_rng(seed)
    chosen = [
        (int(rng.integers(bank.n_filters)), int(rng.integers(len(images)))) for _ in range(pairs)
    ]
    worst = 0.0
    reference_seconds = 0.0
    tuple_rotations = 0
    for filter_index, image_index in chosen:
        bank_filter = bank.filters[filter_index]
        image = preprocess(images[image_index], bank.preprocessing)
        start = time.perf_counter()
        expected = reference_apply(bank_filter, image, rotations_deg=bank.rotations_deg).max()
        reference_seconds += time.perf_counter() - start
        tuple_rotations += len(bank_filter.tuples) * len(bank.rotations_deg)
        single = FilterBank((bank_filter,), rotations_deg=bank.rotations_deg)
        got = float(plan_maxima(single.plan, image)[0])
        worst = max(worst, abs(got - expected) / max(abs(expected), 1e-12) if expected else got)
    return {
        "pairs": pairs,
        "seconds_per_filter_image": reference_seconds / pairs,
        "seconds_per_tuple_rotation_image": reference_seconds / tuple_rotations,
        "max_relative_difference": worst,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("COSFIRE_HASH_DATA", "first"))
    parser.add_argument("--split", default="all", help="split to describe")
    parser.add_argument("--per-class", type=int, default=93)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--backend", default="loky")
    parser.add_argument("--shift", choices=["bilinear", "round"], default="bilinear")
    parser.add_argument("--limit", type=int, default=0, help="describe only this many images")
    parser.add_argument("--reference-pairs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()

    dataset = open_dataset(args.data)
    train_items = dataset.items("train")
    start = time.perf_counter()
    bank = configure_bank(
        train_items,
        [item.label for item in train_items],
        class_names=dataset.class_names,
        per_class=args.per_class,
        seed=args.seed,
        config=FilterConfig(shift=args.shift),
        read=dataset.read,
        sources=[item.path for item in train_items],
    )
    configure_seconds = time.perf_counter() - start
    items = dataset.items(args.split)
    if args.limit:
        items = items[: args.limit]
    describe(bank, items[:2], read=dataset.read)  # compile the kernel outside the timing
    start = time.perf_counter()
    descriptors = describe(bank, items, read=dataset.read, n_jobs=args.jobs, backend=args.backend)
    describe_seconds = time.perf_counter() - start
    n_images, n_filters = descriptors.shape
    tuples = sum(len(f.tuples) for f in bank.filters)
    rotations = len(bank.rotations_deg)
    sample_images = [dataset.read(item) for item in items[:: max(1, len(items) // 50)]]
    reference = reference_sample(bank, sample_images, args.reference_pairs, args.seed)
    engine_per_pair = describe_seconds / (n_images * n_filters) * args.jobs
    result = {
        "images": n_images,
        "filters": n_filters,
        "mean_tuples_per_filter": tuples / n_filters,
        "rotations": rotations,
        "shift": args.shift,
        "jobs": args.jobs,
        "backend": args.backend,
        "configure_seconds": configure_seconds,
        "describe_seconds": describe_seconds,
        "engine_core_seconds_per_filter_image": engine_per_pair,
        "engine_core_seconds_per_tuple_rotation_image": describe_seconds
        * args.jobs
        / (n_images * tuples * rotations),
        "reference": reference,
        "speedup_vs_reference": reference["seconds_per_filter_image"] / engine_per_pair,
        "peak_memory_mb": peak_memory_mb(),
        "nonzero_fraction": float((descriptors > 0).mean()),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"FIRST {args.split}: {n_images} images x {n_filters} filters x {rotations} rotations")
    print(
        f"(mean {tuples / n_filters:.1f} tuples per filter, shift={args.shift}, {args.jobs} "
        f"{args.backend} workers)\n"
    )
    print(f"{'':34s} {'engine':>14s} {'plain loops':>14s}")
    print(
        f"{'s per (filter x image), 1 core':34s} {engine_per_pair:14.3e} "
        f"{reference['seconds_per_filter_image']:14.3e}"
    )
    print(
        f"{'s per (tuple x rotation x image)':34s} "
        f"{result['engine_core_seconds_per_tuple_rotation_image']:14.3e} "
        f"{reference['seconds_per_tuple_rotation_image']:14.3e}"
    )
    print(f"{'speed-up':34s} {result['speedup_vs_reference']:14.0f}x")
    print(
        f"\nconfigure bank: {configure_seconds:.1f} s; describe: {describe_seconds:.1f} s wall "
        f"(target <= 120 s for 2,158 images x 372 filters)"
    )
    print(f"peak memory: {result['peak_memory_mb']:.0f} MB (target < 2048 MB)")
    print(
        f"engine vs reference on {reference['pairs']} pairs: max relative difference "
        f"{reference['max_relative_difference']:.1e} (must be <= 1e-5)"
    )


if __name__ == "__main__":
    main()
