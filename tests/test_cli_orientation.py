"""``cosfire-hash search``: the angle of every match, the turned plot, and --explain."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from cli.main import main
from cosfire.bank import load_bank
from cosfire.explain import explain_match
from cosfire.images import load_image
from cosfire.orientation import angle_error_deg
from retrieval.archive import load_archive, save_archive


def run(*args: str) -> CliRunner:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def built(synthetic_root: Path, tmp_path_factory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("orientation")
    files = {name: work / name for name in ("bank.json", "train.npz", "old.npz", "model.pt")}
    run(
        "configure",
        "--dataset",
        str(synthetic_root),
        "--per-class",
        "2",
        "--rotations",
        "24",
        "-o",
        str(files["bank.json"]),
    )
    run(
        "describe",
        "--bank",
        str(files["bank.json"]),
        str(synthetic_root),
        "--split",
        "train",
        "-o",
        str(files["train.npz"]),
        "--quiet",
    )
    run(
        "describe",
        "--bank",
        str(files["bank.json"]),
        str(synthetic_root),
        "--split",
        "train",
        "-o",
        str(files["old.npz"]),
        "--quiet",
        "--no-angles",
    )
    run(
        "train",
        str(files["train.npz"]),
        "--bits",
        "12",
        "--epochs",
        "3",
        "-o",
        str(files["model.pt"]),
        "--quiet",
    )
    for name, descriptors in (("a.chx", "train.npz"), ("old.chx", "old.npz")):
        files[name] = work / name
        run(
            "index",
            "--bank",
            str(files["bank.json"]),
            "--model",
            str(files["model.pt"]),
            str(files[descriptors]),
            "-o",
            str(files[name]),
        )
    # a query: a Bent training galaxy of the archive, turned by 90 degrees counter-clockwise
    original = sorted((synthetic_root / "train" / "Bent").glob("*.png"))[0]
    turned = work / "turned.png"
    Image.fromarray(np.rot90(np.asarray(Image.open(original)))).save(turned)
    return {**files, "work": work, "original": original, "turned": turned}


def _hit(results: list[dict], original: Path) -> dict:
    return next(hit for hit in results if Path(hit["path"]).name == original.name)


def test_search_reports_the_angle_of_a_turned_galaxy(built) -> None:
    assert load_archive(built["a.chx"]).angles_deg is not None
    found = json.loads(
        run("search", str(built["a.chx"]), str(built["turned"]), "-k", "24", "--json").stdout
    )
    results = found[0]["results"]
    assert all("angle_deg" in hit for hit in results)
    assert all(hit["angle_deg"] is None or 0 <= hit["angle_deg"] < 360 for hit in results)
    # the original must be turned by 90 degrees to look like the query
    assert angle_error_deg(_hit(results, built["original"])["angle_deg"], 90.0) <= 15.0
    table = run("search", str(built["a.chx"]), str(built["turned"]), "-k", "3").stdout
    assert "angle" in table.splitlines()[1]


def test_search_of_an_old_archive_says_once_that_angles_are_missing(built) -> None:
    result = run("search", str(built["old.chx"]), str(built["turned"]), "-k", "3", "--json")
    assert result.stderr.count("stores no filter angles") == 1
    assert all("angle_deg" not in hit for hit in json.loads(result.stdout)[0]["results"])
    # a descriptor file without angles as query: a note, and no angles either
    result = run("search", str(built["a.chx"]), str(built["old.npz"]), "-k", "2", "--json")
    assert result.stderr.count("without angles") == 1
    assert all(
        "angle_deg" not in hit for entry in json.loads(result.stdout) for hit in entry["results"]
    )


def test_plot_and_explain_write_pngs(built) -> None:
    plot, why = built["work"] / "plot.png", built["work"] / "why.png"
    output = run(
        "search",
        str(built["a.chx"]),
        str(built["turned"]),
        "-k",
        "3",
        "--plot",
        str(plot),
        "--explain",
        str(why),
        "--explain-rank",
        "2",
    ).stdout
    assert f"wrote {why}" in output and f"wrote {plot}" in output
    for png in (plot, why):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_explain_needs_a_bank_and_a_valid_rank(built, tmp_path: Path) -> None:
    archive = load_archive(built["a.chx"])
    archive.bank_path = archive.bank_sha256 = ""  # as a CNN archive: no filter bank
    save_archive(archive, tmp_path / "no-bank.chx")
    result = CliRunner().invoke(
        main,
        [
            "search",
            str(tmp_path / "no-bank.chx"),
            str(built["turned"]),
            "--explain",
            str(tmp_path / "w.png"),
        ],
    )
    assert result.exit_code == 2
    assert "has no filter bank" in result.output
    assert len(result.output.strip().splitlines()[-1]) < 200
    assert not (tmp_path / "w.png").exists()
    result = CliRunner().invoke(
        main,
        [
            "search",
            str(built["a.chx"]),
            str(built["turned"]),
            "-k",
            "2",
            "--explain",
            "w.png",
            "--explain-rank",
            "3",
        ],
    )
    assert result.exit_code == 2 and "only 2 results" in result.output


def test_explain_match_draws_the_strongest_shared_filters(built) -> None:
    bank = load_bank(built["bank.json"])
    original = load_image(built["original"])
    figure = explain_match(bank, np.rot90(original), original, top=2)
    assert len(figure.axes) == 6  # two filters x (prototype, query, match)
    titles = [axis.get_title() for axis in figure.axes]
    assert titles[0].startswith("filter ") and "prototype" in titles[0]
    assert "crop" in figure.get_suptitle() and "angle of the match" in figure.get_suptitle()
    # the query is the match turned by 90 degrees: each drawn filter's rotation differs by 90
    for query_title, match_title in ((titles[1], titles[2]), (titles[4], titles[5])):
        query_psi = float(query_title.split("psi ")[1].split(" deg")[0])
        match_psi = float(match_title.split("psi ")[1].split(" deg")[0])
        assert angle_error_deg(query_psi - match_psi, 90.0) <= 15.0
    unreadable = explain_match(bank, original, original, top=1, read_prototype=_unreadable)
    assert len(unreadable.axes) == 3
    assert any("not readable" in text.get_text() for text in unreadable.axes[0].texts)


def test_explain_match_takes_a_bank_with_morphology_extras(built) -> None:
    import dataclasses

    bank = dataclasses.replace(load_bank(built["bank.json"]), extras=("radial",))
    assert bank.n_values > bank.n_filters
    original = load_image(built["original"])
    figure = explain_match(bank, np.rot90(original), original, top=1)
    assert "angle of the match" in figure.get_suptitle() and len(figure.axes) == 3


def _unreadable(source: str) -> np.ndarray:
    raise OSError(f"{source} is gone")
