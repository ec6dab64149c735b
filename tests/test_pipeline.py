"""The pipeline runs end to end, resumes without redoing stages, and refuses mixed settings."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli.main import main
from cli.pipeline import (
    BankSettings,
    EvaluationSettings,
    PipelineConfig,
    PipelineResults,
    PipelineRun,
    RunOptions,
    run_pipeline,
)


def test_pipeline_runs_resumes_and_reports(synthetic_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    arguments = [
        "pipeline",
        "--dataset",
        str(synthetic_root),
        "--out",
        str(out),
        "--per-class",
        "2",
        "--bits",
        "8,12",
        "--main-bits",
        "12",
        "--rotations",
        "8",
        "--rotation-draws",
        "2",
        "--jobs",
        "1",
        "--quiet",
    ]
    first = CliRunner().invoke(main, arguments, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "[configure]" in first.output and "test mAP@100 at 12 bits" in first.output
    for name in (
        "bank.json",
        "train.npz",
        "valid.npz",
        "test.npz",
        "model-8.pt",
        "model-12.pt",
        "archive-12.chx",
        "eval-8.json",
        "svm.json",
        "test-rotated.npz",
        "report.md",
        "queries.png",
        "map_vs_bits.png",
    ):
        assert (out / name).is_file(), name
    results = json.loads((out / "results.json").read_text())
    assert set(results["bits"]) == {"8", "12"}
    assert 0 <= results["bits"]["12"]["map_at_100"] <= 1
    assert set(results["noise"]) == {"0.05", "0.1", "0.2"}
    # two draws of the rotated queries: other angles, so other descriptors; their mean reported
    first_draw, second_draw = (np.load(out / f"test-{n}.npz") for n in ("rotated", "rotated-d1"))
    assert not np.array_equal(first_draw["descriptors"], second_draw["descriptors"])
    draws = results["rotation_draws"]
    assert draws["map_at_100"][0] == results["rotation"]["map_at_100"]
    assert len(draws["map_at_100"]) == 2 and draws["mean"] == np.mean(draws["map_at_100"])
    report = (out / "report.md").read_text()
    assert "| 12 |" in report and "random angle" in report and "SVM" in report
    assert "mean +- sd of 2 draws" in report

    markers = {p.name: p.stat().st_mtime_ns for p in (out / "stages").glob("*.json")}
    second = CliRunner().invoke(main, arguments, catch_exceptions=False)
    assert second.exit_code == 0 and "[configure]" not in second.output
    assert markers == {p.name: p.stat().st_mtime_ns for p in (out / "stages").glob("*.json")}

    # a lost stage output is rebuilt, nothing else
    (out / "eval-8.json").unlink()
    third = CliRunner().invoke(main, arguments, catch_exceptions=False)
    assert "[evaluate-8]" in third.output and "[train-8]" not in third.output

    other = CliRunner().invoke(main, [*arguments[:-3], "--seed", "5", "--quiet"])
    assert other.exit_code == 1 and "other settings" in other.output


def test_tune_cross_validates_a_grid_and_feeds_the_pipeline(
    synthetic_root: Path, tmp_path: Path
) -> None:
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({"sigma": [2.0, 4.0], "rho_max": [10]}))
    arguments = [
        "tune",
        "--dataset",
        str(synthetic_root),
        "--out",
        str(tmp_path / "tune"),
        "--grid",
        str(grid),
        "--per-class",
        "2",
        "--pool-per-class",
        "6",
        "--development-per-class",
        "12",
        "--folds",
        "3",
        "--repeats",
        "1",
        "--jobs",
        "1",
        "--quiet",
    ]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    assert "chosen setting on the test split (once)" in result.output
    summary = json.loads((tmp_path / "tune" / "tune.json").read_text())
    assert len(summary["results"]) == 2 and summary["folds"] == 3
    for row in summary["results"]:
        assert 0 <= row["cv_accuracy"] <= 1 and len(row["cv"]["accuracies"]["1.0"]) == 3
    best = json.loads((tmp_path / "tune" / "best.json").read_text())
    assert best["filter_config"]["rhos"] == [0.0, 5.0, 10.0]
    assert best["filter_config"]["sigma"] == summary["best"]["sigma"]
    assert best["cv_accuracy"] == max(r["cv_accuracy"] for r in summary["results"])
    other = next(r for r in summary["results"] if r["sigma"] != summary["best"]["sigma"])
    assert other["against_best"]["mean_difference"] <= 0  # paired on the same folds
    low, high = best["test_interval_95"]
    from cosfire.datasets import open_dataset

    tested = len(open_dataset(synthetic_root).items("test"))
    assert low <= best["test_accuracy"] <= high and summary["test"]["images"] == tested


def test_tune_draws_fold_filters_from_training_rows_only(synthetic_root: Path) -> None:
    from cli.tuning import TuneConfig, draw_filters, score_setting
    from cosfire.datasets import open_dataset, stratified_subset

    dataset = open_dataset(synthetic_root)
    development = stratified_subset(dataset.items("train"), 6, seed=0)
    config = TuneConfig(
        grid={"sigma": [4.0]},
        per_class=2,
        pool_per_class=4,
        development_per_class=6,
        folds=3,
        repeats=1,
    )
    score = score_setting(
        {"sigma": 4.0}, config, development, [], dataset.read, dataset.class_names, dataset.name
    )
    assert score.cv is not None and score.features.shape[0] == len(development)
    filter_class = np.array([0, 0, 1, 1])
    prototype_row = np.array([3, 7, 1, 8])
    assert draw_filters(filter_class, prototype_row, 1, np.array([7, 8]), seed=0).tolist() == [1, 3]
    with pytest.raises(ValueError, match="raise pool_per_class"):
        draw_filters(filter_class, prototype_row, 2, np.array([7, 8]), seed=0)
    with pytest.raises(ValueError, match="pool_per_class must be >= per_class"):
        TuneConfig(per_class=25, pool_per_class=30, development_per_class=100, folds=5)
    with pytest.raises(ValueError, match="not FilterConfig fields"):
        TuneConfig(grid={"sigmaa": [4.0]})


def test_mixed_bank_settings_are_recorded_and_checked(tmp_path: Path) -> None:
    from cosfire.configure import FilterConfig
    from cosfire.preprocess import Preprocessing

    plain = PipelineConfig(dataset="synthetic")
    assert "bank_sigmas" not in plain.to_dict()  # one-sigma runs keep their old settings
    assert [c.sigma for c in plain.filter_configs()] == [5.0]
    mixed = PipelineConfig(
        bank=BankSettings(filter_config=FilterConfig(t1=0.1), sigmas=(2, 3)),
    )
    assert mixed.to_dict()["bank_sigmas"] == [2.0, 3.0]
    assert [(c.sigma, c.t1) for c in mixed.filter_configs()] == [(2.0, 0.1), (3.0, 0.1)]
    assert "smooth_px" not in plain.to_dict()
    assert plain.to_dict()["rotation_draws"] == 5
    one_draw = PipelineConfig(evaluation=EvaluationSettings(rotation_draws=1))
    assert "rotation_draws" not in one_draw.to_dict()  # as runs before
    smoothed = PipelineConfig(preprocessing=Preprocessing(smooth_px=1))
    assert smoothed.to_dict()["smooth_px"] == 1
    for config in (plain, mixed, one_draw, smoothed):
        assert PipelineConfig.from_dict(config.to_dict()) == config
    for option, value, message in (
        ("--bank-sigmas", "2,-3", "bank sigmas must be > 0"),
        ("--bank-sigmas", "2,nan", "bank sigmas must be > 0"),
        ("--smooth-px", "-1", "smooth_px must be > 0"),
        ("--smooth-px", "inf", "smooth_px must be > 0"),
    ):
        refused = CliRunner().invoke(
            main,
            ["pipeline", "--dataset", "synthetic", "--out", str(tmp_path / "bad"), option, value],
        )
        assert refused.exit_code == 1 and message in refused.output
        assert not (tmp_path / "bad" / "run.json").exists()
    refused = CliRunner().invoke(
        main, ["pipeline", "--out", str(tmp_path / "bad"), "--rotation-draws", "0"]
    )
    assert refused.exit_code == 2 and "0 is not in the range" in refused.output


def test_rotated_training_copies_are_described_once_and_used(tmp_path: Path) -> None:
    out = tmp_path / "augmented"
    arguments = [
        "pipeline",
        "--dataset",
        "synthetic",
        "--out",
        str(out),
        "--per-class",
        "2",
        "--bits",
        "8",
        "--main-bits",
        "8",
        "--rotations",
        "4",
        "--train-rotations",
        "1",
        "--no-robustness",
        "--jobs",
        "1",
        "--quiet",
    ]
    first = CliRunner().invoke(main, arguments, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "[describe-train-rotated0]" in first.output
    assert json.loads((out / "run.json").read_text())["config"]["train_rotations"] == 1
    train, rotated = (np.load(out / f"{name}.npz") for name in ("train", "train-rotated0"))
    np.testing.assert_array_equal(rotated["labels"], train["labels"])
    assert rotated["descriptors"].shape == train["descriptors"].shape
    assert not np.array_equal(rotated["descriptors"], train["descriptors"])
    marker = json.loads((out / "stages" / "train-8.json").read_text())
    assert marker["training_rows"] == 2 * len(train["labels"])  # the copies went into training
    second = CliRunner().invoke(main, arguments, catch_exceptions=False)
    assert second.exit_code == 0 and "[describe-train-rotated0]" not in second.output


def test_jobs_is_not_part_of_a_run_identity(tmp_path):
    folder = tmp_path / "run"
    PipelineRun(folder, PipelineConfig())
    recorded = json.loads((folder / "run.json").read_text())
    assert "jobs" not in recorded["config"]
    assert not {f.name for f in dataclasses.fields(PipelineConfig)} & {
        f.name for f in dataclasses.fields(RunOptions)
    }
    recorded["config"]["jobs"] = 2  # a run folder written before jobs left the identity
    (folder / "run.json").write_text(json.dumps(recorded))
    PipelineRun(folder, PipelineConfig())
    with pytest.raises(ValueError, match="other settings"):
        PipelineRun(folder, PipelineConfig(seed=1))


def test_run_folders_of_earlier_versions_resume_or_fail_clearly(tmp_path):
    """run.json as earlier versions wrote it: partial filter options from --params, no
    rotation_draws (one draw), training options of an older TrainingConfig (fewer keys)."""
    from cosfire.configure import FilterConfig
    from hashing.training import TrainingConfig

    training = TrainingConfig().to_dict()
    for newer in ("bits", "seed", "refit", "threshold"):
        del training[newer]
    legacy = {
        "dataset": "synthetic",
        "per_class": 10,
        "seed": 0,
        "filter_config": {"t1": 0.1},
        "crop_px": 150,
        "noise_clip": 3.0,
        "rotations": 24,
        "bits": [8, 16],
        "main_bits": 16,
        "training": training,
        "noise_levels": [0.05, 0.1, 0.2],
        "robustness": True,
        "jobs": 2,
    }
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "run.json").write_text(json.dumps({"format_version": 1, "config": legacy}))
    same = PipelineConfig(
        bank=BankSettings(per_class=10, filter_config=FilterConfig(t1=0.1)),
        evaluation=EvaluationSettings(bits=(8, 16), main_bits=16, rotation_draws=1),
    )
    PipelineRun(folder, same)  # resumes
    with pytest.raises(ValueError, match="other settings"):
        PipelineRun(folder, dataclasses.replace(same, evaluation=EvaluationSettings()))
    (folder / "run.json").write_text(json.dumps({"format_version": 1, "config": {"sed": 0}}))
    with pytest.raises(ValueError, match="cannot be read as run settings.*another --out"):
        PipelineRun(folder, same)


def test_config_mistakes_fail_when_the_config_is_built():
    from hashing.training import RECIPES

    with pytest.raises(TypeError, match="training must be a hashing.training.TrainingConfig"):
        PipelineConfig(training={"optimiser": "adam"})
    with pytest.raises(TypeError, match="unexpected keyword argument 'optimiser'"):
        dataclasses.replace(RECIPES["dsh"], optimiser="adam")
    with pytest.raises(ValueError, match="optimizer must be one of"):
        dataclasses.replace(RECIPES["dsh"], optimizer="sgd")
    with pytest.raises(ValueError, match="must be one of --bits"):
        EvaluationSettings(bits=(8, 16), main_bits=36)
    with pytest.raises(TypeError, match="FilterConfig.from_dict"):
        BankSettings(filter_config={"t1": 0.1})


def test_importing_the_python_api_does_not_import_click():
    code = (
        "import sys, cli.pipeline, cli.report, cli.tuning, cli.indexing, cli.searching, "
        "cli.evaluating, cli.anomaly_ranking, cli.training, cli.configuring, cli.errors; "
        "print(sorted(m for m in ('click', 'torch', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_run_pipeline_in_python_is_silent_typed_and_reads_back(tmp_path, capsys):
    config = PipelineConfig(
        bank=BankSettings(per_class=2, rotations=4),
        evaluation=EvaluationSettings(bits=(8,), main_bits=8, robustness=False),
    )
    results = run_pipeline(config, tmp_path / "run", RunOptions(jobs=1, report=False))
    assert capsys.readouterr() == ("", "")  # nothing printed unless asked
    assert list(results.bits) == [8] and isinstance(results.svm.c, float)
    assert 0 <= results.map_at_100[8] <= 1 and results.rotation is None
    assert not (tmp_path / "run" / "report.md").exists()
    stored = tmp_path / "run" / "results.json"
    assert PipelineResults.from_json(stored) == results
    legacy = json.loads(stored.read_text())
    del legacy["format_version"]  # results.json as written before the results object existed
    assert PipelineResults.from_dict(legacy) == results
    legacy["format_version"] = 9
    with pytest.raises(ValueError, match="results format 9"):
        PipelineResults.from_dict(legacy)
    lines = []
    again = run_pipeline(config, tmp_path / "run", RunOptions(jobs=1, echo=lines.append))
    assert lines == [] and again.bits == results.bits  # resumed: no stage ran
    assert (tmp_path / "run" / "report.md").is_file()
