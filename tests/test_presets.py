"""Bank presets: the papers' bank by default, the recommended recipe by name, overrides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.configure_cmd import PRESET_NAMES
from cli.main import main
from cosfire.presets import BANK_PRESETS, bank_preset


def _configure(tmp_path: Path, *options: str) -> dict:
    target = tmp_path / "bank.json"
    result = CliRunner().invoke(
        main, ["configure", "--dataset", "synthetic", "-o", str(target), *options]
    )
    assert result.exit_code == 0, result.output
    return json.loads(target.read_text())


def test_cli_offers_exactly_the_library_presets():
    assert tuple(BANK_PRESETS) == PRESET_NAMES


def test_unknown_preset_names_the_choices():
    with pytest.raises(ValueError, match="papers, recommended"):
        bank_preset("best")


def test_papers_preset_is_the_default_bank(tmp_path):
    default = _configure(tmp_path, "--per-class", "2")
    papers = _configure(tmp_path, "--per-class", "2", "--preset", "papers")
    assert default == papers
    assert "extras" not in default and "smooth_px" not in default["preprocessing"]
    assert default["metadata"]["config"]["sigma"] == 5.0


def test_recommended_preset_sets_sigmas_smoothing_and_extras(tmp_path):
    bank = _configure(tmp_path, "--per-class", "2", "--preset", "recommended")
    recipe = BANK_PRESETS["recommended"]
    assert [c["sigma"] for c in bank["metadata"]["config"]] == list(recipe.sigmas)
    assert bank["preprocessing"]["smooth_px"] == recipe.smooth_px
    assert bank["extras"] == list(recipe.extras) == ["radial", "angular"]


def test_explicit_options_override_the_preset(tmp_path):
    bank = _configure(
        tmp_path,
        "--per-class",
        "2",
        "--preset",
        "recommended",
        "--extras",
        "none",
        "--smooth-px",
        "0",
        "--bank-sigmas",
        "2,4",
    )
    assert [c["sigma"] for c in bank["metadata"]["config"]] == [2.0, 4.0]
    assert "smooth_px" not in bank["preprocessing"] and "extras" not in bank
    assert len(bank["filters"]) == 2 * len(bank["class_names"])
    radial = _configure(tmp_path, "--per-class", "2", "--extras", "radial")
    assert radial["extras"] == ["radial"]


def test_bad_extras_are_refused_in_one_line(tmp_path):
    result = CliRunner().invoke(
        main, ["configure", "--dataset", "synthetic", "--extras", "colour", "-o", "b.json"]
    )
    assert result.exit_code == 2 and "--extras" in result.output


def test_pipeline_records_the_preset_settings(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(
        main,
        [
            "pipeline",
            "--dataset",
            "synthetic",
            "--out",
            str(out),
            "--preset",
            "recommended",
            "--per-class",
            "2",
            "--bits",
            "8",
            "--main-bits",
            "8",
            "--no-robustness",
            "--quiet",
            "--recipe",
            "csq",
        ],
    )
    assert result.exit_code == 0, result.output
    config = json.loads((out / "run.json").read_text())["config"]
    assert config["extras"] == ["radial", "angular"]
    assert config["bank_sigmas"] == [2.0, 3.0, 5.0] and config["smooth_px"] == 1.0
    assert config["training"]["loss"] == "csq" and config["training"]["refit"] is True
    svm = json.loads((out / "svm.json").read_text())
    assert svm["normalisation"] in ("l2", "l2+standard")  # chosen on valid


def test_cli_recipes_are_the_library_recipes():
    from hashing.training import RECIPES

    option = next(p for p in main.get_command(None, "pipeline").params if p.name == "recipe")
    assert tuple(option.type.choices) == tuple(RECIPES)
    assert option.default == "dsh" and RECIPES["dsh"] == type(RECIPES["dsh"])()
