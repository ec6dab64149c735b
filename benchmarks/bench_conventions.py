"""The authors' two MATLAB conventions: fidelity on DRIVE and the effect of shifts on FIRST.

1. DRIVE (B-COSFIRE, ``shared/data/bcosfire-drive``): Pearson r inside the field-of-view mask
   between cosfire's response and the authors' MATLAB output, per convention (the example
   ``examples/vessel_delineation.py`` computes it).
2. FIRST: does the 2013 code's whole-pixel truncation (``shift="fix"``, what
   ``convention="cosfire2013"`` changes against the defaults) instead of bilinear shifts move
   the SVM accuracy? The bank is the papers' setting (``cosfire-hash configure --dataset first
   --per-class 93 --seed S``); the ``fix`` bank is the same filters with ``shift="fix"``.
   Protocol of ``retrieval.classification``: quadratic SVM on L2-normalised descriptors, C chosen on
   valid among (1, 10, 100), then test accuracy at that C.

Descriptors are cached under ``--work`` (the seed-0 bilinear ones are taken from
``runs/desc/papers.*`` when that bank is the same). Describing all of FIRST takes ~100 s per
bank on 2 cores: run under ``flock /tmp/cosfire-heavy.lock``.

    flock /tmp/cosfire-heavy.lock python benchmarks/bench_conventions.py --seeds 0,1,2 \\
        --out runs/conventions/conventions.json
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cosfire.bank import FilterBank, configure_bank, load_bank  # noqa: E402
from cosfire.configure import FilterConfig  # noqa: E402
from cosfire.datasets import open_dataset  # noqa: E402
from cosfire.descriptor import describe  # noqa: E402
from cosfire.descriptor_file import DescriptorSet, load_descriptors, save_descriptors  # noqa: E402
from retrieval.classification import SVMProtocol, svm_accuracy_by_c  # noqa: E402

SPLITS = ("train", "valid", "test")
CS = (1.0, 10.0, 100.0)
DRIVE_SETTINGS = {
    "bcosfire": {"convention": "bcosfire"},
    "cosfire2013": {"convention": "cosfire2013"},
    "defaults": {},
    "defaults, sum blur, round, unweighted": {
        "blur": "sum",
        "shift": "round",
        "weighted": False,
    },
}


def _svm_by_c(train_x, train_y, score_x, score_y, cs) -> dict[float, float]:
    """Accuracy per C of the library's SVM protocol (quadratic kernel, L2 rows)."""
    protocol = SVMProtocol(cs=tuple(cs))
    return svm_accuracy_by_c(train_x, train_y, score_x, score_y, protocol=protocol)


def default_drive_folder() -> Path:
    """``$COSFIRE_HASH_DRIVE``, else ``shared/data/bcosfire-drive`` beside the clone."""
    return Path(
        os.environ.get("COSFIRE_HASH_DRIVE", ROOT.parent / "shared" / "data" / "bcosfire-drive")
    )


def drive_table(folder: Path) -> dict[str, float]:
    """Pearson r against MATLAB inside the mask, per application setting."""
    spec = importlib.util.spec_from_file_location(
        "vessels", ROOT / "examples/vessel_delineation.py"
    )
    vessels = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(vessels)
    drive = vessels.read_drive(folder)
    return {
        name: vessels.pearson_in_mask(
            vessels.drive_response(drive, **options), drive["matlab"], drive["mask"]
        )
        for name, options in DRIVE_SETTINGS.items()
    }


def with_shift(bank: FilterBank, shift: str) -> FilterBank:
    """The same filters applied with another shift rule."""
    filters = tuple(
        dataclasses.replace(f, params=dataclasses.replace(f.params, shift=shift))
        for f in bank.filters
    )
    return dataclasses.replace(bank, filters=filters, metadata={**bank.metadata, "shift": shift})


def descriptors(bank: FilterBank, dataset, split: str, path: Path, jobs: int) -> DescriptorSet:
    """Describe ``split`` with ``bank``, or read the cached file made with the same bank."""
    if path.is_file():
        cached = load_descriptors(path)
        if cached.bank_sha256 == bank.sha256:
            return cached
    items = dataset.items(split)
    values = describe(bank, items, read=dataset.read, n_jobs=jobs)
    described = DescriptorSet(
        values,
        [item.label for item in items],
        dataset.class_names,
        [dataset.name(item) for item in items],
        bank_sha256=bank.sha256,
    )
    save_descriptors(described, path)
    return described


def svm_scores(sets: dict[str, DescriptorSet]) -> dict[str, object]:
    """Valid accuracy per C, the C chosen on valid, and test accuracy at that C."""
    train, valid, test = (sets[s] for s in SPLITS)
    valid_by_c = _svm_by_c(train.descriptors, train.labels, valid.descriptors, valid.labels, CS)
    best_c = max(valid_by_c, key=lambda c: (valid_by_c[c], -c))
    test_accuracy = _svm_by_c(
        train.descriptors, train.labels, test.descriptors, test.labels, (best_c,)
    )[best_c]
    return {
        "valid_by_c": {str(c): a for c, a in valid_by_c.items()},
        "c": best_c,
        "valid": valid_by_c[best_c],
        "test": test_accuracy,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0", help="prototype draws, e.g. 0,1,2")
    parser.add_argument("--per-class", type=int, default=93)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--dataset", default="first")
    parser.add_argument("--drive", type=Path, default=default_drive_folder())
    parser.add_argument("--reuse", type=Path, default=ROOT / "runs" / "desc")
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "conventions")
    parser.add_argument("--out", type=Path, default=ROOT / "runs/conventions/conventions.json")
    args = parser.parse_args()

    result: dict[str, object] = {"drive_pearson_r": None, "first": []}
    if args.drive.is_dir():
        result["drive_pearson_r"] = drive_table(args.drive)
        print("DRIVE 01_test, Pearson r inside the mask against the MATLAB B-COSFIRE output")
        for name, r in result["drive_pearson_r"].items():
            print(f"  {name:<40} {r:.5f}")
    else:
        print(f"DRIVE folder {args.drive} absent: skipped")

    dataset = open_dataset(args.dataset)
    train_items = dataset.items("train")
    args.work.mkdir(parents=True, exist_ok=True)
    for seed in (int(s) for s in args.seeds.split(",")):
        start = time.perf_counter()
        bank = configure_bank(
            train_items,
            [item.label for item in train_items],
            class_names=dataset.class_names,
            per_class=args.per_class,
            seed=seed,
            config=FilterConfig(),
            read=dataset.read,
            sources=[dataset.name(item) for item in train_items],
        )
        bank.metadata.update({"dataset": str(dataset.source), "split": "train"})
        reused = args.reuse / "papers.bank.json"
        if reused.is_file() and load_bank(reused).filters == bank.filters:
            same_bytes = load_bank(reused).sha256 == bank.sha256
            print(f"seed {seed}: the bank equals {reused} (byte-identical file: {same_bytes})")
            result[f"seed{seed}_bank_byte_identical_to_reused"] = same_bytes
            bank = load_bank(reused)  # the same filters: its descriptor files can be reused
        for shift in ("bilinear", "fix"):
            shifted = bank if shift == "bilinear" else with_shift(bank, "fix")
            sets = {}
            for split in SPLITS:
                cached = args.reuse / f"papers.{split}.npz"
                path = cached if cached.is_file() and shift == "bilinear" else None
                if path is None or load_descriptors(path).bank_sha256 != shifted.sha256:
                    path = args.work / f"desc/{shift}-seed{seed}.{split}.npz"
                    path.parent.mkdir(parents=True, exist_ok=True)
                sets[split] = descriptors(shifted, dataset, split, path, args.jobs)
            row = {"seed": seed, "shift": shift, "bank_sha256": shifted.sha256}
            row.update(svm_scores(sets))
            result["first"].append(row)
            print(
                f"seed {seed} shift {shift:<8} C {row['c']:>5g}  valid {100 * row['valid']:.2f} %"
                f"  test {100 * row['test']:.2f} %  ({time.perf_counter() - start:.0f} s)"
            )
    rows = result["first"]
    summary = {}
    for shift in ("bilinear", "fix"):
        chosen = [r for r in rows if r["shift"] == shift]
        valid = np.array([r["valid"] for r in chosen])
        test = np.array([r["test"] for r in chosen])
        summary[shift] = {
            "seeds": len(chosen),
            "valid_mean": float(valid.mean()),
            "valid_sd": float(valid.std(ddof=1)) if valid.size > 1 else 0.0,
            "test_mean": float(test.mean()),
            "test_sd": float(test.std(ddof=1)) if test.size > 1 else 0.0,
        }
    result["first_summary"] = summary
    result["protocol"] = (
        f"{args.dataset}: bank FilterConfig() (papers' setting), {args.per_class} per class, "
        "same filters with shift 'bilinear' or 'fix'; quadratic SVM on L2-normalised descriptors, "
        f"C in {CS} chosen on valid, test at that C"
    )
    print()
    print("| shifts | seeds | valid accuracy % | test accuracy % |")
    print("|---|---|---|---|")
    for shift, s in summary.items():
        print(
            f"| {shift} | {s['seeds']} | {100 * s['valid_mean']:.2f} +- {100 * s['valid_sd']:.2f} "
            f"| {100 * s['test_mean']:.2f} +- {100 * s['test_sd']:.2f} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    temporary = args.out.with_suffix(".tmp")
    temporary.write_text(json.dumps(result, indent=1))
    os.replace(temporary, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
