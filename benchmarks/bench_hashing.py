"""Benchmark: do the hash codes keep what the descriptors know? mAP@100 beside SVM accuracy.

    python benchmarks/bench_hashing.py [--reference PATH.mat] [--first NAME=PATH ...]
        [--bits 16 36 64] [--seeds 0 1 2] [--recipes papers dsh csq] [--json PATH]
        [--teacher svm [--mixup-copies 2] [--rotated 2]]
    python benchmarks/bench_hashing.py --merge A.json B.json ... --json ALL.json

Two data sets, every recipe of :data:`hashing.RECIPES` (``--recipes``), 3 seeds, mean +- sd:

* the authors' shared descriptors (``COSFIREdescriptor_train_valid.mat``, their own FIRST
  selection, 200 values): a stratified 20 % of the training part is the validation split
  that chooses the epoch; the testing part (398) are the queries, the whole training part
  (1,180) the database;
* FIRST descriptors of this project (``--first NAME=PATH``; PATH is a pipeline run folder with
  ``{train,valid,test}.npz``, or a prefix of ``PATH.{train,valid,test}.npz``): train chooses
  nothing but the weights, valid the epoch, test the queries, train the database.

Beside every mAP@100 stands the test accuracy of the SVM of :mod:`retrieval.classification`
on the same descriptors (C chosen on the same validation split), so a reader sees whether the
codes lose what the descriptors know. mAP@100 breaks Hamming ties in a seeded random order.
``--teacher svm`` adds, for every recipe, a distilled row (``RECIPE+svm``,
:mod:`hashing.distillation`): the SVM (normalisation and C chosen on the validation split,
then fitted on train + valid) labels ``--mixup-copies`` mixtures of training descriptors
(and, with ``--rotated``, the rotated copies of a pipeline run folder), the training rows keep
their labels, and the network learns from both. Nothing is tuned on a test part. Training times are wall seconds on this machine (1 thread
per model, as the library trains by default).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cosfire.descriptor_file import load_descriptors  # noqa: E402
from cosfire.reference_mat import import_reference_mat  # noqa: E402
from hashing import RECIPES, codes_map, stratified_split, train_hashing  # noqa: E402
from hashing.distillation import distillation_set  # noqa: E402
from retrieval.classification import choose_on_valid, svm_accuracy  # noqa: E402

DEFAULT_REFERENCE = ROOT.parent / "shared/data/cosfire-reference/COSFIREdescriptor_train_valid.mat"


def _splits_of(path: Path) -> dict[str, object]:
    names = ("train", "valid", "test")
    if path.is_dir():
        return {split: load_descriptors(path / f"{split}.npz") for split in names}
    return {split: load_descriptors(f"{path}.{split}.npz") for split in names}


def authors_splits(reference: Path, seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Return train / valid / test / database arrays of the authors' descriptors."""
    parts = import_reference_mat(reference)
    train, test = parts["training"], parts["testing"]
    kept, held = stratified_split(train.labels, 0.2, seed=seed)
    return {
        "train": (train.descriptors[kept], train.labels[kept]),
        "valid": (train.descriptors[held], train.labels[held]),
        "test": (test.descriptors, test.labels),
        "database": (train.descriptors, train.labels),
    }


def first_splits(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Return train / valid / test / database arrays of FIRST descriptor files."""
    sets = _splits_of(path)
    arrays = {split: (s.descriptors, s.labels) for split, s in sets.items()}
    arrays["database"] = arrays["train"]
    arrays["extras"] = bool((np.asarray(sets["train"].filter_class) < 0).any())
    if path.is_dir():  # a pipeline run folder: its rotated training copies, where it made them
        copies = sorted(path.glob("train-rotated*.npz"))
        arrays["rotated"] = [load_descriptors(copy).descriptors for copy in copies]
    return arrays


def svm_test_accuracy(data: dict, normalisations: tuple[str, ...]) -> dict[str, float]:
    """Test accuracy of the SVM protocol, normalisation and C chosen on the validation split."""
    protocol, c, valid_by_c = choose_on_valid(
        *data["train"], *data["valid"], normalisations=normalisations
    )
    valid = valid_by_c[c]
    accuracy, _ = svm_accuracy(*data["train"], *data["test"], c=c, protocol=protocol)
    return {"c": c, "valid": valid, "test": accuracy, "normalisation": protocol.normalisation}


def svm_teacher(data: dict, normalisations: tuple[str, ...]):
    """Return the SVM teacher: protocol and C chosen on valid, fitted on train + valid."""
    protocol, c, _ = choose_on_valid(*data["train"], *data["valid"], normalisations=normalisations)
    known_x = np.concatenate([data["train"][0], data["valid"][0]])
    known_y = np.concatenate([data["train"][1], data["valid"][1]])
    rows, _ = protocol.prepare(known_x, known_x[:1])
    svm = protocol.classifier(c).fit(rows, known_y)

    def teacher(descriptors: np.ndarray) -> np.ndarray:
        return svm.predict(protocol.prepare(known_x, descriptors)[1])

    return teacher


def hash_once(
    data: dict, recipe: str, bits: int, seed: int, teacher=None, args=None
) -> dict[str, float]:
    """Train one model and score it: validation and test mAP@100, seconds, chosen epoch.

    With a ``teacher``, the network learns from :func:`hashing.distillation.distillation_set`
    (mixtures and rotated copies labelled by the teacher) beside the training rows."""
    config = replace(RECIPES[recipe], bits=bits, seed=seed)
    start = time.perf_counter()
    train_x, train_y = data["train"]
    if teacher is not None:
        train_x, train_y = distillation_set(
            train_x,
            train_y,
            teacher,
            mixup_copies=args.mixup_copies,
            unlabelled=data.get("rotated", [])[: args.rotated],
            seed=seed,
        )
    model, history = train_hashing(
        train_x, train_y, *data["valid"], config=config, database=data["database"]
    )
    seconds = time.perf_counter() - start
    database_codes = model.encode(data["database"][0])
    test_map = codes_map(
        model.encode(data["test"][0]),
        data["test"][1],
        database_codes,
        data["database"][1],
        100,
        seed,
    )
    return {
        "valid_map": history.best_valid_map,
        "test_map": test_map,
        "seconds": seconds,
        "epoch": history.best_epoch,
    }


def _summary(values: list[float]) -> dict[str, float]:
    array = np.asarray(values, dtype=np.float64)
    return {"mean": float(array.mean()), "sd": float(array.std(ddof=1)) if array.size > 1 else 0.0}


def bench_dataset(name: str, loader, args) -> dict:
    """Every recipe and code length on one data set (the loader takes a seed)."""
    by_seed = {seed: loader(seed) for seed in args.seeds}
    # like the pipeline: L2 rows; with morphology extras, standardised columns compete on valid
    normalisations = ("l2", "l2+standard") if by_seed[args.seeds[0]].get("extras") else ("l2",)
    svm = [svm_test_accuracy(by_seed[seed], normalisations) for seed in args.seeds]
    teachers = (
        {seed: svm_teacher(by_seed[seed], normalisations) for seed in args.seeds}
        if args.teacher == "svm"
        else {}
    )
    rows = []
    variants = [] if args.distilled_only else [(recipe, None) for recipe in args.recipes]
    if teachers:
        variants += [(recipe, "svm") for recipe in args.recipes]
    for recipe, teacher in variants:
        for bits in args.bits:
            runs = [
                hash_once(
                    by_seed[seed], recipe, bits, seed, teachers.get(seed) if teacher else None, args
                )
                for seed in args.seeds
            ]
            row = {
                "recipe": recipe + ("+svm" if teacher else ""),
                "bits": bits,
                "runs": runs,
                "test_map": _summary([r["test_map"] for r in runs]),
                "valid_map": _summary([r["valid_map"] for r in runs]),
                "seconds": _summary([r["seconds"] for r in runs]),
            }
            rows.append(row)
            print(
                f"{name} {row['recipe']:11s} {bits:3d} bits: mAP@100 {100 * row['test_map']['mean']:.1f} "
                f"+- {100 * row['test_map']['sd']:.1f} (valid {100 * row['valid_map']['mean']:.1f})"
                f", {row['seconds']['mean']:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    return {
        "name": name,
        "svm": {
            "test": _summary([s["test"] for s in svm]),
            "runs": svm,
        },
        "rows": rows,
    }


def _pct(summary: dict[str, float]) -> str:
    return f"{100 * summary['mean']:.1f} +- {100 * summary['sd']:.1f}"


def report_section(results: dict) -> str:
    """Return the markdown section of the FIRST report for these results."""
    seeds = len(results["seeds"])
    lines = [
        "## Do the codes keep what the descriptors know?",
        "",
        "Regenerate with `python benchmarks/bench_hashing.py --first NAME=PATH ... --json PATH`. "
        f"mAP@100 of the test queries against the database (mean +- sd over {seeds} seeds), "
        "beside the test accuracy of the SVM on the same descriptors (C chosen on the "
        "validation split). Recipes (`hashing.RECIPES`, `--recipe` of `train` and `pipeline`): "
        + "; ".join(f"*{name}*: {text}" for name, text in results["recipe_notes"].items())
        + ". Train seconds: wall time of one model on one thread of this machine"
        + (f" ({results['note']})" if results.get("note") else "")
        + ".",
        "",
        "| descriptors | SVM test accuracy | recipe | bits | mAP@100 | valid mAP@100 | train s |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for dataset in results["datasets"]:
        svm = _pct(dataset["svm"]["test"])
        for row in dataset["rows"]:
            lines.append(
                f"| {dataset['name']} | {svm} | {row['recipe']} | {row['bits']} "
                f"| **{_pct(row['test_map'])}** | {_pct(row['valid_map'])} "
                f"| {row['seconds']['mean']:.0f} |"
            )
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    reference_default = Path(os.environ.get("COSFIRE_HASH_REFERENCE", DEFAULT_REFERENCE))
    parser.add_argument("--reference", type=Path, default=reference_default)
    parser.add_argument("--no-reference", action="store_true", help="Skip the authors' file.")
    parser.add_argument("--first", action="append", default=[], metavar="NAME=PATH")
    parser.add_argument("--bits", type=int, nargs="+", default=[16, 36, 64])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        default=None,
        metavar="JSON",
        help="join the data sets of earlier --json outputs (no training)",
    )
    parser.add_argument("--note", default="", help="a remark on the run for the report")
    parser.add_argument(
        "--teacher",
        choices=["none", "svm"],
        default="none",
        help="also train every recipe distilled from this teacher (rows RECIPE+svm)",
    )
    parser.add_argument(
        "--distilled-only", action="store_true", help="with --teacher: only the RECIPE+svm rows"
    )
    parser.add_argument(
        "--mixup-copies", type=int, default=2, help="mixtures per training row (distilled rows)"
    )
    parser.add_argument(
        "--rotated",
        type=int,
        default=0,
        help="rotated training copies of a run folder the teacher labels (distilled rows)",
    )
    args = parser.parse_args(argv)
    if args.merge:
        parts = [json.loads(path.read_text()) for path in args.merge]
        results = {
            "seeds": parts[0]["seeds"],
            "recipe_notes": {k: v for part in parts for k, v in part["recipe_notes"].items()},
            "datasets": [dataset for part in parts for dataset in part["datasets"]],
            "note": args.note,
        }
        if args.json is not None:
            args.json.write_text(json.dumps(results, indent=1))
        print(report_section(results))
        return

    datasets = []
    if not args.no_reference:
        datasets.append(
            bench_dataset(
                "authors' descriptors (their FIRST selection)",
                lambda seed: authors_splits(args.reference, seed),
                args,
            )
        )
    for spec in args.first:
        name, _, path = spec.partition("=")
        arrays = first_splits(Path(path))
        datasets.append(bench_dataset(f"FIRST, {name}", lambda seed, a=arrays: a, args))
    results = {
        "note": args.note,
        "seeds": args.seeds,
        "recipe_notes": {name: RECIPES[name].summary() for name in args.recipes}
        | (
            {
                "RECIPE+svm": "the recipe trained on the training rows plus "
                f"{args.mixup_copies} mixtures per row"
                + (f" and {args.rotated} rotated copies" if args.rotated else "")
                + " labelled by the SVM (chosen on valid, fitted on train + valid)"
            }
            if args.teacher == "svm"
            else {}
        ),
        "datasets": datasets,
    }
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))
    print(report_section(results))


if __name__ == "__main__":
    main()
