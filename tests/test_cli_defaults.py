"""Every default of a command option that mirrors a library setting is the library's.

For every command but ``data`` (``pipeline``, ``tune``, ``train``, ``configure``, ``describe``,
``index``, ``search``, ``evaluate``, ``anomalies``, ``explain``), every option
is either in ``MIRRORS`` (its default is compared with the library config field or function
default it stands for) or in ``NO_COUNTERPART`` (with the reason), so that a new option must be
classified here before the tests pass. Defaults of None that mean "the recipe's / preset's"
are in ``DECIDED_BY_LIBRARY``, with the check that the library value exists.
"""

from __future__ import annotations

import inspect
import math

import click
import pytest

from cli.describing import describe_into
from cli.main import main
from cli.pipeline import BankSettings, EvaluationSettings, PipelineConfig, RunOptions
from cli.training import train_cnn_on_dataset
from cli.tuning import PAPER_GRID, TuneConfig
from cli.tuning import tune as library_tune
from cosfire.bank import configure_bank
from cosfire.configure import FilterConfig
from cosfire.descriptor import describe_report
from cosfire.preprocess import Preprocessing
from cosfire.presets import bank_preset
from hashing.cnn import CNNConfig
from hashing.training import RECIPES, TrainingConfig
from retrieval.anomalies import AnomalyConfig
from retrieval.index import HammingIndex
from retrieval.metrics import retrieval_report


def _default(function, name: str):
    return inspect.signature(function).parameters[name].default


def _off(value):
    """A command's 0 = off is the library's None."""
    return None if value == 0 else value


def _given_default(parameter):
    """The option's default; None for an option without one (click 8.2 marks it UNSET)."""
    unset = getattr(click.core, "UNSET", None)
    return None if unset is not None and parameter.default is unset else parameter.default


def _numbers(text: str) -> tuple[float, ...]:
    from cli._parsing import parse_number_list

    return parse_number_list(text, name="test")


#: (command, option) -> (the option's default as the library value, the library's default)
MIRRORS = {
    ("pipeline", "dataset"): (str, PipelineConfig().dataset),
    ("pipeline", "bits"): (lambda t: tuple(int(b) for b in _numbers(t)), EvaluationSettings().bits),
    ("pipeline", "main_bits"): (int, EvaluationSettings().main_bits),
    ("pipeline", "noise_clip"): (float, Preprocessing().noise_clip),
    ("pipeline", "smooth_px"): (_off, Preprocessing().smooth_px),
    ("pipeline", "train_rotations"): (int, PipelineConfig().train_rotations),
    ("pipeline", "rotations"): (int, BankSettings().rotations),
    ("pipeline", "rotation_draws"): (int, EvaluationSettings().rotation_draws),
    ("pipeline", "recipe"): (lambda name: RECIPES[name], PipelineConfig().training),
    ("pipeline", "no_robustness"): (lambda flag: not flag, EvaluationSettings().robustness),
    ("pipeline", "jobs"): (int, RunOptions().jobs),
    ("pipeline", "seed"): (int, PipelineConfig().seed),
    ("pipeline", "bank_sigmas"): (lambda v: () if v is None else v, BankSettings().sigmas),
    ("pipeline", "preset"): (
        lambda name: (bank_preset(name).sigmas, bank_preset(name).smooth_px),
        ((FilterConfig().sigma,), Preprocessing().smooth_px),
    ),
    ("tune", "grid_path"): (lambda v: dict(PAPER_GRID) if v is None else v, TuneConfig().grid),
    ("tune", "per_class"): (int, TuneConfig().per_class),
    ("tune", "pool_per_class"): (int, TuneConfig().pool_per_class),
    ("tune", "development_per_class"): (int, TuneConfig().development_per_class),
    ("tune", "folds"): (int, TuneConfig().folds),
    ("tune", "repeats"): (int, TuneConfig().repeats),
    ("tune", "seed"): (int, TuneConfig().seed),
    ("tune", "jobs"): (int, _default(library_tune, "n_jobs")),
    ("train", "bits"): (int, TrainingConfig().bits),
    ("train", "seed"): (int, TrainingConfig().seed),
    ("train", "device"): (str, TrainingConfig().device),
    ("train", "recipe"): (lambda name: RECIPES[name], TrainingConfig()),
    ("train", "split"): (str, _default(train_cnn_on_dataset, "split")),
    ("train", "valid_split"): (str, _default(train_cnn_on_dataset, "valid_split")),
    ("train", "train_limit"): (lambda v: v, _default(train_cnn_on_dataset, "train_limit")),
    ("train", "weights"): (lambda v: v, CNNConfig().weights),
    ("train", "pretrained"): (bool, CNNConfig().pretrained),
    ("configure", "seed"): (int, _default(configure_bank, "seed")),
    ("configure", "input_filter"): (str, FilterConfig().input_filter),
    ("configure", "sigma"): (lambda t: _numbers(t)[0], FilterConfig().sigma),
    ("configure", "polarity"): (str, FilterConfig().polarity),
    ("configure", "sigma_ratio"): (float, FilterConfig().sigma_ratio),
    ("configure", "wavelengths"): (_numbers, FilterConfig().wavelengths),
    ("configure", "orientations"): (int, FilterConfig().orientations),
    ("configure", "rhos"): (_numbers, FilterConfig().rhos),
    ("configure", "t1"): (float, FilterConfig().t1),
    ("configure", "t2"): (float, FilterConfig().t2),
    ("configure", "eta_deg"): (math.radians, FilterConfig().eta),
    ("configure", "sigma0"): (float, FilterConfig().sigma0),
    ("configure", "alpha"): (float, FilterConfig().alpha),
    ("configure", "blur"): (str, FilterConfig().blur),
    ("configure", "weighted"): (bool, FilterConfig().weighted),
    ("configure", "weight_rule"): (str, FilterConfig().weight_rule),
    ("configure", "shift"): (str, FilterConfig().shift),
    ("configure", "rotations"): (int, BankSettings().rotations),
    ("configure", "crop"): (_off, Preprocessing().crop_px),
    ("configure", "noise_clip"): (_off, Preprocessing().noise_clip),
    ("configure", "smooth_px"): (_off, Preprocessing().smooth_px),
    ("configure", "bank_sigmas"): (lambda v: () if v is None else v, BankSettings().sigmas),
    ("configure", "preset"): (
        lambda name: (bank_preset(name).sigmas, bank_preset(name).smooth_px),
        ((FilterConfig().sigma,), Preprocessing().smooth_px),
    ),
    ("describe", "jobs"): (int, _default(describe_into, "n_jobs")),
    ("describe", "backend"): (str, _default(describe_into, "backend")),
    ("describe", "chunk_size"): (int, _default(describe_into, "chunk_size")),
    ("describe", "on_error"): (
        {"fail": "raise", "skip": "skip"}.get,
        _default(describe_into, "on_error"),
    ),
    ("describe", "angles"): (bool, _default(describe_into, "angles")),
    ("index", "kind"): (str, _default(HammingIndex.__init__, "kind")),
    ("evaluate", "k"): (int, _default(retrieval_report, "k")),
    ("evaluate", "ties"): (str, _default(retrieval_report, "ties")),
    ("evaluate", "seed"): (int, _default(retrieval_report, "seed")),
    ("anomalies", "method"): (str, AnomalyConfig().method),
    ("anomalies", "features"): (str, AnomalyConfig().features),
    ("anomalies", "n_neighbors"): (int, AnomalyConfig().n_neighbors),
    ("anomalies", "seed"): (int, AnomalyConfig().seed),
}  # fmt: skip  (a table: one option per line reads better than ruff's wrapped entries)

#: options whose default None means "the recipe's" or "the preset's": the library field that
#: decides, which must exist
DECIDED_BY_LIBRARY = {
    ("pipeline", "per_class"): (bank_preset("papers"), "per_class"),
    ("pipeline", "extras"): (bank_preset("papers"), "extras"),
    ("configure", "per_class"): (bank_preset("papers"), "per_class"),
    ("configure", "extras"): (bank_preset("papers"), "extras"),
    **{
        ("train", name): (TrainingConfig(), name)
        for name in (
            "epochs",
            "lr",
            "batch_size",
            "margin",
            "alpha",
            "optimizer",
            "loss",
            "normalisation",
            "dropout",
            "patience",
            "threshold",
        )
    },
    **{("train", name): (CNNConfig(), name) for name in ("input_px", "crop_px", "frozen_epochs")},
}

#: options that set no library default, and why
NO_COUNTERPART = {
    ("pipeline", "out"): "the run folder, required",
    ("pipeline", "params"): "a file of filter options (best.json of tune); none: FilterConfig()",
    ("pipeline", "quiet"): "shell only: progress bars (the library shows none by default)",
    ("tune", "dataset"): "the command's data set, FIRST; the library takes an opened dataset",
    ("tune", "out"): "output folder, required",
    ("tune", "quiet"): "shell only: progress bar",
    ("train", "train_path"): "input file",
    ("train", "valid_path"): "input file (none: a stratified 20 % of TRAIN)",
    ("train", "backbone"): "chooses a CNN instead of the MLP",
    ("train", "dataset"): "CNN input data set",
    ("train", "curve"): "output file (default next to the model)",
    ("train", "output"): "output file, required",
    ("train", "quiet"): "shell only: progress bar",
    ("configure", "dataset_source"): "input data set",
    ("configure", "split"): "input split",
    ("configure", "prototype"): "input image",
    ("configure", "center"): "point on the input image (none: its centre)",
    ("configure", "label"): "class name of the input image",
    ("configure", "output"): "output file, required",
    ("describe", "bank_path"): "input file, required",
    ("describe", "inputs"): "input images",
    ("describe", "split"): "input split",
    ("describe", "output"): "output file, required",
    ("describe", "quiet"): "shell only: progress bar",
    ("index", "bank_path"): "input file (none: an archive searched by descriptors only)",
    ("index", "model_path"): "input file, required",
    ("index", "descriptors_path"): "input file",
    ("index", "dataset"): "input data set (CNN archives)",
    ("index", "split"): "input split",
    ("index", "output"): "output file, required",
    ("search", "archive_path"): "input file",
    ("search", "queries"): "input images, descriptor files or archive items",
    ("search", "k"): "shell only: how many results to print (HammingIndex.search has no default)",
    ("search", "as_json"): "shell only: output format",
    ("search", "plot"): "output file",
    ("search", "explain_path"): "output file",
    ("search", "explain_rank"): "shell only: which printed result --explain draws",
    ("search", "bank_override"): "input file (none: the one the archive records)",
    ("search", "model_override"): "input file (none: the one the archive records)",
    ("evaluate", "archive_path"): "input file",
    ("evaluate", "queries_path"): "input file",
    ("evaluate", "dataset"): "input data set (CNN archives)",
    ("evaluate", "split"): "input split (the queries)",
    ("evaluate", "as_json"): "shell only: output format",
    ("evaluate", "plot_dir"): "output folder",
    ("evaluate", "bank_override"): "input file (none: the one the archive records)",
    ("evaluate", "model_override"): "input file (none: the one the archive records)",
    ("anomalies", "archive_path"): "input file",
    ("anomalies", "queries"): "input images or descriptor files (none: the archive's own items)",
    ("anomalies", "top"): "shell only: how many ranked galaxies to print",
    ("anomalies", "as_json"): "shell only: output format",
    ("anomalies", "plot"): "output file",
    ("anomalies", "bank_override"): "input file (none: the one the archive records)",
    ("anomalies", "model_override"): "input file (none: the one the archive records)",
    ("explain", "bank_path"): "input file",
    ("explain", "filter_number"): "which filter of the input bank (the first)",
    ("explain", "prototype"): "input image",
    ("explain", "image"): "input image",
    ("explain", "output"): "output file",
}

COMMANDS = (
    "pipeline",
    "tune",
    "train",
    "configure",
    "describe",
    "index",
    "search",
    "evaluate",
    "anomalies",
    "explain",
)


def _parameters():
    for command in COMMANDS:
        for parameter in main.get_command(None, command).params:
            yield command, parameter


def test_every_option_is_classified():
    classified = set(MIRRORS) | set(DECIDED_BY_LIBRARY) | set(NO_COUNTERPART)
    options = {(command, parameter.name) for command, parameter in _parameters()}
    assert options - classified == set(), "classify the new options in this file"
    assert classified - options == set(), "options listed here that no command has"


@pytest.mark.parametrize("key", sorted(MIRRORS), ids=lambda k: "-".join(k))
def test_option_default_is_the_library_default(key):
    command, name = key
    parameter = next(p for p in main.get_command(None, command).params if p.name == name)
    convert, library = MIRRORS[key]
    assert convert(_given_default(parameter)) == library


@pytest.mark.parametrize("key", sorted(DECIDED_BY_LIBRARY), ids=lambda k: "-".join(k))
def test_option_left_to_the_library_defaults_to_none(key):
    command, name = key
    parameter = next(p for p in main.get_command(None, command).params if p.name == name)
    holder, field = DECIDED_BY_LIBRARY[key]
    assert _given_default(parameter) is None and hasattr(holder, field)


def test_train_and_pipeline_train_the_same_model_by_default():
    train = next(p for p in main.get_command(None, "train").params if p.name == "recipe")
    pipeline = next(p for p in main.get_command(None, "pipeline").params if p.name == "recipe")
    assert RECIPES[train.default] == RECIPES[pipeline.default] == PipelineConfig().training


class _Captured(Exception):
    """Raised by the stand-ins below once they hold what the command would run."""


def _capture(monkeypatch, module, name: str, position: int = 0) -> dict:
    """Replace ``module.name`` by a stand-in that keeps its argument ``position`` and stops."""
    captured: dict = {}

    def stand_in(*args, **kwargs):
        captured["value"] = args[position]
        raise _Captured

    monkeypatch.setattr(module, name, stand_in)
    return captured


@pytest.mark.parametrize("dataset", ["synthetic", "first"])
def test_pipeline_command_runs_the_python_default_config(dataset, monkeypatch, tmp_path):
    from click.testing import CliRunner

    import cli.pipeline

    captured = _capture(monkeypatch, cli.pipeline, "run_pipeline")
    result = CliRunner().invoke(main, ["pipeline", "--dataset", dataset, "--out", str(tmp_path)])
    assert isinstance(result.exception, _Captured), result.output
    assert captured["value"] == PipelineConfig(dataset=dataset)
    assert captured["value"].per_class == (10 if dataset == "synthetic" else 93)


def test_configure_takes_the_same_filters_per_class_as_the_pipeline(monkeypatch, tmp_path):
    from click.testing import CliRunner

    import cli.configuring

    captured: dict = {}

    def stand_in(dataset, split, **options):
        captured.update(options)
        raise _Captured

    monkeypatch.setattr(cli.configuring, "configure_from_dataset", stand_in)
    arguments = ["configure", "--dataset", "synthetic", "-o", str(tmp_path / "bank.json")]
    result = CliRunner().invoke(main, arguments)
    assert isinstance(result.exception, _Captured), result.output
    assert captured["per_class"] == PipelineConfig(dataset="synthetic").per_class


def test_train_command_trains_the_pipelines_model_by_default(monkeypatch, tmp_path):
    import dataclasses

    from click.testing import CliRunner

    import cli.training

    captured = _capture(monkeypatch, cli.training, "train_from_descriptor_files", position=2)
    (tmp_path / "train.npz").write_bytes(b"")
    result = CliRunner().invoke(main, ["train", str(tmp_path / "train.npz"), "-o", "m.pt"])
    assert isinstance(result.exception, _Captured), result.output
    pipeline = PipelineConfig()
    assert captured["value"] == dataclasses.replace(
        pipeline.training, bits=pipeline.evaluation.main_bits, seed=pipeline.seed
    )


@pytest.mark.parametrize("backbone", ["compact", "densenet161", "hrnet_w18"])
def test_train_backbone_takes_the_library_recipe(backbone, monkeypatch):
    from click.testing import CliRunner

    import cli.training
    from hashing.cnn import backbone_config

    captured = _capture(monkeypatch, cli.training, "train_cnn_on_dataset", position=1)
    arguments = ["train", "--backbone", backbone, "--dataset", "synthetic", "-o", "m.pt"]
    result = CliRunner().invoke(main, arguments)
    assert isinstance(result.exception, _Captured), result.output
    # --bits is the one code length option of `train` for both kinds: TrainingConfig's
    assert captured["value"] == backbone_config(backbone, bits=TrainingConfig().bits)


@pytest.mark.parametrize("name", ["n_jobs", "backend", "chunk_size", "on_error"])
def test_describe_into_defaults_are_describe_reports(name):
    from cli.describing import describe_to_file

    library = _default(describe_report, name)
    assert _default(describe_into, name) == _default(describe_to_file, name) == library
