"""The whole job as a Python API: bank -> descriptors -> models -> archive -> report.

A run is described by a frozen :class:`PipelineConfig` (the run's identity: data set, seed,
:class:`BankSettings`, :class:`cosfire.preprocess.Preprocessing`,
:class:`hashing.TrainingConfig`, :class:`EvaluationSettings`) and executed with
:func:`run_pipeline`, which takes the execution options (:class:`RunOptions`: workers, progress,
messages) apart, so that they never change what a run means. It returns a frozen
:class:`PipelineResults`, which is also written as ``results.json``
(:meth:`PipelineResults.from_json` reads it back, files of earlier versions included).

Every stage writes its files atomically and then a marker ``stages/<name>.json`` with its
wall time; a stage whose marker and outputs exist is not run again, so an interrupted run
started again with the same settings continues where it stopped. The run's settings are kept
in ``run.json``; a run folder refuses other settings (start a new folder instead).

This module imports no click and prints nothing unless asked (``RunOptions(echo=print)``), so
a notebook can drive a run; ``cosfire-hash pipeline`` is a thin command over it. It lives in
``cli`` because it joins every package (``cosfire``, ``hashing``, ``retrieval``), which the
libraries may not do themselves.

Examples
--------
>>> from pathlib import Path
>>> from cli.pipeline import BankSettings, EvaluationSettings, PipelineConfig, run_pipeline
>>> config = PipelineConfig(
...     dataset="synthetic",
...     bank=BankSettings(per_class=2, rotations=8),
...     evaluation=EvaluationSettings(bits=(8,), main_bits=8, robustness=False),
... )
>>> results = run_pipeline(config, Path("runs/doctest"))  # doctest: +SKIP
>>> results.map_at_100[8], results.svm.test_accuracy  # doctest: +SKIP
(0.83..., 0.8...)
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cosfire.transforms import TransformedReader
from retrieval.scores import RetrievalScores

if TYPE_CHECKING:
    import numpy as np

    from cosfire.configure import FilterConfig
    from cosfire.preprocess import Preprocessing
    from hashing.training import TrainingConfig

__all__ = [
    "BankSettings",
    "EvaluationSettings",
    "PipelineConfig",
    "PipelineResults",
    "PipelineRun",
    "RunOptions",
    "SVMResult",
    "TransformedReader",
    "hashing_training_set",
    "run_pipeline",
]

RUN_FORMAT_VERSION = 1
#: version of ``results.json``; files written before it existed carry none and read as 1
RESULTS_FORMAT_VERSION = 1


def _default_preprocessing() -> Preprocessing:
    from cosfire.preprocess import Preprocessing

    return Preprocessing()


def _default_training() -> TrainingConfig:
    from hashing.training import TrainingConfig

    return TrainingConfig()


@dataclass(frozen=True)
class BankSettings:
    """How a run configures its COSFIRE filter bank from training prototypes.

    Parameters
    ----------
    per_class : int, optional
        Filters per class, each configured on a training galaxy drawn with the run's seed.
        None (the default): ``cosfire.presets.default_per_class`` of the run's dataset (the
        papers' 93; 10 on the synthetic set, whose classes hold 30 training galaxies).
    filter_config : FilterConfig, optional
        Options of every filter (None: ``FilterConfig()``, the papers' DoG filter).
    sigmas : tuple of float
        A mixed bank: the DoG sigmas (px) the filters of each class take in turn; empty for
        one sigma (the filter config's).
    rotations : int
        Equally spaced rotations over 360 degrees at which every filter responds.
    extras : tuple of str
        Morphology groups appended to every descriptor (``cosfire.morphology``).

    Examples
    --------
    >>> BankSettings(per_class=10, sigmas=(2, 3)).sigmas
    (2.0, 3.0)
    """

    per_class: int | None = None
    filter_config: FilterConfig | None = None
    sigmas: tuple[float, ...] = ()
    rotations: int = 24
    extras: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "sigmas", tuple(float(s) for s in self.sigmas))
        object.__setattr__(self, "extras", tuple(str(e) for e in self.extras))
        if self.per_class is not None and self.per_class < 1:
            raise ValueError(f"per_class must be >= 1 or None, got {self.per_class}")
        if self.rotations < 1:
            raise ValueError(f"rotations must be >= 1, got {self.rotations}")
        if not all(math.isfinite(s) and s > 0 for s in self.sigmas):
            raise ValueError(f"bank sigmas must be > 0 px, got {self.sigmas}")
        if self.filter_config is not None and isinstance(self.filter_config, Mapping):
            raise TypeError(
                "filter_config must be a cosfire.configure.FilterConfig (for a dict of options "
                "use FilterConfig.from_dict)"
            )

    def filter_configs(self) -> list[FilterConfig]:
        """Return the bank's FilterConfig, or one per sigma (a mixed bank), as a list.

        Examples
        --------
        >>> [c.sigma for c in BankSettings(sigmas=(2, 3)).filter_configs()]
        [2.0, 3.0]
        """
        from cosfire.configure import FilterConfig

        base = FilterConfig() if self.filter_config is None else self.filter_config
        if not self.sigmas:
            return [base]
        return [dataclasses.replace(base, sigma=sigma) for sigma in self.sigmas]

    def rotations_deg(self) -> tuple[float, ...]:
        """Return the rotation angles in degrees.

        Examples
        --------
        >>> BankSettings(rotations=4).rotations_deg()
        (0.0, 90.0, 180.0, 270.0)
        """
        return tuple(360.0 * i / self.rotations for i in range(self.rotations))


@dataclass(frozen=True)
class EvaluationSettings:
    """What a run trains and measures on the test split.

    Parameters
    ----------
    bits : tuple of int
        Code lengths; one hashing model is trained and evaluated per length.
    main_bits : int
        The code length of the archive and of the robustness checks (one of ``bits``).
    robustness : bool
        Also query with rotated and with noisy test galaxies.
    rotation_draws : int
        How many draws of random angles the rotated-query check makes.
    noise_levels : tuple of float
        Gaussian noise of the noisy queries, sigma as a fraction of each image's peak.

    Examples
    --------
    >>> EvaluationSettings(bits=(8, 16), main_bits=16).bits
    (8, 16)
    """

    bits: tuple[int, ...] = (8, 16, 24, 32, 36, 48, 64, 72)
    main_bits: int = 36
    robustness: bool = True
    rotation_draws: int = 5
    noise_levels: tuple[float, ...] = (0.05, 0.1, 0.2)

    def __post_init__(self) -> None:
        object.__setattr__(self, "bits", tuple(int(b) for b in self.bits))
        object.__setattr__(self, "noise_levels", tuple(float(n) for n in self.noise_levels))
        if not self.bits or min(self.bits) < 1:
            raise ValueError(f"bits must be positive code lengths, got {self.bits}")
        if self.main_bits not in self.bits:
            raise ValueError(f"--main-bits {self.main_bits} must be one of --bits {self.bits}")
        if self.rotation_draws < 1:
            raise ValueError(f"--rotation-draws must be >= 1, got {self.rotation_draws}")


@dataclass(frozen=True, eq=False)
class PipelineConfig:
    """The identity of a pipeline run (saved as ``run.json``; a run folder keeps one).

    Parameters
    ----------
    dataset : str
        'synthetic', 'first', or a zip/folder with train, valid and test splits.
    seed : int
        Seed of the prototype draw, of the training and of the random tie order and angles.
    bank : BankSettings
        The filter bank (by default the papers' bank, with the dataset's default number of
        filters per class: :attr:`per_class`).
    preprocessing : cosfire.preprocess.Preprocessing
        Crop, background clipping and smoothing of every image.
    training : hashing.TrainingConfig
        How every hashing model is trained (a recipe of ``hashing.RECIPES`` or your own); its
        ``bits`` and ``seed`` are not used: each model takes one of ``evaluation.bits`` and
        the run's ``seed``.
    train_rotations : int
        Rotated copies of the training galaxies (a random angle each) added to the hashing
        network's training set.
    evaluation : EvaluationSettings

    Examples
    --------
    >>> from hashing import RECIPES
    >>> config = PipelineConfig(dataset="synthetic", training=RECIPES["csq"])
    >>> config.to_dict()["training"]["loss"]
    'csq'
    >>> PipelineConfig.from_dict(config.to_dict()) == config
    True
    """

    dataset: str = "synthetic"
    seed: int = 0
    bank: BankSettings = field(default_factory=BankSettings)
    preprocessing: Preprocessing = field(default_factory=_default_preprocessing)
    training: TrainingConfig = field(default_factory=_default_training)
    train_rotations: int = 0
    evaluation: EvaluationSettings = field(default_factory=EvaluationSettings)

    def __post_init__(self) -> None:
        from cosfire.preprocess import Preprocessing
        from hashing.training import TrainingConfig

        for name, kind in (
            ("bank", BankSettings),
            ("preprocessing", Preprocessing),
            ("training", TrainingConfig),
            ("evaluation", EvaluationSettings),
        ):
            if not isinstance(getattr(self, name), kind):
                raise TypeError(
                    f"{name} must be a {kind.__module__}.{kind.__name__}, got "
                    f"{type(getattr(self, name)).__name__}"
                )
        if self.train_rotations < 0:
            raise ValueError(f"--train-rotations must be >= 0, got {self.train_rotations}")

    @property
    def per_class(self) -> int:
        """Filters per class: the bank's, or ``cosfire.presets.default_per_class(dataset)``."""
        from cosfire.presets import default_per_class

        if self.bank.per_class is not None:
            return self.bank.per_class
        return default_per_class(self.dataset)

    def __eq__(self, other: object) -> bool:
        """Two configs are equal when they describe the same run (the same :meth:`to_dict`)."""
        if not isinstance(other, PipelineConfig):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    def to_dict(self) -> dict[str, Any]:
        """Return the run's identity as JSON-able settings, in the layout of ``run.json``.

        The layout is flat, as run folders have always recorded it; settings left at their
        neutral value (one sigma, no smoothing, no extras, no rotated training copies, one
        draw of rotated queries) are left out, so that runs made before they existed keep
        their identity. Execution options (workers, progress) are never part of it.
        """
        spec: dict[str, Any] = {
            "dataset": self.dataset,
            "per_class": self.per_class,
            "seed": self.seed,
            "filter_config": {}
            if self.bank.filter_config is None
            else self.bank.filter_config.to_dict(),
        }
        if self.bank.sigmas:
            spec["bank_sigmas"] = list(self.bank.sigmas)
        spec["crop_px"] = self.preprocessing.crop_px
        spec["noise_clip"] = self.preprocessing.noise_clip
        if self.preprocessing.smooth_px is not None:
            spec["smooth_px"] = self.preprocessing.smooth_px
        if self.preprocessing.scale != "max":
            spec["scale"] = self.preprocessing.scale
        if self.bank.extras:
            spec["extras"] = list(self.bank.extras)
        if self.train_rotations:
            spec["train_rotations"] = self.train_rotations
        spec["rotations"] = self.bank.rotations
        if self.evaluation.rotation_draws != 1:
            spec["rotation_draws"] = self.evaluation.rotation_draws
        spec["bits"] = list(self.evaluation.bits)
        spec["main_bits"] = self.evaluation.main_bits
        training = self.training.to_dict()
        for per_model in ("bits", "seed"):  # each model takes one code length, the run's seed
            del training[per_model]
        spec["training"] = training
        spec["noise_levels"] = list(self.evaluation.noise_levels)
        spec["robustness"] = self.evaluation.robustness
        return spec

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> PipelineConfig:
        """Return the config recorded as ``spec`` (inverse of :meth:`to_dict`).

        Reads every ``run.json`` written so far: a setting left out takes the neutral value
        it had when it was left out (``rotation_draws`` 1), and a training option left out
        takes today's default.
        """
        from cosfire.configure import FilterConfig
        from cosfire.preprocess import Preprocessing
        from hashing.training import TrainingConfig

        # the keys every run records, those recorded only when set, and jobs (which runs made
        # before it left the identity recorded)
        optional = ("bank_sigmas", "smooth_px", "scale", "extras", "train_rotations", "jobs")
        known = {*cls().to_dict(), *optional, "rotation_draws"}
        unknown = sorted(set(spec) - known)
        if unknown:
            raise ValueError(
                f"run settings hold unknown keys {unknown}: written by a newer cosfire-hash? "
                "Upgrade it, or start a new run folder"
            )
        filter_spec = spec.get("filter_config") or {}
        return cls(
            dataset=spec.get("dataset", "synthetic"),
            seed=int(spec.get("seed", 0)),
            bank=BankSettings(
                per_class=None if spec.get("per_class") is None else int(spec["per_class"]),
                filter_config=FilterConfig.from_dict(filter_spec) if filter_spec else None,
                sigmas=tuple(spec.get("bank_sigmas", ())),
                rotations=int(spec.get("rotations", 24)),
                extras=tuple(spec.get("extras", ())),
            ),
            preprocessing=Preprocessing(
                crop_px=spec.get("crop_px", 150),
                noise_clip=spec.get("noise_clip", 3.0),
                smooth_px=spec.get("smooth_px"),
                scale=spec.get("scale", "max"),
            ),
            training=TrainingConfig(**dict(spec.get("training", {}))),
            train_rotations=int(spec.get("train_rotations", 0)),
            evaluation=EvaluationSettings(
                bits=tuple(spec.get("bits", EvaluationSettings().bits)),
                main_bits=int(spec.get("main_bits", 36)),
                robustness=bool(spec.get("robustness", True)),
                rotation_draws=int(spec.get("rotation_draws", 1)),
                noise_levels=tuple(spec.get("noise_levels", EvaluationSettings().noise_levels)),
            ),
        )

    def filter_configs(self) -> list[FilterConfig]:
        """The bank's FilterConfig, or one per bank sigma (a mixed bank), as a list."""
        return self.bank.filter_configs()


@dataclass(frozen=True)
class RunOptions:
    """How a run executes; never part of its identity (a run resumes under other options).

    Parameters
    ----------
    jobs : int
        Parallel workers for describing images, and torch threads for training.
    echo : callable, optional
        Receives one line per stage that runs (``print`` for a notebook); None: silent.
    progress_bars : bool
        Show tqdm progress bars while describing images.
    report : bool
        Draw the figures and write ``report.md`` once the run is complete.

    Examples
    --------
    >>> RunOptions(jobs=1, echo=print).progress_bars
    False
    """

    jobs: int = 2
    echo: Callable[[str], None] | None = None
    progress_bars: bool = False
    report: bool = True

    def __post_init__(self) -> None:
        if self.jobs == 0 or self.jobs < -1:
            raise ValueError(f"jobs must be >= 1 (or -1: all cores), got {self.jobs}")


@dataclass(frozen=True)
class SVMResult:
    """The descriptors' quality: a quadratic-kernel SVM, C chosen on the valid split.

    ``valid_accuracy`` maps each C candidate to its validation accuracy; ``normalisation`` is
    recorded for banks with morphology extras, whose row normalisation is chosen with C.
    """

    kernel: str
    c: float
    valid_accuracy: dict[float, float]
    test_accuracy: float
    normalisation: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the layout of ``svm.json``."""
        spec: dict[str, Any] = {
            "kernel": self.kernel,
            "C": self.c,
            "valid_accuracy": dict(self.valid_accuracy),
            "test_accuracy": self.test_accuracy,
        }
        if self.normalisation is not None:
            spec["normalisation"] = self.normalisation
        return spec

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> SVMResult:
        """Inverse of :meth:`to_dict` (JSON's string keys of C become floats)."""
        return cls(
            kernel=spec["kernel"],
            c=float(spec["C"]),
            valid_accuracy={float(c): float(a) for c, a in spec["valid_accuracy"].items()},
            test_accuracy=float(spec["test_accuracy"]),
            normalisation=spec.get("normalisation"),
        )


@dataclass(frozen=True)
class PipelineResults:
    """Everything a finished run measured (written as ``results.json``).

    Attributes
    ----------
    config : PipelineConfig
    bits : dict of int to RetrievalScores
        Per code length, the scores of the test queries against the training database (random
        tie order; ``ties_average_map_at_k`` with ties averaged).
    svm : SVMResult
    bank_filters : int
    bank_sha256 : str
    seconds : dict of str to float
        Wall time of every stage.
    rotation : RetrievalScores or None
        Scores of the test queries rotated by random angles (first draw).
    rotation_draws : tuple of float
        mAP@100 of every draw of the angles.
    noise, noise_unclipped : dict of float to RetrievalScores
        Scores of noisy queries per noise level, with and without the bank's background
        clipping.

    Examples
    --------
    >>> results = PipelineResults.from_json("runs/demo/results.json")  # doctest: +SKIP
    >>> results.map_at_100[36]  # doctest: +SKIP
    0.83...
    """

    config: PipelineConfig
    bits: dict[int, RetrievalScores]
    svm: SVMResult
    bank_filters: int
    bank_sha256: str
    seconds: dict[str, float]
    rotation: RetrievalScores | None = None
    rotation_draws: tuple[float, ...] = ()
    noise: dict[float, RetrievalScores] = field(default_factory=dict)
    noise_unclipped: dict[float, RetrievalScores] = field(default_factory=dict)

    @property
    def map_at_100(self) -> dict[int, float]:
        """Test mAP@100 per code length."""
        return {bits: scores.map_at_100 for bits, scores in self.bits.items()}

    @property
    def main(self) -> RetrievalScores:
        """The test scores at the run's main code length."""
        return self.bits[self.config.evaluation.main_bits]

    @property
    def total_seconds(self) -> float:
        """Wall time of all stages together."""
        return float(sum(self.seconds.values()))

    def to_dict(self) -> dict[str, Any]:
        """Return the layout of ``results.json`` (JSON turns the integer and float keys of
        ``bits`` and ``noise`` into strings; :meth:`from_dict` turns them back)."""
        import numpy as np

        spec: dict[str, Any] = {
            "bits": {bits: scores.to_report() for bits, scores in self.bits.items()},
            "svm": self.svm.to_dict(),
        }
        if self.rotation is not None:
            draws = list(self.rotation_draws)
            spec["rotation"] = self.rotation.to_report()
            spec["rotation_draws"] = {
                "map_at_100": draws,
                "mean": float(np.mean(draws)),
                "sd": float(np.std(draws)),
            }
            spec["noise"] = {level: scores.to_report() for level, scores in self.noise.items()}
            if self.noise_unclipped:
                spec["noise_unclipped"] = {
                    level: scores.to_report() for level, scores in self.noise_unclipped.items()
                }
        spec["seconds"] = dict(self.seconds)
        spec["config"] = self.config.to_dict()
        spec["bank"] = {"filters": self.bank_filters, "sha256": self.bank_sha256}
        spec["format_version"] = RESULTS_FORMAT_VERSION
        return spec

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> PipelineResults:
        """Inverse of :meth:`to_dict`; reads results written before this class existed."""
        version = spec.get("format_version", 1)
        if version != RESULTS_FORMAT_VERSION:
            raise ValueError(
                f"results format {version} is not {RESULTS_FORMAT_VERSION}: written by another "
                "cosfire-hash version; rerun the pipeline (finished stages are kept)"
            )
        rotation = spec.get("rotation")
        draws = spec.get("rotation_draws", {}).get("map_at_100")
        if rotation is not None and draws is None:  # runs before several draws existed
            draws = [rotation["map_at_100"]]
        return cls(
            config=PipelineConfig.from_dict(spec["config"]),
            bits={int(b): RetrievalScores.from_report(r) for b, r in spec["bits"].items()},
            svm=SVMResult.from_dict(spec["svm"]),
            bank_filters=int(spec["bank"]["filters"]),
            bank_sha256=str(spec["bank"]["sha256"]),
            seconds={str(k): float(v) for k, v in spec["seconds"].items()},
            rotation=None if rotation is None else RetrievalScores.from_report(rotation),
            rotation_draws=tuple(float(d) for d in draws or ()),
            noise={
                float(k): RetrievalScores.from_report(v) for k, v in spec.get("noise", {}).items()
            },
            noise_unclipped={
                float(k): RetrievalScores.from_report(v)
                for k, v in spec.get("noise_unclipped", {}).items()
            },
        )

    def to_json(self, path: str | Path) -> Path:
        """Write the results atomically as JSON; return the path."""
        from cosfire import atomic_write

        path = Path(path)
        with atomic_write(path, "w") as handle:
            json.dump(self.to_dict(), handle, indent=1, default=str)
        return path

    @classmethod
    def from_json(cls, path: str | Path) -> PipelineResults:
        """Read a ``results.json`` (of this version or an earlier one).

        Examples
        --------
        >>> PipelineResults.from_json("runs/demo/results.json").svm.test_accuracy  # doctest: +SKIP
        0.8
        """
        return cls.from_dict(json.loads(Path(path).read_text()))


def _silent(message: str) -> None:
    """An ``echo`` that says nothing."""


class PipelineRun:
    """A run folder: settings, stage markers, and the helpers that run stages once."""

    def __init__(
        self,
        folder: Path,
        config: PipelineConfig,
        echo: Callable[[str], None] | None = None,
    ):
        from cosfire import atomic_write

        self.folder = Path(folder)
        self.config = config
        self.echo = _silent if echo is None else echo
        settings = self.folder / "run.json"
        wanted = {"format_version": RUN_FORMAT_VERSION, "config": config.to_dict()}
        if settings.exists():
            self._check_settings(settings, wanted)
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "stages").mkdir(exist_ok=True)
        if not settings.exists():
            with atomic_write(settings, "w") as handle:
                json.dump(wanted, handle, indent=1)

    def _check_settings(self, settings: Path, wanted: dict[str, Any]) -> None:
        start_again = f"use another --out folder (or delete {settings} to start this one again)"
        try:
            recorded = json.loads(settings.read_text())
            if recorded.get("format_version") != RUN_FORMAT_VERSION:
                raise ValueError(f"run format {recorded.get('format_version')}")
            # read through the config, so that files of earlier versions compare by meaning
            same = PipelineConfig.from_dict(recorded["config"]).to_dict() == wanted["config"]
        except (ValueError, TypeError, KeyError) as error:
            raise ValueError(
                f"{settings} cannot be read as run settings of this version ({error}); "
                + start_again
            ) from None
        if not same:
            raise ValueError(f"{self.folder} holds a run with other settings; " + start_again)

    def path(self, name: str) -> Path:
        """Return the path of file ``name`` in the run folder."""
        return self.folder / name

    def stage(self, name: str, outputs: list[Path], work: Callable[[], Any]) -> dict[str, Any]:
        """Run ``work`` unless stage ``name`` finished before; return its marker."""
        from cosfire import atomic_write

        marker = self.folder / "stages" / f"{name}.json"
        if marker.exists() and all(path.exists() for path in outputs):
            return json.loads(marker.read_text())
        self.echo(f"[{name}]")
        start = time.perf_counter()
        result = work() or {}
        record = {"stage": name, "seconds": time.perf_counter() - start, **result}
        with atomic_write(marker, "w") as handle:
            json.dump(record, handle, indent=1)
        return record

    def seconds(self) -> dict[str, float]:
        """Wall time of every finished stage."""
        markers = sorted((self.folder / "stages").glob("*.json"), key=lambda p: p.stat().st_mtime)
        records = [json.loads(p.read_text()) for p in markers]
        return {record["stage"]: record["seconds"] for record in records}


def rotated_test_name(draw: int) -> str:
    """The name of draw ``draw`` of the rotated test queries (file ``test-{name}.npz``)."""
    return "rotated" if draw == 0 else f"rotated-d{draw}"


def rotated_test_seed(seed: int, draw: int) -> int:
    """The seed of the angles of draw ``draw`` of the rotated test queries.

    Draw 0 takes the run's seed (the rotated training copies take ``seed + 1 + copy``); later
    draws take seeds far from both.
    """
    return seed if draw == 0 else seed + 1000 + draw


def rotated_train_path(folder: Path, copy: int) -> Path:
    """Where a run keeps the descriptors of rotated training copy ``copy``."""
    return folder / f"train-rotated{copy}.npz"


def hashing_training_set(
    folder: Path, train, train_rotations: int
) -> tuple[np.ndarray, np.ndarray]:
    """The hashing network's training rows of a run: ``train`` (its descriptors) followed by
    the run's ``train_rotations`` rotated copies, as (descriptors, labels)."""
    import numpy as np

    from cosfire.descriptor_file import load_descriptors

    copies = [load_descriptors(rotated_train_path(folder, c)) for c in range(train_rotations)]
    return (
        np.concatenate([train.descriptors, *[c.descriptors for c in copies]]),
        np.concatenate([train.labels, *[c.labels for c in copies]]),
    )


def _progress_bar(total: int, label: str, shown: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="img", disable=not shown, leave=False)


def run_pipeline(
    config: PipelineConfig, out_dir: str | Path, options: RunOptions | None = None
) -> PipelineResults:
    """Run (or continue) a whole pipeline run in ``out_dir``; return its results.

    Configures the bank on training prototypes, describes the three splits, trains one hashing
    model per code length (selected on valid), evaluates each on the test split, indexes the
    training set at the main code length, scores the descriptors with the SVM protocol and,
    unless ``config.evaluation.robustness`` is off, queries with rotated and noisy test
    galaxies. Finished stages are kept, so calling it again resumes; a folder holding a run of
    other settings is refused.

    Parameters
    ----------
    config : PipelineConfig
        The run's identity.
    out_dir : str or Path
        The run folder (created).
    options : RunOptions, optional
        Workers, messages, progress bars, report (default: 2 workers, silent, with report).

    Returns
    -------
    PipelineResults
        Also written as ``out_dir/results.json``; ``report.md`` and its figures are written
        next to it when ``options.report``.

    Raises
    ------
    ValueError
        If ``out_dir`` holds a run with other settings, or the data set lacks a split.

    Examples
    --------
    >>> config = PipelineConfig(
    ...     bank=BankSettings(per_class=2, rotations=8),
    ...     evaluation=EvaluationSettings(bits=(8,), main_bits=8, robustness=False),
    ... )
    >>> results = run_pipeline(config, "runs/doctest", RunOptions(jobs=1))  # doctest: +SKIP
    >>> sorted(results.map_at_100)  # doctest: +SKIP
    [8]
    """
    from hashing.training import torch_threads

    options = RunOptions() if options is None else options
    with torch_threads(max(1, options.jobs)):
        results = _run_pipeline(Path(out_dir), config, options)
    if options.report:
        from cli.report import write_report

        write_report(Path(out_dir), results)
    return results


def _run_pipeline(folder: Path, config: PipelineConfig, options: RunOptions) -> PipelineResults:
    import numpy as np

    from cosfire.bank import load_bank
    from cosfire.datasets import open_dataset
    from cosfire.descriptor_file import load_descriptors
    from hashing.model import load_model
    from hashing.training import train_hashing
    from retrieval.codes import pack_codes
    from retrieval.metrics import hamming_distances, retrieval_report

    run = PipelineRun(folder, config, options.echo)
    evaluation = config.evaluation
    dataset = open_dataset(config.dataset)
    for split in ("train", "valid", "test"):
        if split not in dataset.splits:
            raise ValueError(
                f"{dataset.source} has splits {dataset.splits}; the pipeline needs train, valid "
                "and test"
            )
    bank_path = run.path("bank.json")

    def configure() -> dict:
        from cli.configuring import configure_from_dataset

        bank = configure_from_dataset(
            dataset,
            "train",
            per_class=config.per_class,
            seed=config.seed,
            config=config.bank.filter_configs(),
            preprocessing=config.preprocessing,
            rotations_deg=config.bank.rotations_deg(),
            extras=config.bank.extras,
        )
        bank.metadata.update({"dataset": dataset.source})
        bank.save(bank_path)
        return {
            "filters": bank.n_filters,
            "mean_tuples": float(np.mean([len(f.tuples) for f in bank.filters])),
        }

    run.stage("configure", [bank_path], configure)
    bank = load_bank(bank_path)

    def describe_split(split: str, target: Path, read, with_bank=None) -> Callable[[], dict]:
        def work() -> dict:
            from cli.describing import describe_to_file

            items = dataset.items(split)
            with _progress_bar(len(items), f"describe {target.stem}", options.progress_bars) as bar:
                report = describe_to_file(
                    with_bank or bank,
                    items,
                    read=read,
                    names=[dataset.name(i) for i in items],
                    labels=[i.label for i in items],
                    class_names=dataset.class_names,
                    output=target,
                    n_jobs=options.jobs,
                    on_error="skip",
                    progress=bar.update,
                    angles=True,  # the rotation of each filter's maximum: search's angle_deg
                )
            return {"images": len(items) - len(report.failed), "skipped": len(report.failed)}

        return work

    for split in ("train", "valid", "test"):
        target = run.path(f"{split}.npz")
        run.stage(f"describe-{split}", [target], describe_split(split, target, dataset.read))
    train = load_descriptors(run.path("train.npz"))
    valid = load_descriptors(run.path("valid.npz"))
    test = load_descriptors(run.path("test.npz"))
    # rotated copies of the training galaxies, for the hashing network only (augmentation:
    # the network learns to give a galaxy the same code whatever its orientation)
    for copy in range(config.train_rotations):
        target = rotated_train_path(run.folder, copy)
        # a seed apart from the rotated test queries' (config.seed)
        reader = TransformedReader(dataset, rotate=True, seed=config.seed + 1 + copy)
        run.stage(
            f"describe-train-rotated{copy}", [target], describe_split("train", target, reader)
        )
    hashing_x, hashing_y = hashing_training_set(run.folder, train, config.train_rotations)

    results: dict[str, Any] = {"bits": {}}
    for bits in evaluation.bits:
        model_path = run.path(f"model-{bits}.pt")

        def train_model(bits: int = bits, model_path: Path = model_path) -> dict:
            from hashing.curves import plot_training_curves

            model, history = train_hashing(
                hashing_x,
                hashing_y,
                valid.descriptors,
                valid.labels,
                config=dataclasses.replace(config.training, bits=bits, seed=config.seed),
                bank_sha256=bank.sha256,
                database=(train.descriptors, train.labels),
            )
            model.metadata["class_names"] = list(train.class_names)
            model.save(model_path)
            plot_training_curves(history, run.path(f"model-{bits}.curve.png"))
            return {
                "valid_map_at_100": history.best_valid_map,
                "best_epoch": history.best_epoch,
                "training_rows": len(hashing_y),
            }

        run.stage(f"train-{bits}", [model_path], train_model)
        evaluation_path = run.path(f"eval-{bits}.json")

        def evaluate_model(
            bits: int = bits, model_path: Path = model_path, path: Path = evaluation_path
        ) -> dict:
            from cosfire import atomic_write

            model = load_model(model_path)
            distances = hamming_distances(
                pack_codes(model.encode(test.descriptors)),
                pack_codes(model.encode(train.descriptors)),
            )
            report = retrieval_report(
                distances,
                test.labels,
                train.labels,
                k=100,
                class_names=train.class_names,
                ties="random",
                seed=config.seed,
            )
            report["ties_average_map_at_100"] = retrieval_report(
                distances, test.labels, train.labels, k=100, precision_ks=(10,), ties="average"
            )["map_at_100"]
            with atomic_write(path, "w") as handle:
                json.dump(report, handle, indent=1)
            return {"map_at_100": report["map_at_100"]}

        run.stage(f"evaluate-{bits}", [evaluation_path], evaluate_model)
        results["bits"][bits] = json.loads(evaluation_path.read_text())

    main_model_path = run.path(f"model-{evaluation.main_bits}.pt")
    archive_path = run.path(f"archive-{evaluation.main_bits}.chx")

    def build_archive() -> dict:
        from cli._provenance import file_sha256
        from retrieval.archive import Archive, save_archive
        from retrieval.index import HammingIndex

        model = load_model(main_model_path)
        index = HammingIndex(model.bits)
        index.add(model.encode(train.descriptors))
        save_archive(
            Archive(
                index,
                train.paths,
                train.labels,
                train.class_names,
                str(bank_path.resolve()),
                file_sha256(bank_path),
                str(main_model_path.resolve()),
                file_sha256(main_model_path),
                {"dataset": dataset.source, "split": "train"},
                train.descriptors,
                train.angles_deg,
            ),
            archive_path,
        )
        return {"items": len(index)}

    run.stage(f"index-{evaluation.main_bits}", [archive_path], build_archive)

    svm_path = run.path("svm.json")

    def svm() -> dict:
        from cosfire import atomic_write
        from retrieval.classification import choose_on_valid, svm_accuracy

        # the row normalisation is chosen with C on valid (L2 alone wins for filter maxima;
        # standardising every column can help where morphology extras are appended)
        protocol, best_c, scores = choose_on_valid(
            train.descriptors,
            train.labels,
            valid.descriptors,
            valid.labels,
            normalisations=("l2", "l2+standard") if config.bank.extras else ("l2",),
            cs=(0.1, 1.0, 10.0, 100.0),
        )
        accuracy, _ = svm_accuracy(
            train.descriptors,
            train.labels,
            test.descriptors,
            test.labels,
            c=best_c,
            protocol=protocol,
        )
        summary = SVMResult(
            kernel="quadratic",
            c=best_c,
            valid_accuracy=scores,
            test_accuracy=accuracy,
            normalisation=protocol.normalisation if config.bank.extras else None,
        )
        with atomic_write(svm_path, "w") as handle:
            json.dump(summary.to_dict(), handle, indent=1)
        return {"test_accuracy": accuracy}

    run.stage("svm", [svm_path], svm)
    results["svm"] = json.loads(svm_path.read_text())

    if evaluation.robustness:
        main_model = load_model(main_model_path)
        database_codes = pack_codes(main_model.encode(train.descriptors))

        def perturbed_map(name: str, reader: TransformedReader, with_bank=None) -> dict:
            target = run.path(f"test-{name}.npz")
            run.stage(
                f"describe-test-{name}", [target], describe_split("test", target, reader, with_bank)
            )
            perturbed = load_descriptors(target)
            distances = hamming_distances(
                pack_codes(main_model.encode(perturbed.descriptors)), database_codes
            )
            return retrieval_report(
                distances,
                perturbed.labels,
                train.labels,
                k=100,
                precision_ks=(10,),
                class_names=train.class_names,
                ties="random",
                seed=config.seed,
            )

        # every query rotated by a random angle; several draws of the angles, because one
        # draw moves mAP@100 by about a point either way
        rotated = [
            perturbed_map(
                rotated_test_name(draw),
                TransformedReader(dataset, rotate=True, seed=rotated_test_seed(config.seed, draw)),
            )
            for draw in range(evaluation.rotation_draws)
        ]
        results["rotation"] = rotated[0]
        results["rotation_draws"] = {"map_at_100": [r["map_at_100"] for r in rotated]}
        results["noise"] = {
            level: perturbed_map(
                f"noise{level:g}", TransformedReader(dataset, noise=level, seed=config.seed)
            )
            for level in evaluation.noise_levels
        }
        # the same noisy queries without the background clipping: what noise does to COSFIRE
        if bank.preprocessing.noise_clip is not None:
            unclipped = dataclasses.replace(
                bank, preprocessing=dataclasses.replace(bank.preprocessing, noise_clip=None)
            )
            results["noise_unclipped"] = {
                level: perturbed_map(
                    f"noise{level:g}-unclipped",
                    TransformedReader(dataset, noise=level, seed=config.seed),
                    unclipped,
                )
                for level in evaluation.noise_levels
            }
    results["seconds"] = run.seconds()
    results["config"] = config.to_dict()
    results["bank"] = {"filters": bank.n_filters, "sha256": bank.sha256}
    # through JSON, so that the returned results equal what results.json reads back
    finished = PipelineResults.from_dict(json.loads(json.dumps(results, default=str)))
    finished.to_json(run.path("results.json"))
    return finished
