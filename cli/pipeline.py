"""The main job as resumable stages: bank -> descriptors -> models -> archives -> report.

Every stage writes its files atomically and then a marker ``stages/<name>.json`` with its
wall time; a stage whose marker and outputs exist is not run again, so an interrupted run
started again with the same settings continues where it stopped. The run's settings are kept
in ``run.json``; a run folder refuses other settings (start a new folder instead).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cosfire import atomic_write

if TYPE_CHECKING:
    from cosfire.configure import FilterConfig

__all__ = [
    "PipelineConfig",
    "PipelineRun",
    "TransformedReader",
    "hashing_training_set",
    "run_pipeline",
]

RUN_FORMAT_VERSION = 1


@dataclass(frozen=True)
class PipelineConfig:
    """Settings of a pipeline run (saved as ``run.json``)."""

    dataset: str = "synthetic"
    per_class: int = 93
    seed: int = 0
    filter_config: dict[str, Any] = field(default_factory=dict)
    bank_sigmas: tuple[float, ...] = ()
    crop_px: int | None = 150
    noise_clip: float | None = 3.0
    smooth_px: float | None = None
    extras: tuple[str, ...] = ()
    train_rotations: int = 0
    rotations: int = 24
    rotation_draws: int = 5
    bits: tuple[int, ...] = (8, 16, 24, 32, 36, 48, 64, 72)
    main_bits: int = 36
    training: dict[str, Any] = field(default_factory=dict)
    noise_levels: tuple[float, ...] = (0.05, 0.1, 0.2)
    robustness: bool = True
    jobs: int = 2

    def __post_init__(self) -> None:
        from hashing.training import TrainingConfig

        # record the training settings in full, so that changed defaults mean a new run
        training = {**TrainingConfig().to_dict(), **self.training}
        for per_run in ("bits", "seed"):
            training.pop(per_run, None)
        object.__setattr__(self, "training", training)
        object.__setattr__(self, "bits", tuple(int(b) for b in self.bits))
        object.__setattr__(self, "noise_levels", tuple(float(n) for n in self.noise_levels))
        object.__setattr__(self, "bank_sigmas", tuple(float(s) for s in self.bank_sigmas))
        object.__setattr__(self, "extras", tuple(str(e) for e in self.extras))
        if not all(math.isfinite(s) and s > 0 for s in self.bank_sigmas):
            raise ValueError(f"bank sigmas must be > 0 px, got {self.bank_sigmas}")
        if self.train_rotations < 0:
            raise ValueError(f"--train-rotations must be >= 0, got {self.train_rotations}")
        if self.rotation_draws < 1:
            raise ValueError(f"--rotation-draws must be >= 1, got {self.rotation_draws}")
        if self.smooth_px is not None and not (
            math.isfinite(self.smooth_px) and self.smooth_px > 0
        ):
            raise ValueError(f"--smooth-px must be > 0 px, got {self.smooth_px}")
        if self.main_bits not in self.bits:
            raise ValueError(f"--main-bits {self.main_bits} must be one of --bits {self.bits}")

    def to_dict(self) -> dict[str, Any]:
        """Return the run's identity as JSON-able settings (execution options such as
        ``jobs`` are left out: they do not change the results)."""
        spec = asdict(self)
        del spec["jobs"]
        spec["bits"] = list(self.bits)
        spec["noise_levels"] = list(self.noise_levels)
        if self.bank_sigmas:
            spec["bank_sigmas"] = list(self.bank_sigmas)
        else:  # a one-sigma run's settings read as they did before mixed banks existed
            del spec["bank_sigmas"]
        if self.smooth_px is None:  # likewise for runs without smoothing
            del spec["smooth_px"]
        if self.extras:  # and without morphology extras
            spec["extras"] = list(self.extras)
        else:
            del spec["extras"]
        if not self.train_rotations:  # and without rotated training copies
            del spec["train_rotations"]
        if self.rotation_draws == 1:  # and with one draw of rotated queries
            del spec["rotation_draws"]
        return spec

    def filter_configs(self) -> list[FilterConfig]:
        """The bank's FilterConfig, or one per bank sigma (a mixed bank), as a list."""
        from cosfire.configure import FilterConfig

        base = FilterConfig.from_dict(self.filter_config) if self.filter_config else FilterConfig()
        if not self.bank_sigmas:
            return [base]
        return [dataclasses.replace(base, sigma=sigma) for sigma in self.bank_sigmas]


class TransformedReader:
    """Reads dataset items, then rotates them by a per-item random angle or adds noise.

    Picklable, so parallel workers can use it. The angle / noise of an item derive from its
    name and the seed, so reruns see the same perturbed images.
    """

    def __init__(self, dataset, *, rotate: bool = False, noise: float = 0.0, seed: int = 0):
        self.dataset = dataset
        self.rotate = rotate
        self.noise = noise
        self.seed = seed

    def _rng(self, item) -> np.random.Generator:
        return np.random.default_rng([self.seed, zlib.crc32(item.path.encode())])

    def angle(self, item) -> float:
        """The rotation angle of ``item`` in degrees."""
        return float(self._rng(item).uniform(0.0, 360.0))

    def __call__(self, item) -> np.ndarray:
        import cv2

        image = self.dataset.read(item)
        if self.rotate:
            height, width = image.shape
            matrix = cv2.getRotationMatrix2D(
                ((width - 1) / 2, (height - 1) / 2), self.angle(item), 1.0
            )
            image = cv2.warpAffine(
                image, matrix, (width, height), flags=cv2.INTER_CUBIC, borderValue=0
            )
            image = np.clip(image, 0, None)
        if self.noise > 0:
            rng = self._rng(item)
            rng.uniform()  # decouple from the angle draw
            image = image + rng.normal(0.0, self.noise * float(image.max()), image.shape).astype(
                np.float32
            )
        return image.astype(np.float32)


class PipelineRun:
    """A run folder: settings, stage markers, and the helpers that run stages once."""

    def __init__(self, folder: Path, config: PipelineConfig, echo: Callable[[str], None] = print):
        self.folder = folder
        self.config = config
        self.echo = echo
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "stages").mkdir(exist_ok=True)
        settings = folder / "run.json"
        wanted = {"format_version": RUN_FORMAT_VERSION, "config": config.to_dict()}
        if settings.exists():
            recorded = json.loads(settings.read_text())
            recorded.get("config", {}).pop("jobs", None)  # runs written before jobs left it
            if recorded != wanted:
                raise ValueError(
                    f"{folder} holds a run with other settings; use another --out folder (or "
                    f"delete {settings} to start this one again)"
                )
        else:
            with atomic_write(settings, "w") as handle:
                json.dump(wanted, handle, indent=1)

    def path(self, name: str) -> Path:
        return self.folder / name

    def stage(self, name: str, outputs: list[Path], work: Callable[[], Any]) -> dict[str, Any]:
        """Run ``work`` unless stage ``name`` finished before; return its marker."""
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
    from cosfire.descriptor_file import load_descriptors

    copies = [load_descriptors(rotated_train_path(folder, c)) for c in range(train_rotations)]
    return (
        np.concatenate([train.descriptors, *[c.descriptors for c in copies]]),
        np.concatenate([train.labels, *[c.labels for c in copies]]),
    )


def _progress_bar(total: int, label: str, quiet: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="img", disable=quiet, leave=False)


def run_pipeline(folder: Path, config: PipelineConfig, *, quiet: bool = False, echo=print) -> dict:
    """Run (or continue) the whole pipeline in ``folder``; return the collected results."""
    from hashing.training import torch_threads

    with torch_threads(max(1, config.jobs)):
        return _run_pipeline(folder, config, quiet=quiet, echo=echo)


def _run_pipeline(folder: Path, config: PipelineConfig, *, quiet: bool, echo) -> dict:
    from cosfire.bank import configure_bank, load_bank
    from cosfire.datasets import open_dataset
    from cosfire.descriptor_file import load_descriptors
    from cosfire.preprocess import Preprocessing
    from hashing.model import load_model
    from hashing.training import TrainingConfig, train_hashing
    from retrieval.codes import pack_codes
    from retrieval.metrics import hamming_distances, retrieval_report

    run = PipelineRun(folder, config, echo)
    dataset = open_dataset(config.dataset)
    for split in ("train", "valid", "test"):
        if split not in dataset.splits:
            raise ValueError(
                f"{dataset.source} has splits {dataset.splits}; the pipeline needs train, valid "
                "and test"
            )
    bank_path = run.path("bank.json")

    def configure() -> dict:
        items = dataset.items("train")
        bank = configure_bank(
            items,
            [i.label for i in items],
            class_names=dataset.class_names,
            per_class=config.per_class,
            seed=config.seed,
            config=config.filter_configs(),
            preprocessing=Preprocessing(
                crop_px=config.crop_px, noise_clip=config.noise_clip, smooth_px=config.smooth_px
            ),
            rotations_deg=tuple(360.0 * i / config.rotations for i in range(config.rotations)),
            read=dataset.read,
            sources=[dataset.name(i) for i in items],
            extras=config.extras,
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
            from cli._describing import describe_to_file

            items = dataset.items(split)
            with _progress_bar(len(items), f"describe {target.stem}", quiet) as bar:
                report = describe_to_file(
                    with_bank or bank, items, read=read, names=[dataset.name(i) for i in items],
                    labels=[i.label for i in items], class_names=dataset.class_names,
                    output=target, n_jobs=config.jobs, on_error="skip", progress=bar.update,
                    angles=True,  # the rotation of each filter's maximum: search's angle_deg
                )  # fmt: skip
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
    training_defaults = TrainingConfig()
    for bits in config.bits:
        model_path = run.path(f"model-{bits}.pt")

        def train_model(bits: int = bits, model_path: Path = model_path) -> dict:
            from hashing.curves import plot_training_curves

            options = {
                **training_defaults.to_dict(),
                **config.training,
                "bits": bits,
                "seed": config.seed,
            }
            model, history = train_hashing(
                hashing_x, hashing_y, valid.descriptors, valid.labels,
                config=TrainingConfig(**options), bank_sha256=bank.sha256,
                database=(train.descriptors, train.labels),
            )  # fmt: skip
            model.metadata["class_names"] = list(train.class_names)
            model.save(model_path)
            plot_training_curves(history, run.path(f"model-{bits}.curve.png"))
            return {"valid_map_at_100": history.best_valid_map, "best_epoch": history.best_epoch,
                    "training_rows": len(hashing_y)}  # fmt: skip

        run.stage(f"train-{bits}", [model_path], train_model)
        evaluation_path = run.path(f"eval-{bits}.json")

        def evaluate_model(
            bits: int = bits, model_path: Path = model_path, path: Path = evaluation_path
        ) -> dict:
            model = load_model(model_path)
            distances = hamming_distances(
                pack_codes(model.encode(test.descriptors)),
                pack_codes(model.encode(train.descriptors)),
            )
            report = retrieval_report(
                distances, test.labels, train.labels, k=100, class_names=train.class_names,
                ties="random", seed=config.seed,
            )  # fmt: skip
            report["ties_average_map_at_100"] = retrieval_report(
                distances, test.labels, train.labels, k=100, precision_ks=(10,), ties="average"
            )["map_at_100"]
            with atomic_write(path, "w") as handle:
                json.dump(report, handle, indent=1)
            return {"map_at_100": report["map_at_100"]}

        run.stage(f"evaluate-{bits}", [evaluation_path], evaluate_model)
        results["bits"][bits] = json.loads(evaluation_path.read_text())

    main_model_path = run.path(f"model-{config.main_bits}.pt")
    archive_path = run.path(f"archive-{config.main_bits}.chx")

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

    run.stage(f"index-{config.main_bits}", [archive_path], build_archive)

    svm_path = run.path("svm.json")

    def svm() -> dict:
        from retrieval.classification import choose_on_valid, svm_accuracy

        # the row normalisation is chosen with C on valid (L2 alone wins for filter maxima;
        # standardising every column can help where morphology extras are appended)
        protocol, best_c, scores = choose_on_valid(
            train.descriptors,
            train.labels,
            valid.descriptors,
            valid.labels,
            normalisations=("l2", "l2+standard") if config.extras else ("l2",),
            cs=(0.1, 1.0, 10.0, 100.0),
        )
        normalisation = protocol.normalisation
        accuracy, _ = svm_accuracy(
            train.descriptors,
            train.labels,
            test.descriptors,
            test.labels,
            c=best_c,
            protocol=protocol,
        )
        summary = {
            "kernel": "quadratic",
            "C": best_c,
            "valid_accuracy": scores,
            "test_accuracy": accuracy,
        }
        if config.extras:
            summary["normalisation"] = normalisation
        with atomic_write(svm_path, "w") as handle:
            json.dump(summary, handle, indent=1)
        return {"test_accuracy": accuracy}

    run.stage("svm", [svm_path], svm)
    results["svm"] = json.loads(svm_path.read_text())

    if config.robustness:
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
                distances, perturbed.labels, train.labels, k=100, precision_ks=(10,),
                class_names=train.class_names, ties="random", seed=config.seed,
            )  # fmt: skip

        # every query rotated by a random angle; several draws of the angles, because one
        # draw moves mAP@100 by about a point either way
        rotated = [
            perturbed_map(
                rotated_test_name(draw),
                TransformedReader(dataset, rotate=True, seed=rotated_test_seed(config.seed, draw)),
            )
            for draw in range(config.rotation_draws)
        ]
        results["rotation"] = rotated[0]
        draws = [r["map_at_100"] for r in rotated]
        results["rotation_draws"] = {
            "map_at_100": draws,
            "mean": float(np.mean(draws)),
            "sd": float(np.std(draws)),
        }
        results["noise"] = {
            level: perturbed_map(
                f"noise{level:g}", TransformedReader(dataset, noise=level, seed=config.seed)
            )
            for level in config.noise_levels
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
                for level in config.noise_levels
            }
    results["seconds"] = run.seconds()
    results["config"] = config.to_dict()
    results["bank"] = {"filters": bank.n_filters, "sha256": bank.sha256}
    with atomic_write(run.path("results.json"), "w") as handle:
        json.dump(results, handle, indent=1, default=str)
    return results
