"""End to end: configure -> describe -> train -> index -> search / evaluate, on real galaxies."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cli_archives import build_archive
from click.testing import CliRunner

from cli.main import main


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def pipeline(real_slice: Path, tmp_path_factory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("pipeline")
    files = build_archive(real_slice, work, per_class=2, epochs=5)
    files["a.chx"] = files.pop("archive")
    return {**files, "slice": real_slice, "work": work}


def test_search_of_an_image_equals_search_of_its_descriptors(pipeline) -> None:
    image = sorted((pipeline["slice"] / "test" / "FRII").glob("*.png"))[0]
    by_image = json.loads(run("search", str(pipeline["a.chx"]), str(image), "-k", "5", "--json"))
    by_descriptors = json.loads(
        run("search", str(pipeline["a.chx"]), str(pipeline["test.npz"]), "-k", "5", "--json")
    )
    match = next(e for e in by_descriptors if Path(e["query"]).name == image.name)
    assert by_image[0]["results"] == match["results"]
    assert [r["rank"] for r in match["results"]] == [1, 2, 3, 4, 5]
    distances = [r["distance"] for r in match["results"]]
    assert distances == sorted(distances)


def test_search_table_and_plot(pipeline) -> None:
    image = sorted((pipeline["slice"] / "test" / "Bent").glob("*.png"))[0]
    plot = pipeline["work"] / "results.png"
    output = run("search", str(pipeline["a.chx"]), str(image), "-k", "3", "--plot", str(plot))
    assert "rank" in output and "distance" in output and plot.stat().st_size > 5000


def test_evaluate_reports_the_papers_metrics(pipeline) -> None:
    plots = pipeline["work"] / "plots"
    report = json.loads(
        run(
            "evaluate",
            str(pipeline["a.chx"]),
            str(pipeline["test.npz"]),
            "--k",
            "10",
            "--json",
            "--plot-dir",
            str(plots),
        )
    )
    for key in ("map_at_10", "map_at_r", "precision_at_10", "per_class"):
        assert key in report
    assert set(report["per_class"]) == {"Bent", "Compact", "FRI", "FRII"}
    assert 0 <= report["map_at_10"] <= 1 and report["queries"] == 16 and report["database"] == 24
    assert (plots / "pr_curve.png").is_file() and (plots / "per_class.png").is_file()


def test_retrieval_errors_are_clear(pipeline, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        main, ["search", str(pipeline["a.chx"]), str(pipeline["test.npz"]), "-k", "999"]
    )
    assert result.exit_code == 2 and "holds 24 galaxies" in result.output
    broken = tmp_path / "broken.chx"
    broken.write_bytes(pipeline["a.chx"].read_bytes()[:500])
    result = runner.invoke(main, ["evaluate", str(broken), str(pipeline["test.npz"])])
    assert result.exit_code == 1 and "damaged" in result.output and "Traceback" not in result.output
    # the bank moved: a clear message, then --bank finds it again
    moved = tmp_path / "moved.json"
    shutil.move(pipeline["bank.json"], moved)
    try:
        result = runner.invoke(main, ["search", str(pipeline["a.chx"]), str(pipeline["test.npz"])])
        assert result.exit_code == 2 and "--bank" in result.output
        result = runner.invoke(
            main,
            ["search", str(pipeline["a.chx"]), str(pipeline["test.npz"]), "--bank", str(moved)],
        )
        assert result.exit_code == 0, result.output
    finally:
        shutil.move(moved, pipeline["bank.json"])
