"""Parameter search for COSFIRE banks, scored on the validation split as the classification
paper did (an SVM with a quadratic kernel on the descriptors)."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from cosfire import atomic_write

__all__ = ["PAPER_GRID", "grid_settings", "score_setting", "svm_valid_accuracy", "tune"]

#: the radio papers' grid: sigma about 5-6, rho up to 25 or 30 in steps of 5, t1, sigma0, alpha
PAPER_GRID: dict[str, list[Any]] = {
    "sigma": [4.0, 5.0, 6.0],
    "rho_max": [20, 25, 30],
    "t1": [0.05, 0.10],
    "sigma0": [0.50, 0.75],
    "alpha": [0.10, 0.15],
}


def grid_settings(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    keys = sorted(grid)
    return [
        dict(zip(keys, values, strict=True))
        for values in itertools.product(*(grid[k] for k in keys))
    ]


def _filter_config(base, setting: dict[str, Any]):
    changes = {k: v for k, v in setting.items() if k != "rho_max"}
    if "rho_max" in setting:
        step = 5.0
        changes["rhos"] = tuple(float(r) for r in np.arange(0.0, setting["rho_max"] + 1e-9, step))
    return replace(base, **changes)


def svm_valid_accuracy(
    train_x: np.ndarray,
    train_y: np.ndarray,
    valid_x: np.ndarray,
    valid_y: np.ndarray,
    cs: tuple[float, ...] = (1.0, 10.0, 100.0),
) -> dict[float, float]:
    """Validation accuracy of a quadratic-kernel SVM on L2-normalised descriptors, per C."""
    from sklearn.preprocessing import normalize
    from sklearn.svm import SVC

    train_x, valid_x = normalize(train_x), normalize(valid_x)
    return {
        c: float((SVC(kernel="poly", degree=2, C=c).fit(train_x, train_y).predict(valid_x)
                  == valid_y).mean())
        for c in cs
    }  # fmt: skip


def score_setting(
    setting: dict[str, Any],
    base_config,
    train_items,
    train_labels,
    valid_items,
    valid_labels,
    read,
    class_names,
    per_class: int,
    seed: int,
) -> dict[str, Any]:
    """Return the setting with its validation accuracy (best C) and descriptor statistics."""
    from cosfire.bank import configure_bank
    from cosfire.descriptor import describe

    config = _filter_config(base_config, setting)
    try:
        bank = configure_bank(
            train_items, train_labels, class_names=class_names, per_class=per_class, seed=seed,
            config=config, read=read,
        )  # fmt: skip
    except ValueError as error:
        return {**setting, "valid_accuracy": None, "error": str(error)}
    accuracy = svm_valid_accuracy(
        describe(bank, train_items, read=read), train_labels,
        describe(bank, valid_items, read=read), valid_labels,
    )  # fmt: skip
    best_c = max(accuracy, key=accuracy.get)
    return {**setting, "valid_accuracy": accuracy[best_c], "C": best_c,
            "mean_tuples": float(np.mean([len(f.tuples) for f in bank.filters]))}  # fmt: skip


def tune(
    dataset,
    out: Path,
    *,
    grid: dict[str, list[Any]] | None = None,
    per_class: int = 25,
    train_per_class: int = 100,
    seed: int = 0,
    n_jobs: int = 2,
    progress=None,
) -> dict[str, Any]:
    """Score every setting of ``grid`` on the valid split; write tune.json and best.json."""
    from joblib import Parallel, delayed

    from cosfire.configure import FilterConfig
    from cosfire.datasets import stratified_subset

    grid = PAPER_GRID if grid is None else grid
    train_items = stratified_subset(dataset.items("train"), train_per_class, seed=seed)
    valid_items = dataset.items("valid")
    arguments = (
        FilterConfig(), train_items, np.array([i.label for i in train_items]), valid_items,
        np.array([i.label for i in valid_items]), dataset.read, dataset.class_names, per_class, seed,
    )  # fmt: skip
    results = []
    for result in Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(score_setting)(setting, *arguments) for setting in grid_settings(grid)
    ):
        results.append(result)
        if progress is not None:
            progress(1)
    scored = [r for r in results if r["valid_accuracy"] is not None]
    if not scored:
        raise ValueError("no setting of the grid could configure a bank; widen the grid")
    best = max(scored, key=lambda r: r["valid_accuracy"])
    best_config = _filter_config(FilterConfig(), {k: v for k, v in best.items() if k in grid})
    summary = {"grid": grid, "per_class": per_class, "train_per_class": train_per_class,
               "seed": seed, "results": results, "best": best}  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    with atomic_write(out / "tune.json", "w") as handle:
        json.dump(summary, handle, indent=1)
    with atomic_write(out / "best.json", "w") as handle:
        json.dump(
            {"filter_config": best_config.to_dict(), "valid_accuracy": best["valid_accuracy"]},
            handle,
            indent=1,
        )
    return summary
