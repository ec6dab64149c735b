"""Archives of descriptors made without a filter bank (the authors' MATLAB descriptors).

A small MATLAB file in the authors' layout (``COSFIREdescriptor.training|testing.<class>``)
stands for theirs: imported with ``data import-mat``, trained on, indexed without --bank,
then searched by descriptors and by the archive's own items, evaluated, and asked for
anomalies; an image query gets one clear line saying that it needs a bank.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli.main import main

CLASSES = ("FRI", "FRII", "Bent", "Compact")


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout  # notes go to stderr


@pytest.fixture(scope="module")
def bankless(tmp_path_factory) -> dict[str, Path]:
    import scipy.io

    work = tmp_path_factory.mktemp("bankless")
    rng = np.random.default_rng(0)

    def part(per_class: int) -> dict[str, np.ndarray]:
        # 16 filters, 4 per class; a class's own filters respond most to it
        return {
            name: rng.random((per_class, 16)) * 0.3 + np.repeat(np.eye(4)[i], 4)
            for i, name in enumerate(CLASSES)
        }

    mat = work / "descriptors.mat"
    scipy.io.savemat(mat, {"COSFIREdescriptor": {"training": part(20), "testing": part(5)}})
    prefix = str(work / "authors")
    run("data", "import-mat", str(mat), "-o", prefix)
    files = {
        "train": Path(f"{prefix}-training.npz"),
        "test": Path(f"{prefix}-testing.npz"),
        "model": work / "model.pt",
        "archive": work / "authors.chx",
        "work": work,
    }
    run(
        "train",
        str(files["train"]),
        "--valid",
        str(files["test"]),
        "--bits",
        "8",
        "--epochs",
        "15",
        "-o",
        str(files["model"]),
        "--quiet",
    )
    files["index_output"] = run(  # type: ignore[assignment]
        "index", "--model", str(files["model"]), str(files["train"]), "-o", str(files["archive"])
    )
    return files


def test_index_without_a_bank_writes_an_archive_and_says_how_to_search_it(bankless) -> None:
    from retrieval.archive import load_archive

    assert "80 galaxies" in bankless["index_output"]
    assert "image queries need an archive indexed with --bank" in bankless["index_output"]
    archive = load_archive(bankless["archive"])
    assert not archive.has_bank and len(archive) == 80
    assert archive.descriptors is not None and archive.descriptors.shape == (80, 16)
    assert archive.class_names == CLASSES


def test_search_by_descriptors_and_by_own_items(bankless) -> None:
    archive_path = str(bankless["archive"])
    by_file = json.loads(run("search", archive_path, str(bankless["test"]), "-k", "5", "--json"))
    assert len(by_file) == 20 and all(len(entry["results"]) == 5 for entry in by_file)
    # separable classes: most results share the query's class
    same = [hit["label"] == entry["label"] for entry in by_file for hit in entry["results"]]
    assert np.mean(same) > 0.7
    assert all("angle_deg" not in hit for entry in by_file for hit in entry["results"])
    item = "descriptors.mat:training/Bent/3"
    result = CliRunner().invoke(main, ["search", archive_path, item, "-k", "80", "--json"])
    assert result.exit_code == 0, result.output
    by_item = json.loads(result.stdout)
    assert by_item[0]["query"] == item and by_item[0]["label"] == "Bent"
    # the query is the item's stored code: the item itself is at distance 0
    distances = {hit["path"]: hit["distance"] for hit in by_item[0]["results"]}
    assert distances[item] == 0 and by_item[0]["results"][0]["distance"] == 0
    assert "no filter bank" in result.stderr


def test_image_query_needs_a_bank_in_one_clear_line(bankless, tmp_path: Path) -> None:
    import cv2

    image = tmp_path / "galaxy.png"
    cv2.imwrite(str(image), np.zeros((32, 32), np.uint8))
    for command in (
        ["search", str(bankless["archive"]), str(image)],
        ["anomalies", str(bankless["archive"]), str(image)],
    ):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2
        assert "indexed from descriptors without a filter bank" in result.output
        assert "index again with --bank" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(main, ["search", str(bankless["archive"]), "nothing.png"])
    assert result.exit_code == 2 and "neither a file nor" in result.output
    result = CliRunner().invoke(
        main, ["evaluate", str(bankless["archive"]), "--dataset", "synthetic", "--k", "5"]
    )
    assert result.exit_code == 2 and "give a QUERIES.npz descriptor file" in result.output


def test_evaluate_and_anomalies_work_without_a_bank(bankless) -> None:
    report = json.loads(
        run("evaluate", str(bankless["archive"]), str(bankless["test"]), "--k", "10", "--json")
    )
    assert report["queries"] == 20 and report["database"] == 80
    assert set(report["per_class"]) == set(CLASSES)
    assert report["map_at_10"] > 0.7  # the classes are separable by construction
    ranked = json.loads(
        run(
            "anomalies",
            str(bankless["archive"]),
            str(bankless["test"]),
            "--top",
            "3",
            "--neighbors",
            "10",
            "--json",
        )
    )
    assert len(ranked) == 3 and ranked[0]["path"].startswith("descriptors.mat:testing/")


def test_evaluate_archive_in_python_is_what_the_command_prints(bankless) -> None:
    from cli.evaluating import UnsuitableQueries, evaluate_archive

    printed = json.loads(
        run("evaluate", str(bankless["archive"]), str(bankless["test"]), "--k", "10", "--json")
    )
    evaluation = evaluate_archive(bankless["archive"], bankless["test"], k=10)
    assert evaluation.report == printed
    assert evaluation.distances.shape == (20, 80)
    with pytest.raises(UnsuitableQueries, match="without a filter bank"):
        evaluate_archive(bankless["archive"], dataset="synthetic", k=5)


def test_search_archive_in_python_is_what_the_command_prints(bankless) -> None:
    from cli.searching import MissingBank, search_archive

    archive_path = str(bankless["archive"])
    printed = json.loads(run("search", archive_path, str(bankless["test"]), "-k", "5", "--json"))
    found = search_archive(bankless["archive"], [str(bankless["test"])], k=5)
    assert found.results == printed
    assert found.ids.shape == (20, 5) and found.bank is None
    assert any("no filter bank" in note for note in found.notes)
    with pytest.raises(MissingBank):
        search_archive(bankless["archive"], [str(bankless["test"])], k=5, require_bank=True)


def test_index_archive_in_python_writes_what_the_command_writes(bankless, tmp_path) -> None:
    from cli.errors import UsageProblem
    from cli.indexing import index_archive
    from retrieval.archive import load_archive

    written = index_archive(
        bankless["model"], tmp_path / "again.chx", descriptors_path=bankless["train"]
    )
    by_command = load_archive(bankless["archive"])
    assert not written.searchable_by_images and written.path.is_file()
    assert 1 <= written.distinct_codes <= len(written.archive) == len(by_command) == 80
    again = load_archive(written.path)
    np.testing.assert_array_equal(again.index.codes, by_command.index.codes)
    assert again.paths == by_command.paths and again.bank_sha256 == by_command.bank_sha256
    with pytest.raises(UsageProblem, match="give DESCRIPTORS.npz"):
        index_archive(bankless["model"], tmp_path / "none.chx")


def test_query_errors_reach_python_as_exceptions_not_click_errors(bankless, tmp_path) -> None:
    import shutil

    from PIL import Image

    from cli.errors import ArchiveFileMismatch, MissingBank, UnsuitableQueries
    from cli.searching import search_archive

    image = tmp_path / "cutout.png"
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(image)
    with pytest.raises(MissingBank, match="is an image"):
        search_archive(bankless["archive"], [str(image)], k=5)
    with pytest.raises(UnsuitableQueries, match="neither a file nor"):
        search_archive(bankless["archive"], ["no-such-galaxy.png"], k=5)
    other_model = tmp_path / "other.pt"
    shutil.copy(bankless["model"], other_model)
    other_model.write_bytes(other_model.read_bytes() + b"\0")  # the same model, other bytes
    with pytest.raises(ArchiveFileMismatch, match="SHA-256 differs") as refused:
        search_archive(bankless["archive"], [str(bankless["test"])], k=5, model_path=other_model)
    assert refused.value.option == "--model" and "model_path=" in str(refused.value)
    # the command shows the same refusals as usage errors
    result = CliRunner().invoke(main, ["search", str(bankless["archive"]), str(image)])
    assert result.exit_code == 2 and "is an image" in result.output
