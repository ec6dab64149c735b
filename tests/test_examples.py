"""The examples run and do what they claim."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_b_cosfire_delineates_a_synthetic_vessel_tree() -> None:
    example = load_example("vessel_delineation")
    image, mask = example.draw_vessel_tree(128, seed=3)
    responses = example.delineate(image)
    f1, _ = example.best_f1(responses["combined"], mask)
    assert f1 > 0.6
    combined = responses["combined"]
    assert combined[mask].mean() > 5 * combined[~mask].mean()
    symmetric, asymmetric = example.b_cosfire_filters()
    assert all(part.rho == 0 or abs(part.phi % 3.1416 - 1.5708) < 0.05 for part in symmetric.tuples)
    assert all(part.rho == 0 or 0 < part.phi < 3.1416 for part in asymmetric.tuples)


def test_vessel_example_reproduces_matlab_on_drive(tmp_path: Path, capsys, monkeypatch) -> None:
    from drive_samples import drive_folder

    folder = drive_folder()
    example = load_example("vessel_delineation")
    figure = tmp_path / "drive.png"
    monkeypatch.setattr(
        "sys.argv", ["vessel_delineation.py", "--drive", str(folder), "--output", str(figure)]
    )
    example.main()
    printed = capsys.readouterr().out
    r = float(printed.split("Pearson r = ")[1].split()[0])
    assert r >= 0.999 and figure.stat().st_size > 0
    with pytest.raises(FileNotFoundError, match="lacks 01_test.tif"):
        example.read_drive(tmp_path)
