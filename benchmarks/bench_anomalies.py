"""Benchmark: finding unusual FIRST radio galaxies by their COSFIRE descriptors or codes.

Data: the FIRST set (``COSFIRE_HASH_DATA``) and its descriptors in ``runs/desc`` for two banks,
the papers' settings (``papers``) and the mixed-scale bank with 1 px smoothing (``mixed``).
Three detectors (:mod:`retrieval.anomalies`): LOF on descriptors, LOF on 36-bit
codes (Hamming), and an isolation forest (200 trees) on the descriptors; and LOF with the
library's defaults (``AnomalyConfig()``, what ``cosfire-hash anomalies`` runs).

(a) Leave one class out: the detector is fitted on the training galaxies of three classes and
    scores the 200 test galaxies of all four; the held-out class (50) is the anomaly. ROC AUC
    and precision@20 (chance: 0.5 and 0.25). The codes of (a) come from a hashing model trained
    without the held-out class (its epoch chosen on the valid galaxies of the other three), so
    the code space has never seen the anomaly.
(b) Injected anomalies: composites no class has, two extended test galaxies (Bent, FRI,
    FRII) of different classes superimposed with the second rotated by 60-120 degrees (pixel-wise sum clipped to [0, 1]:
    X-shaped-like sources), described with the same bank (its preprocessing included) and
    mixed into the 200 test galaxies (10 composites: 4.8 %); the reference is all training
    galaxies, the codes those of one model trained on the four classes (``train_hashing``
    defaults, valid split for the epoch). ROC AUC and precision@10, mean +- sd over 3 seeds of
    the composites (chance: 0.5 and 0.048).

Selection, on the valid split only: LOF's ``n_neighbors`` (and the descriptors' scaling) by
the mean ROC AUC of protocol (a) with the valid galaxies as the scored set; the forest keeps
its defaults. The test split is never used to choose anything.

    flock /tmp/cosfire-heavy.lock python benchmarks/bench_anomalies.py \\
        --json runs/anomalies/anomalies.json

Composite descriptors and hashing models are cached in ``runs/anomalies/`` (keyed by bank
checksum, seed, classes).
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.ndimage import rotate
from sklearn.metrics import roc_auc_score

from cosfire import describe, load_bank, load_descriptors
from cosfire.datasets import open_dataset
from hashing import TrainingConfig, load_model, train_hashing
from retrieval.anomalies import AnomalyConfig, anomaly_scores, rank_by_score

ROOT = Path(__file__).resolve().parents[1]
BANKS = ("papers", "mixed")
DETECTORS = {
    "lof-defaults": AnomalyConfig(),  # what `cosfire-hash anomalies` does unless told otherwise
    "lof-descriptors": AnomalyConfig(method="lof", features="descriptors"),
    "lof-codes": AnomalyConfig(method="lof", features="codes"),
    "iforest-descriptors": AnomalyConfig(method="iforest", features="descriptors"),
}
NEIGHBOURS_GRID = (5, 10, 20, 40, 80, 160)
SCALINGS = ("standard", "l2", "none")
BITS = 36
LOO_TOP = 20
#: classes left out of the composites: FIRST's unresolved sources add only a brighter core
POINT_LIKE_CLASSES = ("Compact",)


def precision_at(scores: np.ndarray, is_anomaly: np.ndarray, k: int) -> float:
    """Fraction of anomalies among the k highest scores (ties by index)."""
    return float(is_anomaly[rank_by_score(scores, k)].mean())


def composites(dataset, *, n: int, seed: int) -> tuple[list[np.ndarray], list[dict]]:
    """``n`` extended test galaxies each summed with one of another extended class, rotated by
    60-120 degrees (a point-like source on the core would not make a new shape)."""
    rng = np.random.default_rng(seed)
    items = [item for item in dataset.items("test") if item.class_name not in POINT_LIKE_CLASSES]
    labels = np.array([item.label for item in items])
    images, recipe = [], []
    for _ in range(n):
        first = int(rng.integers(len(items)))
        second = int(rng.choice(np.flatnonzero(labels != labels[first])))
        angle_deg = float(rng.uniform(60.0, 120.0))
        turned = rotate(dataset.read(items[second]), angle_deg, reshape=False, order=1)
        images.append(np.clip(dataset.read(items[first]) + turned, 0.0, 1.0).astype(np.float32))
        recipe.append(
            {
                "first": dataset.name(items[first]),
                "second": dataset.name(items[second]),
                "angle_deg": round(angle_deg, 2),
            }
        )
    return images, recipe


def composite_descriptors(dataset, bank, bank_name: str, *, n: int, seed: int, cache: Path):
    """Descriptors of the composites of ``seed`` (cached by bank checksum, seed and count)."""
    path = cache / f"composites-extended-{bank_name}-{bank.sha256[:12]}-n{n}-s{seed}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as stored:
            return stored["descriptors"], json.loads(str(stored["recipe"]))
    images, recipe = composites(dataset, n=n, seed=seed)
    descriptors = describe(bank, images, n_jobs=1)
    cache.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp.npz")
    np.savez(temporary, descriptors=descriptors, recipe=json.dumps(recipe))
    os.replace(temporary, path)
    return descriptors, recipe


def train_codes_model(
    train, valid, keep_classes: np.ndarray | None, epochs: int, cache: Path | None = None
):
    """A 36-bit hashing model (``train_hashing`` defaults) on the classes in ``keep_classes``.

    Training is deterministic, so a model in ``cache`` (keyed by descriptors, classes and
    epochs) is reused.
    """
    if cache is not None:
        kept = "all" if keep_classes is None else "".join(str(int(c)) for c in keep_classes)
        path = cache / f"codes-{train.bank_sha256[:12]}-{BITS}b-c{kept}-e{epochs}.pt"
        if path.is_file():
            return load_model(path)
        model = train_codes_model(train, valid, keep_classes, epochs)
        cache.mkdir(parents=True, exist_ok=True)
        model.save(path)
        return model
    train_rows = (
        np.ones(train.n_images, bool)
        if keep_classes is None
        else np.isin(train.labels, keep_classes)
    )
    valid_rows = (
        np.ones(valid.n_images, bool)
        if keep_classes is None
        else np.isin(valid.labels, keep_classes)
    )
    # labels renumbered 0..C-1 so the auxiliary classifier has no empty class
    _, train_y = np.unique(train.labels[train_rows], return_inverse=True)
    _, valid_y = np.unique(valid.labels[valid_rows], return_inverse=True)
    model, _ = train_hashing(
        train.descriptors[train_rows],
        train_y,
        valid.descriptors[valid_rows],
        valid_y,
        config=TrainingConfig(bits=BITS, epochs=epochs),
        bank_sha256=train.bank_sha256,
    )
    return model


def leave_one_class_out(train, scored, config: AnomalyConfig, models: dict | None):
    """Per held-out class: ROC AUC and precision@20 of ``scored`` against three classes."""
    rows = {}
    for held_out, class_name in enumerate(train.class_names):
        keep = train.labels != held_out
        reference, queries = train.descriptors[keep], scored.descriptors
        if config.features == "codes":
            model = models[held_out]
            reference, queries = model.encode(reference), model.encode(queries)
        scores = anomaly_scores(queries, reference=reference, config=config)
        is_anomaly = scored.labels == held_out
        rows[class_name] = {
            "auc": float(roc_auc_score(is_anomaly, scores)),
            f"precision_at_{LOO_TOP}": precision_at(scores, is_anomaly, LOO_TOP),
        }
    rows["mean"] = {
        key: float(np.mean([rows[c][key] for c in train.class_names]))
        for key in ("auc", f"precision_at_{LOO_TOP}")
    }
    return rows


def select_on_valid(train, valid, config: AnomalyConfig, models: dict | None):
    """The LOF settings with the best mean AUC of (a) on the valid split, and the whole grid."""
    grid = {}
    scalings = SCALINGS if config.features == "descriptors" else ("none",)
    for scaling in scalings:
        for neighbours in NEIGHBOURS_GRID:
            candidate = replace(config, n_neighbors=neighbours, scaling=scaling)
            auc = leave_one_class_out(train, valid, candidate, models)["mean"]["auc"]
            grid[f"{scaling}/{neighbours}"] = round(auc, 4)
    best = max(grid, key=lambda key: (grid[key], key))
    scaling, neighbours = best.split("/")
    return replace(config, scaling=scaling, n_neighbors=int(neighbours)), grid


def injected(train, test, extra: list[np.ndarray], config: AnomalyConfig, model):
    """ROC AUC and precision@k of the composites of every seed mixed into the test split."""
    aucs, precisions = [], []
    reference = train.descriptors if model is None else model.encode(train.descriptors)
    for composite in extra:
        queries = np.vstack([test.descriptors, composite])
        if model is not None:
            queries = model.encode(queries)
        is_anomaly = np.r_[np.zeros(test.n_images, bool), np.ones(len(composite), bool)]
        scores = anomaly_scores(queries, reference=reference, config=config)
        aucs.append(float(roc_auc_score(is_anomaly, scores)))
        precisions.append(precision_at(scores, is_anomaly, len(composite)))
    return {
        "auc": aucs,
        "precision_at_k": precisions,
        "auc_mean": float(np.mean(aucs)),
        "auc_sd": float(np.std(aucs, ddof=1)),
        "precision_mean": float(np.mean(precisions)),
        "precision_sd": float(np.std(precisions, ddof=1)),
    }


def run_bank(bank_name: str, dataset, args) -> dict:
    desc = args.descriptors
    train, valid, test = (
        load_descriptors(desc / f"{bank_name}.{split}.npz") for split in ("train", "valid", "test")
    )
    bank = load_bank(desc / f"{bank_name}.bank.json")
    loo_models = {
        held_out: train_codes_model(
            train,
            valid,
            np.setdiff1d(np.arange(len(train.class_names)), [held_out]),
            args.epochs,
            args.cache,
        )
        for held_out in range(len(train.class_names))
    }
    full_model = train_codes_model(train, valid, None, args.epochs, args.cache)
    extra, recipes = [], []
    for seed in args.seeds:
        descriptors, recipe = composite_descriptors(
            dataset, bank, bank_name, n=args.injected, seed=seed, cache=args.cache
        )
        extra.append(descriptors)
        recipes.append(recipe)
    result: dict = {"selection": {}, "leave_one_class_out": {}, "injected": {}, "settings": {}}
    for name, config in DETECTORS.items():
        models = loo_models if config.features == "codes" else None
        if config.method == "lof" and name != "lof-defaults":
            config, grid = select_on_valid(train, valid, config, models)
            result["selection"][name] = grid
        result["settings"][name] = config.to_dict()
        result["leave_one_class_out"][name] = leave_one_class_out(train, test, config, models)
        model = full_model if config.features == "codes" else None
        result["injected"][name] = injected(train, test, extra, config, model)
        print_bank_method(bank_name, name, config, result)
    result["composites"] = recipes
    return result


def print_bank_method(bank_name: str, name: str, config: AnomalyConfig, result: dict) -> None:
    loo = result["leave_one_class_out"][name]
    inj = result["injected"][name]
    classes = [c for c in loo if c != "mean"]
    settings = (
        f"k={config.n_neighbors}, {config.scaling}" if config.method == "lof" else "200 trees"
    )
    print(f"[{bank_name}] {name} ({settings})")
    print("  held out   " + "  ".join(f"{c:>8}" for c in [*classes, "mean"]))
    print("  AUC        " + "  ".join(f"{loo[c]['auc']:8.3f}" for c in [*classes, "mean"]))
    print(
        f"  P@{LOO_TOP}       "
        + "  ".join(f"{loo[c][f'precision_at_{LOO_TOP}']:8.2f}" for c in [*classes, "mean"])
    )
    print(
        f"  injected composites: AUC {inj['auc_mean']:.3f} +- {inj['auc_sd']:.3f}, "
        f"P@k {inj['precision_mean']:.2f} +- {inj['precision_sd']:.2f}"
    )


def _pm(mean: float, sd: float, digits: int) -> str:
    return f"{mean:.{digits}f} +- {sd:.{digits}f}"


def report_section(results: dict) -> str:
    """Return the markdown section "Unusual galaxies (anomalies)" of the FIRST report.

    Parameters
    ----------
    results : dict
        The JSON this script writes with ``--json``.

    Examples
    --------
    >>> results = json.loads(Path("runs/anomalies/anomalies.json").read_text())  # doctest: +SKIP
    >>> report_section(results).splitlines()[0]  # doctest: +SKIP
    '## Unusual galaxies (anomalies)'
    """
    banks = results["banks"]
    seeds = results["seeds"]
    lines = [
        "## Unusual galaxies (anomalies)",
        "",
        "`cosfire-hash anomalies ARCHIVE` ranks an archive's galaxies (or new ones against it) by "
        "how unusual they are. Two tests on the FIRST test split, scores higher = more unusual: "
        "(a) leave one class out, the detector fitted on the training galaxies of three classes, "
        "the fourth class's 50 test galaxies the anomalies among 200 (ROC AUC, precision@"
        f"{LOO_TOP}; chance 0.5 and 0.25); (b) {results['injected']} composites per draw (two "
        "extended test galaxies of different classes superimposed, one rotated by 60-120 degrees: "
        "X-shaped-like sources) mixed into the 200 test galaxies, reference all training "
        f"galaxies (ROC AUC, precision@{results['injected']}; mean +- sd over {len(seeds)} "
        "draws). LOF's neighbours and scaling were chosen on the valid split; codes are 36 "
        "bits (`train_hashing` defaults; for (a) a model that never saw the held-out class).",
        "",
    ]
    for bank_name, bank in banks.items():
        classes = [c for c in next(iter(bank["leave_one_class_out"].values())) if c != "mean"]
        lines += [
            f"**{results['bank_titles'].get(bank_name, bank_name)}**",
            "",
            "| detector | "
            + " | ".join(f"AUC {c} out" for c in classes)
            + f" | AUC mean | P@{LOO_TOP} mean | composites AUC | composites P@k |",
            "|---" * (len(classes) + 5) + "|",
        ]
        for name, loo in bank["leave_one_class_out"].items():
            settings = bank["settings"][name]
            label = name + (
                f" (k={settings['n_neighbors']}, {settings['scaling']})"
                if settings["method"] == "lof" and settings["features"] == "descriptors"
                else f" (k={settings['n_neighbors']})"
                if settings["method"] == "lof"
                else ""
            )
            inj = bank["injected"][name]
            lines.append(
                f"| {label} | "
                + " | ".join(f"{loo[c]['auc']:.3f}" for c in classes)
                + f" | {loo['mean']['auc']:.3f} | {loo['mean'][f'precision_at_{LOO_TOP}']:.2f}"
                + f" | {_pm(inj['auc_mean'], inj['auc_sd'], 3)}"
                + f" | {_pm(inj['precision_mean'], inj['precision_sd'], 2)} |"
            )
        lines.append("")
    best = max(
        ((b, n) for b in banks for n in banks[b]["injected"]),
        key=lambda pair: banks[pair[0]]["injected"][pair[1]]["auc_mean"],
    )
    inj = banks[best[0]]["injected"][best[1]]
    lines += [
        f"Best on the composites: {best[1]} on the {best[0]} bank, ROC AUC "
        f"{_pm(inj['auc_mean'], inj['auc_sd'], 3)}, precision@{results['injected']} "
        f"{_pm(inj['precision_mean'], inj['precision_sd'], 2)}. "
        f"Regenerate with `{results['command']}`.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--descriptors", type=Path, default=ROOT / "runs" / "desc")
    parser.add_argument("--banks", nargs="+", default=list(BANKS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--injected", type=int, default=10, help="Composites per seed.")
    parser.add_argument("--cache", type=Path, default=ROOT / "runs" / "anomalies")
    parser.add_argument(
        "--epochs",
        type=int,
        default=TrainingConfig().epochs,
        help="Most hashing epochs (fewer only for a quick trial).",
    )
    parser.add_argument("--json", type=Path, help="Write the results here.")
    parser.add_argument("--markdown", type=Path, help="Write report_section's markdown here.")
    args = parser.parse_args()
    dataset = open_dataset(os.environ.get("COSFIRE_HASH_DATA", "first"))
    results = {
        "format_version": 1,
        "command": "python benchmarks/bench_anomalies.py"
        + (f" --json {args.json}" if args.json else ""),
        "seeds": args.seeds,
        "injected": args.injected,
        "bank_titles": {
            "papers": "Papers' bank (372 filters)",
            "mixed": "Mixed-scale bank (DoG sigmas 2, 3, 5; 1 px smoothing)",
        },
        "neighbours_grid": list(NEIGHBOURS_GRID),
        "banks": {name: run_bank(name, dataset, args) for name in args.banks},
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        temporary = args.json.with_suffix(".tmp")
        temporary.write_text(json.dumps(results, indent=1))
        os.replace(temporary, args.json)
        print(f"wrote {args.json}")
    markdown = report_section(results)
    print()
    print(markdown)
    if args.markdown:
        args.markdown.write_text(markdown)


if __name__ == "__main__":
    main()
