"""``cosfire-hash anomalies`` end to end on the synthetic set: table, JSON, plot, queries."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from cli_archives import build_archive
from click.testing import CliRunner

from cli.main import main
from retrieval.archive import load_archive


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout  # warnings (LOF on equal codes) go to stderr


@pytest.fixture(scope="module")
def built(synthetic_root: Path, tmp_path_factory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("anomalies")
    files = build_archive(synthetic_root, work, per_class=1, epochs=3)
    return {**files, "root": synthetic_root, "work": work}


def test_json_ranks_the_archive_by_decreasing_score(built) -> None:
    archive = load_archive(built["archive"])
    assert archive.descriptors is not None and archive.descriptors.shape[0] == len(archive) == 24
    rows = json.loads(
        run("anomalies", str(built["archive"]), "--top", "5", "--neighbors", "5", "--json")
    )
    assert [row["rank"] for row in rows] == [1, 2, 3, 4, 5]
    assert all({"rank", "score", "path", "label"} <= set(row) for row in rows)
    scores = [row["score"] for row in rows]
    assert scores == sorted(scores, reverse=True)
    assert {row["path"] for row in rows} <= set(archive.paths)
    assert {row["label"] for row in rows} <= set(archive.class_names)


def test_table_plot_and_other_detectors(built) -> None:
    plot = built["work"] / "top.png"
    output = run(
        "anomalies", str(built["archive"]), "--top", "6", "--neighbors", "5", "--plot", str(plot)
    )
    assert "most unusual of the 24 galaxies" in output and "rank" in output
    assert plot.stat().st_size > 5000 and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    forest = json.loads(run("anomalies", str(built["archive"]), "--method", "iforest", "--json"))
    again = json.loads(run("anomalies", str(built["archive"]), "--method", "iforest", "--json"))
    assert forest == again and len(forest) == 10 and 0 < forest[-1]["score"] <= 1
    codes = json.loads(
        run("anomalies", str(built["archive"]), "--on", "codes", "--neighbors", "5", "--json")
    )
    assert len(codes) == 10


def test_queries_images_and_descriptor_files(built) -> None:
    # a test image, and an empty (black) one, which looks like none of the archive's galaxies
    image = sorted((built["root"] / "test" / "FRII").glob("*.png"))[0]
    rows = json.loads(
        run(
            "anomalies",
            str(built["archive"]),
            str(built["test.npz"]),
            str(image),
            "--neighbors",
            "5",
            "--top",
            "100",
            "--json",
        )
    )
    assert len(rows) == 9  # 8 test galaxies in the file, one image
    twins = [row for row in rows if Path(row["path"]).name == image.name]
    assert sorted(row["label"] for row in twins) == ["?", "FRII"]
    # described here or read from the file, the image scores the same
    assert twins[0]["score"] == pytest.approx(twins[1]["score"], rel=1e-5)


def test_an_archive_without_descriptors_says_what_to_do(built, tmp_path: Path) -> None:
    # rewrite the archive as format version 1 (no descriptors.npz), as older releases wrote it
    old = tmp_path / "old.chx"
    with zipfile.ZipFile(built["archive"]) as bundle:
        members = {name: bundle.read(name) for name in bundle.namelist()}
    manifest = json.loads(members.pop("manifest.json"))
    members.pop("descriptors.npz")
    manifest["format_version"] = 1
    del manifest["members"]["descriptors.npz"]
    with zipfile.ZipFile(old, "w") as bundle:
        bundle.writestr("manifest.json", json.dumps(manifest))
        for name, data in members.items():
            bundle.writestr(name, data)
    assert load_archive(old).descriptors is None
    result = CliRunner().invoke(main, ["anomalies", str(old)])
    assert result.exit_code == 1 and "--on codes" in result.output and "re-index" in result.output
    assert "Traceback" not in result.output
    rows = json.loads(run("anomalies", str(old), "--on", "codes", "--neighbors", "5", "--json"))
    codes_rows = json.loads(
        run("anomalies", str(built["archive"]), "--on", "codes", "--neighbors", "5", "--json")
    )
    assert rows == codes_rows
    np.testing.assert_array_equal(
        load_archive(old).index.codes, load_archive(built["archive"]).index.codes
    )


def test_too_many_neighbours_is_a_clear_error(built) -> None:
    result = CliRunner().invoke(main, ["anomalies", str(built["archive"]), "--neighbors", "50"])
    assert result.exit_code == 2 and "holds 24 galaxies" in result.output


def test_rank_anomalies_in_python_is_what_the_command_prints(built) -> None:
    from cli.anomaly_ranking import rank_anomalies
    from cli.errors import UsageProblem
    from retrieval.anomalies import AnomalyConfig

    image = sorted((built["root"] / "test" / "FRII").glob("*.png"))[0]
    arguments = [str(built["test.npz"]), str(image)]
    printed = json.loads(
        run("anomalies", str(built["archive"]), *arguments, "--neighbors", "5", "--json")
    )
    ranking = rank_anomalies(
        built["archive"], arguments, config=AnomalyConfig(n_neighbors=5), top=10
    )
    assert ranking.results == printed
    assert ranking.queries == 9 and "9 queries" in ranking.scored
    assert ranking.method == "LOF, 5 neighbours, on descriptors"
    # the library's refusal is a plain exception a notebook can catch, not a click error
    with pytest.raises(UsageProblem, match="holds 24 galaxies") as refused:
        rank_anomalies(built["archive"], config=AnomalyConfig(n_neighbors=50))
    assert type(refused.value).__module__ == "cli.errors"
