"""describe survives bad inputs and interruptions."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from cli.main import main
from cosfire.bank import configure_bank
from cosfire.configure import FilterConfig
from cosfire.descriptor import ImageTooSmallError, describe, describe_report
from cosfire.descriptor_file import load_descriptors
from cosfire.preprocess import Preprocessing
from cosfire.synthetic import make_galaxy


@pytest.fixture(scope="module")
def bank_file(tmp_path_factory) -> Path:
    rng = np.random.default_rng(0)
    images = [
        make_galaxy(kind, size=96, rng=rng) / 255.0 for kind in ("FRI", "FRII") for _ in range(2)
    ]
    bank = configure_bank(
        images,
        [0, 0, 1, 1],
        class_names=("FRI", "FRII"),
        per_class=2,
        config=FilterConfig(sigma=2.0, rhos=(0, 4, 8, 12)),
        preprocessing=Preprocessing(crop_px=None),
    )
    return bank.save(tmp_path_factory.mktemp("bank") / "bank.json")


def galaxy_folder(root: Path, count: int, seed: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        cv2.imwrite(str(root / f"g{i:04d}.png"), make_galaxy("FRI", size=96, rng=rng))
    return root


def test_bad_images_are_skipped_and_listed(bank_file: Path, tmp_path: Path) -> None:
    folder = galaxy_folder(tmp_path / "in", 3)
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.png").write_text("not an image")
    cv2.imwrite(str(folder / "tiny.png"), np.full((10, 10), 9, np.uint8))
    cv2.imwrite(str(folder / "zeros.png"), np.zeros((96, 96), np.uint8))
    output = tmp_path / "d.npz"
    result = CliRunner().invoke(
        main,
        [
            "describe",
            "--bank",
            str(bank_file),
            str(folder),
            "-o",
            str(output),
            "--on-error",
            "skip",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "skipped 3 images" in result.output
    described = load_descriptors(output)
    assert [Path(p).name for p in described.paths] == [
        "g0000.png",
        "g0001.png",
        "g0002.png",
        "zeros.png",
    ]
    assert np.all(np.isfinite(described.descriptors))
    assert np.all(described.descriptors[-1] == 0)  # an all-zero image: zeros, never NaN
    lines = (tmp_path / "d.skipped.tsv").read_text().splitlines()
    reasons = {Path(line.split("\t")[0]).name: line.split("\t")[1] for line in lines[1:]}
    assert set(reasons) == {"empty.png", "notes.png", "tiny.png"}
    assert "empty" in reasons["empty.png"] and "smaller than the bank" in reasons["tiny.png"]
    assert not (tmp_path / "d.npz.partial").exists()


def test_without_skip_the_first_bad_image_stops_with_one_line(bank_file, tmp_path) -> None:
    folder = galaxy_folder(tmp_path / "in", 2)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    result = CliRunner().invoke(
        main, ["describe", "--bank", str(bank_file), str(folder), "-o", str(tmp_path / "d.npz")]
    )
    assert result.exit_code == 1
    assert "broken.png" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "d.npz").exists()


def test_library_errors_for_bad_arrays(bank_file: Path) -> None:
    from cosfire.bank import load_bank

    bank = load_bank(bank_file)
    with pytest.raises(ImageTooSmallError, match="smaller than the bank"):
        describe(bank, [np.ones((8, 8), np.float32)])
    with pytest.raises(ValueError, match="NaN"):
        describe(bank, [np.full((96, 96), np.nan, np.float32)])
    report = describe_report(bank, [np.ones((8, 8)), np.zeros((96, 96))], on_error="skip")
    assert report.ok.tolist() == [False, True] and report.failed[0][0] == 0


def test_interrupted_describe_resumes_to_the_same_output(bank_file: Path, tmp_path: Path) -> None:
    folder = galaxy_folder(tmp_path / "many", 160, seed=2)
    reference = tmp_path / "reference.npz"
    CliRunner().invoke(
        main,
        [
            "describe",
            "--bank",
            str(bank_file),
            str(folder),
            "-o",
            str(reference),
            "--quiet",
            "--chunk-size",
            "4",
        ],
        catch_exceptions=False,
    )
    output = tmp_path / "run.npz"
    command = [
        sys.executable,
        "-m",
        "cli",
        "describe",
        "--bank",
        str(bank_file),
        str(folder),
        "-o",
        str(output),
        "--quiet",
        "--chunk-size",
        "4",
    ]
    partial = tmp_path / "run.npz.partial"
    process = subprocess.Popen(command, env={**os.environ}, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline and len(list(partial.glob("chunk-*.npz"))) < 5:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished_chunks = len(list(partial.glob("chunk-*.npz")))
    assert not output.exists() and 5 <= finished_chunks < 40
    resumed = subprocess.run(command, capture_output=True, text=True, check=True)
    import re

    count = int(re.search(r"resumed (\d+) images", resumed.stdout).group(1))
    assert 4 * finished_chunks <= count < 160 and count % 4 == 0
    np.testing.assert_array_equal(
        load_descriptors(output).descriptors, load_descriptors(reference).descriptors
    )
    assert not partial.exists()
