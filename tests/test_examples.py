"""The examples run and do what they claim."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
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


# The used-by flows, each on the synthetic galaxies (seconds) and, where the FIRST data is
# present, on a 40-galaxy FIRST slice (train 6 and test 4 per class).


def test_explain_a_filter_configures_on_one_galaxy_and_draws_it(tmp_path: Path) -> None:
    example = load_example("explain_a_filter")
    result = example.main(["synthetic", "-o", str(tmp_path / "filter.png"), "--per-class", "4"])
    assert len(result["filter"].tuples) >= 2 and result["filter"].label == "FRII"
    assert set(result["responses"]) == {"Bent", "Compact", "FRI", "FRII"}
    assert all(len(values) == 4 for values in result["responses"].values())
    assert (tmp_path / "filter.png").stat().st_size > 5000


def test_describe_folder_writes_descriptors_of_every_image(tmp_path: Path) -> None:
    from cosfire import load_descriptors

    example = load_example("describe_folder")
    output = tmp_path / "cutouts.npz"
    described = example.main(["--data", "synthetic", "--per-class", "2", "-o", str(output)])
    assert described.descriptors.shape == (8, 8)  # 8 cutouts, 2 filters x 4 classes
    assert (tmp_path / "cutouts").is_dir()
    loaded = load_descriptors(output)
    assert np.array_equal(loaded.descriptors, described.descriptors)
    assert loaded.bank_sha256 and np.all(loaded.labels == -1)
    assert [Path(p).name for p in loaded.paths][:2] == ["Bent_0.png", "Bent_1.png"]


def test_train_and_search_finds_galaxies_of_the_querys_class(tmp_path: Path) -> None:
    from retrieval import load_archive

    example = load_example("train_and_search")
    result = example.main(["synthetic", "-o", str(tmp_path / "a.chx"), "-k", "5"])
    assert result["ids"].shape == (40, 5)
    assert result["share_same_class"] > 0.5  # chance: 0.25
    assert len(load_archive(tmp_path / "a.chx")) == 120


def test_evaluate_reports_map_per_code_length(tmp_path: Path) -> None:
    example = load_example("evaluate")
    reports = example.main(["synthetic", "--bits", "8", "16", "-k", "20"])
    assert sorted(reports) == [8, 16]
    for report in reports.values():
        assert 0.4 < report["map_at_20"] <= 1 and 0 <= report["map_average_ties"] <= 1
        assert set(report["per_class"]) == {"Bent", "Compact", "FRI", "FRII"}


def test_the_examples_run_on_first(real_slice: Path, tmp_path: Path) -> None:
    load_example("explain_a_filter").main(
        [str(real_slice), "-o", str(tmp_path / "f.png"), "--per-class", "3"]
    )
    described = load_example("describe_folder").main(
        [
            str(real_slice / "test" / "FRII"),
            "--data",
            str(real_slice),
            "-o",
            str(tmp_path / "d.npz"),
        ]
    )
    assert described.descriptors.shape == (4, 12)
    result = load_example("train_and_search").main(
        [str(real_slice), "--bits", "12", "-o", str(tmp_path / "a.chx"), "-k", "5"]
    )
    assert result["ids"].shape == (16, 5)
    reports = load_example("evaluate").main([str(real_slice), "--bits", "12", "-k", "10"])
    assert 0 <= reports[12]["map_at_10"] <= 1
