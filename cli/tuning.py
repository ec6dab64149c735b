"""Parameter search for COSFIRE banks by repeated stratified cross-validation on train + valid.

Every setting of a grid configures a *pool* bank (``pool_per_class`` prototypes per class
drawn from train + valid) and describes train + valid and test with it. In each fold of
:func:`retrieval.classification.cross_validate`, ``per_class`` filters per class are drawn
among the pool filters whose prototype lies in the fold's training rows, so that no held-out
galaxy describes itself (the protocol of ``benchmarks/bench_descriptor_ablation.py``), and the
quadratic SVM of :class:`retrieval.classification.SVMProtocol` scores them. All settings use
the same folds, so every setting is compared with the best by the paired test
:func:`retrieval.classification.compare_paired`. The test split is used once, for the chosen
setting: an SVM trained on train + valid (C chosen by the cross-validation), its accuracy with
the 95 % Wilson interval of :func:`retrieval.classification.accuracy_interval`.

The module is click-free (a notebook can call :func:`tune`); it lives in ``cli`` because it
joins ``cosfire`` (banks, descriptors) and ``retrieval`` (the SVM protocol), and ``cosfire``
imports no other project package.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from cosfire.configure import FilterConfig
    from retrieval.classification import CrossValidation

__all__ = [
    "PAPER_GRID",
    "SettingScore",
    "TuneConfig",
    "TuneResults",
    "grid_settings",
    "score_setting",
    "tune",
]

#: the radio papers' grid: sigma about 5-6, rho up to 25 or 30 in steps of 5, t1, sigma0, alpha
PAPER_GRID: dict[str, tuple[Any, ...]] = {
    "sigma": (4.0, 5.0, 6.0),
    "rho_max": (20, 25, 30),
    "t1": (0.05, 0.10),
    "sigma0": (0.50, 0.75),
    "alpha": (0.10, 0.15),
}


@dataclass(frozen=True)
class TuneConfig:
    """What :func:`tune` searches and how it scores.

    Parameters
    ----------
    grid : mapping of str to sequence
        FilterConfig options and their candidate values (``rho_max``: circle radii 0 to
        rho_max in steps of 5 px).
    per_class : int
        Filters per class of the scored banks.
    pool_per_class : int
        Prototypes per class of every setting's pool bank (each fold draws ``per_class``
        among those in its training rows); at least ``per_class + development_per_class /
        folds``, so that every fold finds enough; capped at the images of the smallest class.
    development_per_class : int
        Images per class drawn from train + valid for the cross-validation (cost).
    folds, repeats : int
        ``repeats`` times ``folds`` stratified folds.
    seed : int
        Seed of the image subset, the pool prototypes, the folds and the final filter draw.

    Examples
    --------
    >>> TuneConfig(grid={"sigma": [4, 5]}).settings()
    [{'sigma': 4}, {'sigma': 5}]
    """

    grid: Mapping[str, tuple[Any, ...]] = field(default_factory=lambda: dict(PAPER_GRID))
    per_class: int = 25
    pool_per_class: int = 50
    development_per_class: int = 100
    folds: int = 5
    repeats: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        from cosfire.configure import FilterConfig

        grid = {str(k): tuple(v) for k, v in dict(self.grid).items()}
        allowed = {f.name for f in fields(FilterConfig)} | {"rho_max"}
        unknown = sorted(set(grid) - allowed)
        if unknown:
            raise ValueError(
                f"grid options {unknown} are not FilterConfig fields (nor rho_max); see "
                "cosfire.configure.FilterConfig"
            )
        if not grid or not all(grid.values()):
            raise ValueError(f"the grid needs at least one value for every option, got {grid}")
        object.__setattr__(self, "grid", grid)
        if self.per_class < 1 or self.pool_per_class < self.per_class:
            raise ValueError(
                f"need 1 <= per_class <= pool_per_class, got {self.per_class} and "
                f"{self.pool_per_class}"
            )
        # every fold holds out about development_per_class / folds images of a class, so
        # a pool this large always leaves per_class prototypes in the training rows
        needed = self.per_class + math.ceil(self.development_per_class / max(self.folds, 1))
        if self.pool_per_class < needed:
            raise ValueError(
                f"pool_per_class must be >= per_class + development_per_class / folds = "
                f"{needed}, got {self.pool_per_class}"
            )
        if self.folds < 2 or self.repeats < 1:
            raise ValueError(f"need folds >= 2 and repeats >= 1, got {self.folds}, {self.repeats}")
        if self.development_per_class < self.folds:
            raise ValueError(
                f"development_per_class ({self.development_per_class}) must be >= folds "
                f"({self.folds})"
            )

    def settings(self) -> list[dict[str, Any]]:
        """Return every combination of the grid's values, options in sorted order."""
        return grid_settings(self.grid)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict."""
        return {
            "grid": {k: list(v) for k, v in self.grid.items()},
            "per_class": self.per_class,
            "pool_per_class": self.pool_per_class,
            "development_per_class": self.development_per_class,
            "folds": self.folds,
            "repeats": self.repeats,
            "seed": self.seed,
        }


def grid_settings(grid: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return every combination of ``grid``'s values as a dict, options in sorted order.

    Examples
    --------
    >>> grid_settings({"t1": [0.05, 0.1], "sigma": [5]})
    [{'sigma': 5, 't1': 0.05}, {'sigma': 5, 't1': 0.1}]
    """
    keys = sorted(grid)
    return [
        dict(zip(keys, values, strict=True))
        for values in itertools.product(*(grid[k] for k in keys))
    ]


def _filter_config(base: FilterConfig, setting: Mapping[str, Any]) -> FilterConfig:
    import numpy as np

    changes = {k: v for k, v in setting.items() if k != "rho_max"}
    if "rho_max" in setting:
        step = 5.0
        changes["rhos"] = tuple(float(r) for r in np.arange(0.0, setting["rho_max"] + 1e-9, step))
    return replace(base, **changes)


def draw_filters(
    filter_class: np.ndarray,
    prototype_row: np.ndarray,
    per_class: int,
    allowed_rows: np.ndarray,
    seed: int,
) -> np.ndarray:
    """Return ``per_class`` filter indices per class whose prototype is in ``allowed_rows``.

    Examples
    --------
    >>> import numpy as np
    >>> draw_filters(np.array([0, 0, 1, 1]), np.array([0, 1, 2, 3]), 1, np.array([1, 2]), 0)
    array([1, 2])
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    allowed = np.isin(prototype_row, allowed_rows)
    chosen = []
    for label in np.unique(filter_class):
        candidates = np.flatnonzero(allowed & (filter_class == label))
        if candidates.size < per_class:
            raise ValueError(
                f"class {label}: {candidates.size} pool filters have a prototype in the fold's "
                f"training rows, {per_class} needed; raise pool_per_class"
            )
        chosen.append(np.sort(rng.choice(candidates, size=per_class, replace=False)))
    return np.concatenate(chosen)


@dataclass(frozen=True)
class SettingScore:
    """One grid setting scored by cross-validation (``cv`` None: no bank could be made)."""

    setting: dict[str, Any]
    cv: CrossValidation | None
    mean_tuples: float | None = None
    error: str | None = None
    features: np.ndarray | None = field(default=None, repr=False, compare=False)
    filter_class: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def accuracy(self) -> float | None:
        """Mean fold accuracy at the best C, or None."""
        return None if self.cv is None else self.cv.mean

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict: the setting, ``cv_accuracy``, ``cv_sd``, ``C``."""
        if self.cv is None:
            return {**self.setting, "cv_accuracy": None, "error": self.error}
        return {
            **self.setting,
            "cv_accuracy": self.cv.mean,
            "cv_sd": self.cv.sd,
            "C": self.cv.best_c,
            "mean_tuples": self.mean_tuples,
            "cv": self.cv.to_dict(),
        }


def score_setting(
    setting: Mapping[str, Any],
    config: TuneConfig,
    development,
    test,
    read: Callable[[Any], Any],
    class_names,
    names,
) -> SettingScore:
    """Return ``setting`` scored by cross-validation on ``development`` items.

    ``development`` and ``test`` are item lists with ``label``; ``names`` maps an item to the
    name a filter records as its source. The pool bank's descriptors of development then test
    items come back in ``features`` (for the final test of the chosen setting).
    """
    import numpy as np

    from cosfire.bank import configure_bank
    from cosfire.configure import FilterConfig
    from cosfire.descriptor import describe
    from retrieval.classification import SVMProtocol, cross_validate

    labels = np.array([item.label for item in development])
    smallest = int(np.bincount(labels).min())
    try:
        bank = configure_bank(
            development,
            labels,
            class_names=class_names,
            per_class=min(config.pool_per_class, smallest),
            seed=config.seed,
            config=_filter_config(FilterConfig(), setting),
            read=read,
            sources=[names(item) for item in development],
        )
    except ValueError as error:
        return SettingScore(dict(setting), None, error=str(error))
    row_of = {names(item): row for row, item in enumerate(development)}
    prototype_row = np.array([row_of[f.source] for f in bank.filters])
    filter_class = np.asarray(bank.filter_class)
    features = describe(bank, [*development, *test], read=read)
    development_x = features[: len(development), : bank.n_filters]

    def columns(training_rows: np.ndarray, fold: int) -> np.ndarray:
        return draw_filters(
            filter_class, prototype_row, config.per_class, training_rows, seed=1000 + fold
        )

    try:
        validation = cross_validate(
            development_x,
            labels,
            folds=config.folds,
            repeats=config.repeats,
            seed=config.seed,
            protocol=SVMProtocol(),
            columns=columns,
        )
    except ValueError as error:
        return SettingScore(dict(setting), None, error=str(error))
    return SettingScore(
        dict(setting),
        validation,
        mean_tuples=float(np.mean([len(f.tuples) for f in bank.filters])),
        features=features,
        filter_class=filter_class,
    )


@dataclass(frozen=True)
class TuneResults:
    """The outcome of :func:`tune` (written as ``tune.json``; ``best.json`` holds the chosen
    filter options for ``cosfire-hash pipeline --params``).

    ``against_best[i]`` is the paired comparison of setting ``i`` with the best (setting minus
    best, over the same folds; None for the best itself and for failed settings). The test
    fields are None when the data set has no test split.
    """

    config: TuneConfig
    scores: tuple[SettingScore, ...]
    best: SettingScore
    best_filter_config: FilterConfig
    against_best: tuple[dict[str, float] | None, ...]
    test_accuracy: float | None = None
    test_interval: tuple[float, float] | None = None
    test_images: int = 0

    def ranked(self) -> list[tuple[SettingScore, dict[str, float] | None]]:
        """Return (score, comparison with the best) of every scored setting, best first."""
        scored = [
            (score, against)
            for score, against in zip(self.scores, self.against_best, strict=True)
            if score.cv is not None
        ]
        return sorted(scored, key=lambda pair: -pair[0].cv.mean)

    def to_dict(self) -> dict[str, Any]:
        """Return the layout of ``tune.json``."""
        results = []
        for score, against in zip(self.scores, self.against_best, strict=True):
            row = score.to_dict()
            if against is not None:
                row["against_best"] = against
            results.append(row)
        return {
            **self.config.to_dict(),
            "protocol": "repeated stratified CV on train + valid; prototypes of every fold's "
            "filters in its training rows; test split once for the chosen setting",
            "results": results,
            "best": self.best.to_dict(),
            "test": None
            if self.test_accuracy is None
            else {
                "accuracy": self.test_accuracy,
                "interval_95": list(self.test_interval),
                "images": self.test_images,
            },
        }


def tune(
    dataset,
    out: Path | None,
    config: TuneConfig | None = None,
    *,
    n_jobs: int = 2,
    progress: Callable[[int], None] | None = None,
) -> TuneResults:
    """Score every setting of ``config.grid`` by cross-validation; test the best once.

    Parameters
    ----------
    dataset : cosfire.datasets.Dataset
        Labelled images with train and valid splits (and test, for the final report).
    out : Path or None
        Folder for ``tune.json`` and ``best.json`` (None: write nothing).
    config : TuneConfig, optional
    n_jobs : int
        Settings scored in parallel.
    progress : callable, optional
        Called with 1 after every setting.

    Returns
    -------
    TuneResults

    Examples
    --------
    >>> from cosfire.datasets import open_dataset
    >>> config = TuneConfig(grid={"sigma": [3.0, 5.0]}, per_class=2, pool_per_class=6,
    ...                     development_per_class=12, folds=3, repeats=1)
    >>> results = tune(open_dataset("synthetic"), None, config, n_jobs=1)  # doctest: +SKIP
    >>> results.best.setting, results.test_interval  # doctest: +SKIP
    ({'sigma': 5.0}, (0.6..., 0.9...))
    """
    import numpy as np
    from joblib import Parallel, delayed

    from cosfire import atomic_write
    from cosfire.configure import FilterConfig
    from cosfire.datasets import stratified_subset
    from retrieval.classification import (
        SVMProtocol,
        accuracy_interval,
        compare_paired,
        svm_accuracy,
    )

    config = TuneConfig() if config is None else config
    for split in ("train", "valid"):
        if split not in dataset.splits:
            raise ValueError(f"{dataset.source} has splits {dataset.splits}; tune needs {split}")
    development = stratified_subset(
        [*dataset.items("train"), *dataset.items("valid")],
        config.development_per_class,
        seed=config.seed,
    )
    test = dataset.items("test") if "test" in dataset.splits else []
    arguments = (config, development, test, dataset.read, dataset.class_names, dataset.name)
    scores = []
    for score in Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(score_setting)(setting, *arguments) for setting in config.settings()
    ):
        scores.append(score)
        if progress is not None:
            progress(1)
    scored = [s for s in scores if s.cv is not None]
    if not scored:
        reasons = "; ".join(sorted({str(s.error) for s in scores}))
        raise ValueError(f"no setting of the grid could be scored ({reasons}); widen the grid")
    best = max(scored, key=lambda s: s.cv.mean)  # the first of equals wins
    against = tuple(
        None if s is best or s.cv is None else compare_paired(best.cv, s.cv).to_dict()
        for s in scores
    )
    best_config = _filter_config(FilterConfig(), best.setting)
    accuracy = interval = None
    if test:
        labels = np.array([item.label for item in [*development, *test]])
        filters = draw_filters(
            best.filter_class,
            np.zeros(best.filter_class.size, dtype=np.int64),  # every prototype is usable
            config.per_class,
            np.zeros(1, dtype=np.int64),
            seed=config.seed,
        )
        x = best.features[:, filters]
        rows = len(development)
        accuracy, _ = svm_accuracy(
            x[:rows],
            labels[:rows],
            x[rows:],
            labels[rows:],
            c=best.cv.best_c,
            protocol=SVMProtocol(),
        )
        interval = accuracy_interval(accuracy, len(test))
    results = TuneResults(
        config=config,
        scores=tuple(scores),
        best=best,
        best_filter_config=best_config,
        against_best=against,
        test_accuracy=accuracy,
        test_interval=interval,
        test_images=len(test),
    )
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        with atomic_write(out / "tune.json", "w") as handle:
            json.dump(results.to_dict(), handle, indent=1)
        chosen = {
            "filter_config": best_config.to_dict(),
            "cv_accuracy": best.cv.mean,
            "test_accuracy": accuracy,
            "test_interval_95": None if interval is None else list(interval),
        }
        with atomic_write(out / "best.json", "w") as handle:
            json.dump(chosen, handle, indent=1)
    return results
