"""Benchmark: what every change to the bank adds to the SVM accuracy of FIRST descriptors.

    python benchmarks/bench_descriptor_ablation.py [--out runs/ablation] [--json PATH]
        [--folds 5] [--repeats 2] [--draws 3] [--pool-per-class 200] [--no-hashing]
        [--rows KEY,KEY,...] [--reference KEY]

Protocol (issue 15, item 6). Settings are compared by repeated stratified cross-validation on
train + valid (1,958 galaxies), and the test split (200) is scored once per row:

* a *pool* bank per setting is configured once, its prototypes drawn from train + valid
  (``--pool-per-class`` per class, seed 0), and every galaxy is described with it once;
* in each fold, every class's filters are drawn (seeded by the fold) among the pool filters
  whose prototype lies in the fold's training rows, so no held-out galaxy describes itself;
* the SVM is the one protocol of :mod:`retrieval.classification` (quadratic kernel); for each
  row its row normalisation (``l2`` or ``l2+standard``) and C are those of highest mean CV
  accuracy; rows are compared with the previous row by the corrected resampled t-test on the
  same folds;
* the test accuracy of a row: ``--draws`` draws of filters whose prototypes lie in the train
  split, SVM trained on train with C chosen on valid, mean +- sd over the draws, with the 95 %
  Wilson interval of a 200-galaxy accuracy beside it;
* the 36-bit mAP@100 (queries test, database train) of the library's default hashing model
  on the same descriptors, mean +- sd over the draws (skipped with ``--no-hashing``).

Rows marked "not COSFIRE" add measurements of :mod:`cosfire.morphology` (radial flux profile,
angular harmonics, moments and region properties, rotation-invariant LBP).
Describing the pools takes a few minutes per setting on 2 cores; they are cached in ``--out``.

``--rows`` scores only the rows with those keys (and describes only the pools they need);
``--reference KEY`` compares every row with that row instead of the row above. The rows
``upsilon-max``, ``upsilon-all``, ``extent``, ``rotation``, ``mrmr`` and ``pushpull`` measure
the directions of issue 15 on top of the recommended setting; they are prototypes written in
this script (not library options):

* ``upsilon-*``: every pool filter also applied at scales upsilon = 2**-0.5 and 2**0.5 (rho
  *and* the DoG sigma multiplied by upsilon, the 2013 paper's scale tolerance); ``-max`` keeps
  the maximum over the three scales per filter, ``-all`` keeps the three values;
* ``extent``: every image (prototypes too) zoomed about its centre so that the flux-weighted
  second-moment radius of its preprocessed source equals the development median (factor
  clipped to 0.5-2), then the recommended bank configured and applied as usual;
* ``rotation``: beside each filter's maximum, cos and sin of twice the rotation at which it
  fired, relative to the image's dominant rotation (response-weighted circular mean of the
  doubled rotations of all filters; rotation invariant, 0 where the filter is silent);
* ``mrmr``: the filters of each class chosen by greedy forward selection (minimum-redundancy
  maximum-relevance, quotient form: ANOVA F over mean absolute correlation with the filters
  already chosen, classes in turn) on the training rows of each fold (train split for test);
* ``pushpull``: input-level push-pull inhibition: every DoG channel's response becomes
  ``max(0, DoG_on(sigma) - nu * DoG_off(xi * sigma))`` with nu = 1, xi = 2 (``pushpull``) or
  nu = 2 (``pushpull-strong``; not tuned), the pool's tuples kept (configured on the push
  responses).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cli.tuning import draw_filters  # noqa: E402
from cosfire.bank import FilterBank, configure_bank, load_bank  # noqa: E402
from cosfire.configure import FilterConfig  # noqa: E402
from cosfire.datasets import open_dataset  # noqa: E402
from cosfire.descriptor import describe_report  # noqa: E402
from cosfire.filter import CosfireFilter, CosfireTuple  # noqa: E402
from cosfire.input_filters import DoGChannel, dog_response  # noqa: E402
from cosfire.morphology import MORPHOLOGY_GROUPS, morphology_features, morphology_names  # noqa: E402
from cosfire.preprocess import Preprocessing, preprocess  # noqa: E402
from retrieval.classification import (  # noqa: E402
    SVMProtocol,
    accuracy_interval,
    compare_paired,
    cross_validate,
    svm_accuracy,
    svm_accuracy_by_c,
)

NORMALISATIONS = ("l2", "l2+standard")


@dataclass(frozen=True)
class Pool:
    """A bank setting whose pool of filters is described once."""

    name: str
    sigmas: tuple[float, ...]
    smooth_px: float | None
    scales: tuple[float, ...] = (1.0,)
    derived: str = ""  # "", "upsilon", "pushpull" (from the mixed-smooth bank) or "extent"
    push_pull: tuple[float, float] = (1.0, 2.0)  # nu, xi of a "pushpull" pool


@dataclass(frozen=True)
class Row:
    """One row of the ablation: a pool, filters per class, morphology groups."""

    label: str
    pool: str | None
    per_class: int = 0
    extras: tuple[str, ...] = ()
    hashed: bool = True
    key: str = ""
    select: str = "random"  # or "mrmr"

    @property
    def cosfire_only(self) -> bool:
        return not self.extras


POOLS = (
    Pool("papers", (5.0,), None),
    Pool("mixed-smooth", (2.0, 3.0, 5.0), 1.0),
    Pool("upsilon", (2.0, 3.0, 5.0), 1.0, derived="upsilon"),
    Pool("pushpull", (2.0, 3.0, 5.0), 1.0, derived="pushpull"),
    Pool("pushpull-strong", (2.0, 3.0, 5.0), 1.0, derived="pushpull", push_pull=(2.0, 2.0)),
    Pool("extent", (2.0, 3.0, 5.0), 1.0, derived="extent"),
)

#: Scale factors of the ``upsilon`` pool (beside 1, which is the mixed-smooth pool itself).
UPSILONS = (2.0**-0.5, 2.0**0.5)

#: Feature sets built from the described pools: name -> (pools it reads).
VIEWS = {
    "papers": ("papers",),
    "mixed-smooth": ("mixed-smooth",),
    "upsilon-max": ("mixed-smooth", "upsilon"),
    "upsilon-all": ("mixed-smooth", "upsilon"),
    "rotation": ("mixed-smooth",),
    "rotation-weighted": ("mixed-smooth",),
    "pushpull": ("pushpull",),
    "pushpull-strong": ("pushpull-strong",),
    "extent": ("extent",),
    "mixed+extent": ("mixed-smooth", "extent"),
}

RECOMMENDED_EXTRAS = ("radial", "angular")

#: How a row reads when it heads a table as the reference (``--reference``), rather than
#: below the rows it adds to.
REFERENCE_LABELS = {
    "recommended": "the recommended preset: mixed bank (DoG sigmas 2, 3, 5, 1 px smoothing), "
    "140 filters per class, radial flux profile and angular harmonics (not COSFIRE)",
}

ROWS = (
    Row("papers' settings (DoG sigma 5, 93 filters per class)", "papers", 93, key="papers"),
    Row(
        "mixed bank, DoG sigmas 2, 3, 5, 1 px smoothing (93 per class)",
        "mixed-smooth",
        93,
        key="mixed",
    ),
    Row("+ more filters (140 per class)", "mixed-smooth", 140, hashed=False, key="more-filters"),
    Row(
        "+ radial flux profile and angular harmonics (not COSFIRE)",
        "mixed-smooth",
        140,
        RECOMMENDED_EXTRAS,
        hashed=False,
        key="recommended",
    ),
    Row(
        "+ moments and region properties (not COSFIRE)",
        "mixed-smooth",
        140,
        ("radial", "angular", "moments"),
        hashed=False,
        key="moments",
    ),
    Row(
        "+ rotation-invariant LBP (not COSFIRE)", "mixed-smooth", 140, MORPHOLOGY_GROUPS, key="lbp"
    ),
    Row(
        "morphology alone, no COSFIRE filter (not COSFIRE)",
        None,
        0,
        MORPHOLOGY_GROUPS,
        hashed=False,
        key="morphology",
    ),
    Row(
        "recommended, each filter at 3 scales (upsilon 0.71, 1, 1.41), maximum kept "
        "(prototype in the bench)",
        "upsilon-max",
        140,
        RECOMMENDED_EXTRAS,
        hashed=False,
        key="upsilon-max",
    ),
    Row(
        "recommended, each filter at 3 scales, the 3 values kept (prototype in the bench)",
        "upsilon-all",
        140,
        RECOMMENDED_EXTRAS,
        hashed=False,
        key="upsilon-all",
    ),
    Row(
        "recommended on galaxies zoomed to a common second-moment radius (prototype in the bench)",
        "extent",
        140,
        RECOMMENDED_EXTRAS,
        hashed=False,
        key="extent",
    ),
    Row(
        "recommended bank and the zoomed galaxies' bank side by side, 280 filters per class "
        "drawn from both pools (prototype in the bench)",
        "mixed+extent",
        280,
        RECOMMENDED_EXTRAS,
        hashed=False,
        key="mixed+extent",
    ),
    Row(
        "recommended + each filter's rotation relative to the dominant one (cos, sin; "
        "prototype in the bench)",
        "rotation",
        140,
        RECOMMENDED_EXTRAS,
        hashed=False,
        key="rotation",
    ),
    Row(
        "recommended + each filter's relative rotation weighted by its maximum (v cos, v sin; "
        "prototype in the bench)",
        "rotation-weighted",
        140,
        RECOMMENDED_EXTRAS,
        hashed=False,
        key="rotation-weighted",
    ),
    Row(
        "recommended, filters chosen by greedy mRMR selection on the training rows "
        "(prototype in the bench)",
        "mixed-smooth",
        140,
        RECOMMENDED_EXTRAS,
        hashed=False,
        key="mrmr",
        select="mrmr",
    ),
    Row(
        "recommended, 93 filters per class chosen by greedy mRMR selection (prototype in the "
        "bench)",
        "mixed-smooth",
        93,
        RECOMMENDED_EXTRAS,
        hashed=False,
        key="mrmr-93",
        select="mrmr",
    ),
    Row(
        "recommended with push-pull inhibition of the DoG inputs (nu 1, xi 2; prototype in "
        "the bench)",
        "pushpull",
        140,
        RECOMMENDED_EXTRAS,
        hashed=False,
        key="pushpull",
    ),
    Row(
        "recommended with stronger push-pull inhibition (nu 2, xi 2; prototype in the bench)",
        "pushpull-strong",
        140,
        RECOMMENDED_EXTRAS,
        hashed=False,
        key="pushpull-strong",
    ),
)


def _items(dataset):
    pool_items = list(dataset.items("train")) + list(dataset.items("valid"))
    return pool_items, pool_items + list(dataset.items("test"))


@dataclass(frozen=True)
class PushPullDoG:
    """A DoG channel with push-pull inhibition: ``max(0, push - nu * pull)``.

    The push is the on- (or off-) centre DoG of ``sigma``; the pull the opposite polarity's
    DoG of ``pull_factor * sigma``, so that the channel is silent where both answer (noise).
    """

    sigma: float
    polarity: str = "on"
    ratio: float = 0.5
    inhibition: float = 1.0
    pull_factor: float = 2.0
    kind: ClassVar[str] = "pushpull-dog"

    def response(self, image: np.ndarray) -> np.ndarray:
        push = dog_response(image, sigma=self.sigma, ratio=self.ratio, polarity=self.polarity)
        pull = dog_response(
            image,
            sigma=self.pull_factor * self.sigma,
            ratio=self.ratio,
            polarity="off" if self.polarity == "on" else "on",
        )
        return np.maximum(push - self.inhibition * pull, 0.0).astype(np.float32)

    def to_dict(self) -> dict:
        return {"kind": self.kind, **asdict(self)}

    @property
    def support_px(self) -> float:
        return 3.0 * self.pull_factor * self.sigma


def _rebuilt(bank: FilterBank, filters: list[CosfireFilter], copies: int) -> FilterBank:
    """A bank of ``filters`` (``copies`` blocks of the bank's filters), same preprocessing."""
    return FilterBank(
        filters=tuple(filters),
        class_names=bank.class_names,
        filter_class=bank.filter_class * copies,
        filter_index=tuple(range(len(filters))),
        preprocessing=bank.preprocessing,
        rotations_deg=bank.rotations_deg,
    )


def scaled_bank(bank: FilterBank, upsilons: tuple[float, ...]) -> FilterBank:
    """The bank's filters at every scale of ``upsilons`` (rho and DoG sigma times upsilon)."""
    filters = [
        replace(
            bank_filter,
            tuples=tuple(
                CosfireTuple(
                    replace(part.channel, sigma=part.channel.sigma * upsilon),
                    part.rho * upsilon,
                    part.phi,
                )
                for part in bank_filter.tuples
            ),
        )
        for upsilon in upsilons
        for bank_filter in bank.filters
    ]
    return _rebuilt(bank, filters, len(upsilons))


def push_pull_bank(bank: FilterBank, inhibition: float, pull_factor: float) -> FilterBank:
    """The bank's filters with every DoG channel replaced by its push-pull version."""

    def channel(part: CosfireTuple) -> PushPullDoG:
        dog = part.channel
        assert isinstance(dog, DoGChannel)
        return PushPullDoG(dog.sigma, dog.polarity, dog.ratio, inhibition, pull_factor)

    filters = [
        replace(
            bank_filter,
            tuples=tuple(CosfireTuple(channel(p), p.rho, p.phi) for p in bank_filter.tuples),
        )
        for bank_filter in bank.filters
    ]
    return _rebuilt(bank, filters, 1)


def second_moment_radius(image: np.ndarray, preprocessing: Preprocessing) -> float:
    """Flux-weighted rms distance (px) of the preprocessed source from its centroid."""
    prepared = preprocess(image, preprocessing).astype(np.float64)
    total = prepared.sum()
    if total <= 0:
        return float("nan")
    rows, cols = np.indices(prepared.shape)
    row_c = (prepared * rows).sum() / total
    col_c = (prepared * cols).sum() / total
    return float(np.sqrt((prepared * ((rows - row_c) ** 2 + (cols - col_c) ** 2)).sum() / total))


def zoom_about_centre(image: np.ndarray, factor: float) -> np.ndarray:
    """``image`` magnified by ``factor`` about its centre, same shape (bilinear)."""
    height, width = image.shape
    shift_y, shift_x = (1 - factor) * (height - 1) / 2, (1 - factor) * (width - 1) / 2
    matrix = np.float32([[factor, 0, shift_x], [0, factor, shift_y]])
    return cv2.warpAffine(
        np.asarray(image, dtype=np.float32),
        matrix,
        (width, height),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REFLECT,
    )


class ExtentReader:
    """Reads a dataset item zoomed by its factor (picklable, for the describe workers)."""

    def __init__(self, dataset, factors: dict[str, float]) -> None:
        self.dataset = dataset
        self.factors = factors

    def __call__(self, item) -> np.ndarray:
        factor = self.factors[self.dataset.name(item)]
        return zoom_about_centre(self.dataset.read(item), factor)


def extent_factors(dataset, out: Path, preprocessing: Preprocessing) -> dict[str, float]:
    """Per image, the zoom that brings its radius to the development median (0.5-2)."""
    path = out / "extent-radii.json"
    pool_items, all_items = _items(dataset)
    if path.exists():
        radii = json.loads(path.read_text())
    else:
        radii = {
            dataset.name(item): second_moment_radius(dataset.read(item), preprocessing)
            for item in all_items
        }
        out.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(radii))
    target = float(np.nanmedian([radii[dataset.name(item)] for item in pool_items]))
    return {
        name: 1.0 if not np.isfinite(r) or r <= 0 else float(np.clip(target / r, 0.5, 2.0))
        for name, r in radii.items()
    }


def base_bank(pool: Pool, dataset, out: Path, per_class: int, read=None) -> FilterBank:
    """Return (and cache as JSON) the pool's bank, prototypes drawn from train + valid."""
    path = out / f"bank-{pool.name}-{per_class}.json"
    if path.exists():
        return load_bank(path)
    pool_items, _ = _items(dataset)
    bank = configure_bank(
        pool_items,
        [item.label for item in pool_items],
        class_names=dataset.class_names,
        per_class=per_class,
        seed=0,
        config=[replace(FilterConfig(), sigma=sigma) for sigma in pool.sigmas],
        preprocessing=Preprocessing(crop_px=150, noise_clip=3.0, smooth_px=pool.smooth_px),
        read=dataset.read if read is None else read,
        sources=[dataset.name(item) for item in pool_items],
    )
    out.mkdir(parents=True, exist_ok=True)
    bank.save(path)
    return bank


def describe_pool(pool: Pool, dataset, out: Path, per_class: int) -> dict[str, np.ndarray]:
    """Return (and cache) every galaxy's descriptor under the pool bank of ``pool``.

    Plain pools also keep, per galaxy and filter, the rotation of the filter's maximum
    (``angles``, degrees). A derived pool's filters are those of the mixed-smooth pool (the
    ``upsilon`` pool: one block of columns per scale of ``UPSILONS``).
    """
    path = out / f"pool-{pool.name}-{per_class}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as stored:
            return dict(stored)
    pool_items, all_items = _items(dataset)
    start = time.perf_counter()
    read = dataset.read
    if pool.derived in ("upsilon", "pushpull"):
        mixed = next(p for p in POOLS if p.name == "mixed-smooth")
        source = base_bank(mixed, dataset, out, per_class)
        if pool.derived == "upsilon":
            bank = scaled_bank(source, UPSILONS)
        else:
            bank = push_pull_bank(source, *pool.push_pull)
    else:
        if pool.derived == "extent":
            factors = extent_factors(dataset, out, Preprocessing(crop_px=150, smooth_px=1.0))
            read = ExtentReader(dataset, factors)
        source = bank = base_bank(pool, dataset, out, per_class, read=read)
    if pool.scales != (1.0,):
        bank = bank.with_invariances(scales=pool.scales)
    row_of = {dataset.name(item): row for row, item in enumerate(pool_items)}
    report = describe_report(bank, all_items, read=read, n_jobs=2, angles=not pool.derived)
    copies = bank.n_filters // source.n_filters
    arrays = {
        "descriptors": report.descriptors,
        "filter_class": np.asarray(source.filter_class, dtype=np.int64),
        "prototype_row": np.asarray([row_of[f.source] for f in source.filters], dtype=np.int64),
        "copies": np.asarray(copies),
        "seconds": np.asarray(time.perf_counter() - start),
    }
    if not pool.derived:
        arrays["angles"] = report.angles_deg
    out.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    print(f"pool {pool.name}: {float(arrays['seconds']):.0f} s", file=sys.stderr, flush=True)
    return arrays


def pool_bank(pool: Pool, dataset, out: Path, per_class: int) -> FilterBank:
    """The bank of a plain, ``upsilon`` or ``pushpull`` pool (its JSON cached by a describe)."""
    if pool.derived in ("upsilon", "pushpull"):
        mixed = next(p for p in POOLS if p.name == "mixed-smooth")
        source = base_bank(mixed, dataset, out, per_class)
        if pool.derived == "upsilon":
            return scaled_bank(source, UPSILONS)
        return push_pull_bank(source, *pool.push_pull)
    if pool.derived:
        raise ValueError(f"no noisy queries for the {pool.name!r} pool")
    return base_bank(pool, dataset, out, per_class)


def noisy_test(pool: Pool, dataset, out: Path, per_class: int, level: float) -> dict:
    """Descriptors and morphology of the test galaxies with Gaussian noise (the pipeline's
    noisy queries: sigma ``level`` x each image's peak, seed 0), cached."""
    from cosfire.transforms import TransformedReader

    path = out / f"noisy{level:g}-{pool.name}-{per_class}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as stored:
            return dict(stored)
    test_items = list(dataset.items("test"))
    reader = TransformedReader(dataset, noise=level, seed=0)
    bank = pool_bank(pool, dataset, out, per_class)
    start = time.perf_counter()
    descriptors = describe_report(bank, test_items, read=reader, n_jobs=2).descriptors
    preprocessing = Preprocessing(crop_px=150, noise_clip=3.0, smooth_px=1.0)
    morphology = np.stack(
        [morphology_features(preprocess(reader(item), preprocessing)) for item in test_items]
    )
    arrays = {
        "descriptors": descriptors,
        "morphology": morphology,
        "seconds": np.asarray(time.perf_counter() - start),
    }
    np.savez(path, **arrays)
    return arrays


def rotation_features(values: np.ndarray, angles_deg: np.ndarray) -> np.ndarray:
    """Per galaxy and filter: the maximum, and cos / sin of twice its rotation relative to
    the galaxy's dominant rotation, shape (n, F, 3); 0 where the filter is silent.

    Examples
    --------
    >>> values = np.array([[1.0, 0.5]]); angles = np.array([[30.0, 120.0]])
    >>> turned = rotation_features(values, angles + 45.0)
    >>> bool(np.allclose(rotation_features(values, angles), turned))
    True
    """
    fired = np.isfinite(angles_deg) & (values > 0)
    doubled = 2 * np.deg2rad(np.where(fired, angles_deg, 0.0))
    weights = np.where(fired, values, 0.0)
    dominant = np.angle((weights * np.exp(1j * doubled)).sum(axis=1, keepdims=True))
    relative = doubled - dominant
    return np.stack(
        [values, np.where(fired, np.cos(relative), 0.0), np.where(fired, np.sin(relative), 0.0)],
        axis=2,
    )


def make_view(name: str, described: dict[str, dict]) -> dict[str, np.ndarray]:
    """Return the feature set ``name``: per filter ``width`` columns, (n, F * width)."""
    if name == "mixed+extent":  # the two pools side by side, as one pool of 2F filters
        both = [described[pool] for pool in VIEWS[name]]
        values = np.hstack([pool["descriptors"] for pool in both])
        return {
            "descriptors": values,
            "single": values,
            "width": np.asarray(1),
            "filter_class": np.concatenate([pool["filter_class"] for pool in both]),
            "prototype_row": np.concatenate([pool["prototype_row"] for pool in both]),
        }
    base = described[VIEWS[name][0]]
    values = base["descriptors"].astype(np.float64)
    n, n_filters = values.shape[0], base["filter_class"].size
    if name in ("upsilon-max", "upsilon-all"):
        scaled = described["upsilon"]["descriptors"].reshape(n, len(UPSILONS), n_filters)
        stacked = np.stack([scaled[:, 0], values, scaled[:, 1]], axis=2)  # small, 1, large
        per_filter = stacked.max(axis=2, keepdims=True) if name == "upsilon-max" else stacked
    elif name in ("rotation", "rotation-weighted"):
        if "angles" not in base:
            raise ValueError("the cached mixed-smooth pool has no angles; delete it, run again")
        per_filter = rotation_features(values, base["angles"].astype(np.float64))
        if name == "rotation-weighted":  # the angle counts as much as the filter answers
            per_filter[:, :, 1:] *= per_filter[:, :, :1]
    else:
        per_filter = values[:, :, None]
    return {
        "descriptors": per_filter.reshape(n, -1).astype(np.float32),
        "single": values.astype(np.float32),
        "width": np.asarray(per_filter.shape[2]),
        "filter_class": base["filter_class"],
        "prototype_row": base["prototype_row"],
    }


def morphology_table(dataset, out: Path) -> np.ndarray:
    """Return (and cache) every galaxy's morphology measurements (smoothed preprocessing)."""
    path = out / "morphology.npy"
    if path.exists():
        return np.load(path)
    _, all_items = _items(dataset)
    preprocessing = Preprocessing(crop_px=150, noise_clip=3.0, smooth_px=1.0)
    table = np.stack(
        [morphology_features(preprocess(dataset.read(item), preprocessing)) for item in all_items]
    )
    out.mkdir(parents=True, exist_ok=True)
    np.save(path, table)
    return table


def _extra_columns(groups: tuple[str, ...]) -> np.ndarray:
    names = morphology_names()
    wanted = set(morphology_names(groups)) if groups else set()
    return np.asarray([k for k, name in enumerate(names) if name in wanted], dtype=np.int64)


def mrmr_filters(
    pool: dict[str, np.ndarray],
    per_class: int,
    allowed_rows: np.ndarray,
    labels: np.ndarray,
) -> np.ndarray:
    """Return ``per_class`` pool filters per class chosen by greedy mRMR on ``allowed_rows``.

    Relevance: the ANOVA F of a filter's maximum over the classes of the allowed rows;
    redundancy: its mean absolute correlation with the filters chosen so far. Classes take
    turns; each adds its candidate of highest relevance / redundancy (prototypes in the rows).
    """
    from sklearn.feature_selection import f_classif

    values = pool["single"][allowed_rows].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # silent filters: relevance 0
        relevance = np.nan_to_num(f_classif(values, labels[allowed_rows])[0])
    centred = values - values.mean(axis=0)
    scale = np.linalg.norm(centred, axis=0)
    scale[scale == 0] = 1.0
    unit = centred / scale
    usable = np.isin(pool["prototype_row"], allowed_rows)
    classes = np.unique(pool["filter_class"])
    remaining = {c: list(np.flatnonzero(usable & (pool["filter_class"] == c))) for c in classes}
    redundancy = np.zeros(values.shape[1])
    chosen: list[int] = []
    for _ in range(per_class):
        for c in classes:
            candidates = np.asarray(remaining[c])
            if candidates.size == 0:
                raise ValueError(f"class {c}: too few usable pool filters for {per_class}")
            if chosen:
                score = relevance[candidates] / (1e-9 + redundancy[candidates] / len(chosen))
            else:
                score = relevance[candidates]
            best = int(candidates[np.argmax(score)])
            remaining[c].remove(best)
            chosen.append(best)
            redundancy += np.abs(unit.T @ unit[:, best])
    return np.sort(np.asarray(chosen, dtype=np.int64))


def filter_columns(pool: dict[str, np.ndarray], filters: np.ndarray) -> np.ndarray:
    """Descriptor columns of the pool filters ``filters`` (``width`` columns per filter)."""
    width = int(pool.get("width", 1))
    return (np.asarray(filters)[:, None] * width + np.arange(width)).ravel()


def pick_filters(row, pool, rows: np.ndarray, labels: np.ndarray, seed: int) -> np.ndarray:
    """The row's pool filters for a training part ``rows``: drawn, or chosen by mRMR."""
    if row.select == "mrmr":
        return mrmr_filters(pool, row.per_class, rows, labels)
    return draw_filters(pool["filter_class"], pool["prototype_row"], row.per_class, rows, seed)


def row_features(row: Row, pools, morphology: np.ndarray, filters: np.ndarray | None):
    """Return the feature matrix of ``row`` for all galaxies, given the chosen pool filters."""
    blocks = []
    if row.pool is not None:
        pool = pools[row.pool]
        blocks.append(pool["descriptors"][:, filter_columns(pool, filters)])
    if row.extras:
        blocks.append(morphology[:, _extra_columns(row.extras)])
    return np.hstack(blocks)


def score_row(row, pools, morphology, labels, split, args, noisy_pools=None) -> dict:
    """Cross-validation on train + valid, then the test split once, for one row.

    With ``noisy_pools`` holding the row's pool, the SVM of every test draw also scores the
    noisy test galaxies (``noisy_test``).
    """
    development = np.flatnonzero(split != "test")
    train_rows = np.flatnonzero(split == "train")
    valid_rows = np.flatnonzero(split == "valid")
    test_rows = np.flatnonzero(split == "test")
    pool = pools.get(row.pool)
    all_filters = None if pool is None else np.arange(pool["filter_class"].size)
    features = row_features(row, pools, morphology, all_filters)
    noisy = None
    if noisy_pools and row.pool in noisy_pools:
        noisy = row_features(
            row,
            {row.pool: noisy_pools[row.pool]},
            noisy_pools[row.pool]["morphology"],
            all_filters,
        )
    n_filters = 0 if pool is None else pool["descriptors"].shape[1]
    chosen: dict[tuple[int, int], np.ndarray] = {}

    def columns(training_rows: np.ndarray, fold: int) -> np.ndarray:
        extra = np.arange(n_filters, features.shape[1])
        if pool is None:
            return extra
        rows = development[training_rows]
        key = (fold, int(rows.sum()))
        if key not in chosen:
            chosen[key] = pick_filters(row, pool, rows, labels, seed=1000 + fold)
        return np.r_[filter_columns(pool, chosen[key]), extra]

    validations = {
        normalisation: cross_validate(
            features[development],
            labels[development],
            folds=args.folds,
            repeats=args.repeats,
            seed=0,
            protocol=SVMProtocol(normalisation=normalisation),
            columns=columns,
        )
        for normalisation in NORMALISATIONS
    }
    normalisation = max(NORMALISATIONS, key=lambda n: validations[n].mean)
    validation = validations[normalisation]
    protocol = SVMProtocol(normalisation=normalisation)
    draws = []
    for draw in range(args.draws):
        used = columns_for_test(pool, row, train_rows, labels, features.shape[1], draw)
        x = features[:, used]
        valid_by_c = svm_accuracy_by_c(
            x[train_rows], labels[train_rows], x[valid_rows], labels[valid_rows], protocol=protocol
        )
        c = max(sorted(valid_by_c), key=valid_by_c.get)
        test, _ = svm_accuracy(
            x[train_rows],
            labels[train_rows],
            x[test_rows],
            labels[test_rows],
            c=c,
            protocol=protocol,
        )
        entry = {"draw": draw, "c": c, "valid": valid_by_c[c], "test": test}
        if noisy is not None:
            entry["noisy_test"], _ = svm_accuracy(
                x[train_rows],
                labels[train_rows],
                noisy[:, used],
                labels[test_rows],
                c=c,
                protocol=protocol,
            )
        if args.hashing and (row.hashed or row.key in args.hash_rows):
            if noisy is None:
                entry["map_36"] = hashing_map(x, labels, train_rows, valid_rows, test_rows, draw)
            else:
                entry["map_36"], entry["noisy_map_36"] = hashing_map(
                    x, labels, train_rows, valid_rows, test_rows, draw, noisy[:, used]
                )
        draws.append(entry)
    tests = np.array([d["test"] for d in draws])
    low, high = accuracy_interval(float(tests.mean()), int(test_rows.size))
    result = {
        "label": row.label,
        "cosfire_only": row.cosfire_only,
        "values": int(columns_for_test(pool, row, train_rows, labels, features.shape[1], 0).size),
        "normalisation": normalisation,
        "cv": validation.to_dict(),
        "cv_by_normalisation": {n: v.mean for n, v in validations.items()},
        "draws": draws,
        "valid_mean": float(np.mean([d["valid"] for d in draws])),
        "test_mean": float(tests.mean()),
        "test_sd": float(tests.std(ddof=1)) if tests.size > 1 else 0.0,
        "test_interval": [low, high],
    }
    if noisy is not None:
        noisy_tests = np.array([d["noisy_test"] for d in draws])
        result["noisy_level"] = args.noise
        result["noisy_test_mean"] = float(noisy_tests.mean())
        result["noisy_test_sd"] = float(noisy_tests.std(ddof=1)) if noisy_tests.size > 1 else 0.0
    for key in ("map_36", "noisy_map_36"):
        if draws and key in draws[0]:
            maps = np.array([d[key] for d in draws])
            result[f"{key}_mean"] = float(maps.mean())
            result[f"{key}_sd"] = float(maps.std(ddof=1)) if maps.size > 1 else 0.0
    return result, validation


def columns_for_test(pool, row, train_rows, labels, width, draw) -> np.ndarray:
    """Columns of one test draw: filters with prototypes in the train split, then extras."""
    n_filters = 0 if pool is None else pool["descriptors"].shape[1]
    extra = np.arange(n_filters, width)
    if pool is None:
        return extra
    filters = pick_filters(row, pool, train_rows, labels, seed=draw)
    return np.r_[filter_columns(pool, filters), extra]


def hashing_map(
    x, labels, train_rows, valid_rows, test_rows, seed: int, noisy=None
) -> float | tuple[float, float]:
    """Test mAP@100 of a 36-bit model with the library's default training settings.

    With ``noisy`` (the test rows' features from noisy images), also the mAP@100 of those
    noisy queries against the same clean database: ``(clean, noisy)``.
    """
    from hashing.training import TrainingConfig, codes_map, train_hashing

    model, _ = train_hashing(
        x[train_rows],
        labels[train_rows],
        x[valid_rows],
        labels[valid_rows],
        config=TrainingConfig(bits=36, seed=seed),
    )
    database = model.encode(x[train_rows])
    clean = codes_map(model.encode(x[test_rows]), labels[test_rows], database, labels[train_rows])
    if noisy is None:
        return clean
    return clean, codes_map(model.encode(noisy), labels[test_rows], database, labels[train_rows])


def run(args) -> dict:
    dataset = open_dataset(args.dataset)
    _, all_items = _items(dataset)
    labels = np.asarray([item.label for item in all_items])
    split = np.asarray([item.split for item in all_items])
    rows_to_score = ROWS
    if args.rows:
        by_key = {row.key: row for row in ROWS}
        unknown = [key for key in args.rows if key not in by_key]
        if unknown:
            raise SystemExit(f"unknown rows {unknown}; choose among {', '.join(by_key)}")
        rows_to_score = tuple(by_key[key] for key in args.rows)
    views = {row.pool for row in rows_to_score if row.pool is not None}
    needed = {name for view in views for name in VIEWS[view]}
    described = {
        pool.name: describe_pool(pool, dataset, args.out, args.pool_per_class)
        for pool in POOLS
        if pool.name in needed
    }
    pools = {view: make_view(view, described) for view in views}
    morphology = morphology_table(dataset, args.out)
    noisy_pools = {}
    if args.noise > 0:
        for view in sorted(views):
            if view in ("mixed-smooth", "pushpull", "pushpull-strong", "papers"):
                pool = next(p for p in POOLS if p.name == view)
                stored = noisy_test(pool, dataset, args.out, args.pool_per_class, args.noise)
                noisy_pools[view] = {**pools[view], **stored}
    rows, previous, reference = [], None, None
    for row in rows_to_score:
        start = time.perf_counter()
        result, validation = score_row(row, pools, morphology, labels, split, args, noisy_pools)
        result["key"] = row.key
        against = reference if args.reference else previous
        if against is not None:
            result["against_previous"] = compare_paired(against, validation).to_dict()
        if row.key == args.reference:
            reference = validation
        previous = validation
        result["seconds"] = time.perf_counter() - start
        rows.append(result)
        change = result.get("against_previous")
        change_text = (
            f", change {100 * change['mean_difference']:+.1f} p {change['p_value']:.2g}"
            if change
            else ""
        )
        print(
            f"{row.label}: CV {100 * validation.mean:.1f} +- {100 * validation.sd:.1f}"
            f"{change_text}, test {100 * result['test_mean']:.1f} +- "
            f"{100 * result['test_sd']:.1f}"
            + (
                f", noisy test {100 * result['noisy_test_mean']:.1f} +- "
                f"{100 * result['noisy_test_sd']:.1f}"
                if "noisy_test_mean" in result
                else ""
            )
            + (
                f", mAP@100 {100 * result['map_36_mean']:.1f}"
                + (
                    f", noisy {100 * result['noisy_map_36_mean']:.1f}"
                    if "noisy_map_36_mean" in result
                    else ""
                )
                if "map_36_mean" in result
                else ""
            )
            + f" ({result['seconds']:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
    return {
        "protocol": {
            "folds": args.folds,
            "repeats": args.repeats,
            "draws": args.draws,
            "pool_per_class": args.pool_per_class,
            "development": int((split != "test").sum()),
            "test": int((split == "test").sum()),
            "reference": args.reference,
            "noise": args.noise,
        },
        "pool_seconds": {name: float(pool["seconds"]) for name, pool in described.items()},
        "rows": rows,
    }


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def report_section(results: dict) -> str:
    """Return the markdown section of the FIRST report for these results."""
    protocol = results["protocol"]
    reference = protocol.get("reference")
    labels = {
        id(row): REFERENCE_LABELS.get(row.get("key"), row["label"])
        if reference and row.get("key") == reference
        else row["label"]
        for row in results["rows"]
    }
    against = (
        "the row above"
        if not reference
        else next((labels[id(r)] for r in results["rows"] if r.get("key") == reference), reference)
    )
    lines = [
        "## What each change to the bank adds (descriptor ablation)",
        "",
        f"Regenerate with `python benchmarks/bench_descriptor_ablation.py --json PATH`. Settings "
        f"are compared by {protocol['repeats']} x {protocol['folds']}-fold stratified "
        f"cross-validation on train + valid ({protocol['development']:,} galaxies; in every fold "
        f"the filters are drawn from a pool of {protocol['pool_per_class']} per class, among "
        "those whose prototype is in the fold's training part). The quadratic SVM's row "
        "normalisation and C are chosen by that cross-validation; the change column is the "
        f"paired difference to {'the row above' if not reference else repr(against)} on the "
        "same folds, with the corrected resampled "
        "t-test's p. Test: the test split scored once per row, "
        f"{protocol['draws']} draws of filters with prototypes in the train split, SVM trained "
        "on train with C chosen on valid; mean +- sd over the draws and the 95 % interval of a "
        f"{protocol['test']}-galaxy accuracy. Rows marked *not COSFIRE* add measurements that "
        "are not COSFIRE responses (`cosfire.morphology`).",
        "",
        "| descriptor | values | CV accuracy (train + valid) | change, p | valid | test "
        "| test 95 % interval | 36-bit mAP@100 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in results["rows"]:
        cv = row["cv"]
        change = row.get("against_previous")
        change_text = (
            f"{100 * change['mean_difference']:+.1f}, p = {change['p_value']:.2g}" if change else ""
        )
        map_text = (
            f"{_pct(row['map_36_mean'])} +- {_pct(row['map_36_sd'])}"
            if "map_36_mean" in row
            else ""
        )
        low, high = row["test_interval"]
        lines.append(
            f"| {labels[id(row)]} | {row['values']} | {_pct(cv['mean'])} +- {_pct(cv['sd'])} "
            f"({row['normalisation']}) | {change_text} | {_pct(row['valid_mean'])} "
            f"| **{_pct(row['test_mean'])} +- {_pct(row['test_sd'])}** "
            f"| {_pct(low)}-{_pct(high)} | {map_text} |"
        )
    noisy = [row for row in results["rows"] if "noisy_test_mean" in row]
    if noisy:
        lines += [
            "",
            f"Noisy test queries (Gaussian noise of sigma {noisy[0]['noisy_level']:g} x each "
            "image's peak, the pipeline's robustness check; same SVMs): "
            + "; ".join(
                f"{labels[id(row)]}: {_pct(row['noisy_test_mean'])} +- {_pct(row['noisy_test_sd'])} %"
                + (
                    f" (36-bit mAP@100 {_pct(row['noisy_map_36_mean'])} +- "
                    f"{_pct(row['noisy_map_36_sd'])})"
                    if "noisy_map_36_mean" in row
                    else ""
                )
                for row in noisy
            )
            + ".",
        ]
    best = max(results["rows"], key=lambda r: r["cv"]["mean"])
    lines += [
        "",
        f"Best by cross-validation: {labels[id(best)]} (CV {_pct(best['cv']['mean'])} %, test "
        f"{_pct(best['test_mean'])} +- {_pct(best['test_sd'])} %). Target of issue 15: 82 % "
        f"test accuracy; {'reached' if best['test_mean'] >= 0.82 else 'not reached'}.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="first")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "ablation")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--pool-per-class", type=int, default=200)
    parser.add_argument("--no-hashing", dest="hashing", action="store_false")
    parser.add_argument(
        "--rows",
        type=lambda text: [key.strip() for key in text.split(",") if key.strip()],
        default=None,
        help="comma-separated row keys to score (default: all rows)",
    )
    parser.add_argument(
        "--noise",
        type=float,
        default=0.0,
        help="also score test galaxies with this Gaussian noise (x peak) for the rows of the "
        "papers, mixed-smooth and pushpull pools (0: off)",
    )
    parser.add_argument(
        "--hash-rows",
        type=lambda text: [key.strip() for key in text.split(",") if key.strip()],
        default=[],
        help="row keys whose 36-bit mAP@100 is measured too (rows that show it always are)",
    )
    parser.add_argument(
        "--reference",
        default=None,
        help="row key every later row is compared with (default: the row above)",
    )
    args = parser.parse_args(argv)
    results = run(args)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))
    print(report_section(results))


if __name__ == "__main__":
    main()
