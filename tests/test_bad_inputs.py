"""Every bad input gets a one-line error naming the file and the fix, exit 1, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from astropy.io import fits
from click.testing import CliRunner

from cli.main import main
from cosfire.bank import configure_bank
from cosfire.configure import FilterConfig
from cosfire.descriptor_file import DescriptorSet, save_descriptors
from cosfire.preprocess import Preprocessing
from cosfire.synthetic import make_galaxy
from hashing import TrainingConfig, train_hashing


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def assert_user_error(result, *fragments: str, code: int = 1) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, (fragment, result.output)


@pytest.fixture(scope="module")
def small_bank(tmp_path_factory) -> Path:
    rng = np.random.default_rng(0)
    images = [make_galaxy(k, size=96, rng=rng) / 255.0 for k in ("FRI", "FRII") for _ in range(2)]
    bank = configure_bank(
        images,
        [0, 0, 1, 1],
        class_names=("FRI", "FRII"),
        per_class=2,
        config=FilterConfig(sigma=2.0, rhos=(0, 4, 8)),
        preprocessing=Preprocessing(crop_px=None),
    )
    return bank.save(tmp_path_factory.mktemp("bank") / "bank.json")


def describe(bank: Path, image: Path, tmp_path: Path):
    return invoke(
        "describe", "--bank", str(bank), str(image), "-o", str(tmp_path / "d.npz"), "--quiet"
    )


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("empty.png", b"", "empty (0 bytes)"),
        ("notes.png", b"just some text", "not a readable image"),
        ("corrupt.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR garbage", "not a readable image"),
    ],
)
def test_unreadable_images(small_bank, tmp_path, name, content, fragment) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert_user_error(describe(small_bank, path, tmp_path), name, fragment)


def test_16_bit_and_rgb_images_are_described(small_bank, tmp_path) -> None:
    galaxy = make_galaxy("FRI", size=96, rng=np.random.default_rng(1))
    sixteen = tmp_path / "sixteen.png"
    cv2.imwrite(str(sixteen), galaxy.astype(np.uint16) * 257)
    assert describe(small_bank, sixteen, tmp_path).exit_code == 0
    rgb = tmp_path / "rgb.png"
    cv2.imwrite(str(rgb), np.dstack([galaxy] * 3))
    result = describe(small_bank, rgb, tmp_path)
    assert result.exit_code == 0 and "converted to grey" in result.output


def test_fits_with_nans_and_cubes(small_bank, tmp_path) -> None:
    plane = make_galaxy("FRII", size=96, rng=np.random.default_rng(2)).astype(np.float32)
    plane[0, :5] = np.nan
    with_nans = tmp_path / "nans.fits"
    fits.PrimaryHDU(plane[None, None]).writeto(with_nans)
    result = describe(small_bank, with_nans, tmp_path)
    assert result.exit_code == 0 and "5 NaN/inf pixels" in result.output
    cube = tmp_path / "cube.fits"
    fits.PrimaryHDU(np.stack([plane] * 3)[None]).writeto(cube)
    assert_user_error(describe(small_bank, cube, tmp_path), "cube.fits", "slice")


def test_too_small_and_all_zero_images(small_bank, tmp_path) -> None:
    tiny = tmp_path / "tiny.png"
    cv2.imwrite(str(tiny), np.full((9, 9), 200, np.uint8))
    assert_user_error(describe(small_bank, tiny, tmp_path), "tiny.png", "smaller than the bank")
    zeros = tmp_path / "zeros.png"
    cv2.imwrite(str(zeros), np.zeros((96, 96), np.uint8))
    assert describe(small_bank, zeros, tmp_path).exit_code == 0
    from cosfire.descriptor_file import load_descriptors

    values = load_descriptors(tmp_path / "d.npz").descriptors
    assert np.all(values == 0) and np.all(np.isfinite(values))


def descriptors(path: Path, values: np.ndarray, labels=None) -> Path:
    labels = np.arange(len(values)) % 2 if labels is None else labels
    save_descriptors(
        DescriptorSet(values, labels, ("FRI", "FRII"), [f"{i}" for i in range(len(values))]), path
    )
    return path


def test_descriptors_with_nan_are_refused(tmp_path) -> None:
    values = np.ones((10, 4), np.float32)
    values[3, 1] = np.nan
    path = descriptors(tmp_path / "bad.npz", values)
    assert_user_error(
        invoke("train", str(path), "-o", str(tmp_path / "m.pt")), "NaN or inf", "row 3"
    )


def test_model_and_descriptors_of_different_dimension(small_bank, tmp_path) -> None:
    rng = np.random.default_rng(0)
    x = rng.random((20, 5)).astype(np.float32)
    model, _ = train_hashing(
        x, np.arange(20) % 2, x, np.arange(20) % 2, config=TrainingConfig(bits=4, epochs=1)
    )
    model.save(tmp_path / "m.pt")
    path = descriptors(tmp_path / "d.npz", rng.random((6, 4)).astype(np.float32))
    result = invoke(
        "index",
        "--bank",
        str(small_bank),
        "--model",
        str(tmp_path / "m.pt"),
        str(path),
        "-o",
        str(tmp_path / "a.chx"),
    )
    assert_user_error(result, "descriptors of 5 values", "(6, 4)")


def test_bad_numbers_on_the_command_line(tmp_path) -> None:
    path = descriptors(tmp_path / "d.npz", np.ones((10, 4), np.float32))
    assert_user_error(invoke("train", str(path), "--bits", "0", "-o", "m.pt"), "--bits", code=2)
    assert_user_error(invoke("train", str(path), "--bits", "-3", "-o", "m.pt"), "--bits", code=2)


def test_unknown_class_and_k(small_bank, tmp_path) -> None:
    rng = np.random.default_rng(0)
    x = rng.random((20, 4)).astype(np.float32)
    train = descriptors(tmp_path / "train.npz", x)
    run = CliRunner().invoke
    run(
        main,
        [
            "train",
            str(train),
            "--bits",
            "4",
            "--epochs",
            "1",
            "-o",
            str(tmp_path / "m.pt"),
            "--quiet",
        ],
    )
    # a model trained without a bank: the archive built here records the bank it is given
    from hashing.model import load_model

    model = load_model(tmp_path / "m.pt")
    model.bank_sha256 = ""
    model.save(tmp_path / "m.pt")
    result = run(
        main,
        [
            "index",
            "--bank",
            str(small_bank),
            "--model",
            str(tmp_path / "m.pt"),
            str(train),
            "-o",
            str(tmp_path / "a.chx"),
        ],
    )
    assert result.exit_code == 0, result.output
    other = tmp_path / "other.npz"
    save_descriptors(
        DescriptorSet(x[:4], [0, 1, 2, 0], ("FRI", "FRII", "Spiral"), list("abcd")), other
    )
    assert_user_error(
        invoke("evaluate", str(tmp_path / "a.chx"), str(other), "--k", "5"),
        "Spiral",
        "do not occur",
    )
    assert_user_error(
        invoke("evaluate", str(tmp_path / "a.chx"), str(train), "--k", "0"), "--k", code=2
    )
    assert_user_error(
        invoke("evaluate", str(tmp_path / "a.chx"), str(train), "--k", "21"), "holds 20", code=2
    )


def test_newer_format_versions(small_bank, tmp_path) -> None:
    spec = json.loads(small_bank.read_text())
    spec["format_version"] = 99
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(spec))
    image = tmp_path / "g.png"
    cv2.imwrite(str(image), make_galaxy("FRI", size=96, rng=np.random.default_rng(0)))
    assert_user_error(describe(newer, image, tmp_path), "format version 99", "upgrade cosfire-hash")


def test_debug_shows_the_traceback(tmp_path) -> None:
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    result = CliRunner().invoke(
        main, ["--debug", "describe", "--bank", str(path), str(path), "-o", "x.npz"]
    )
    assert result.exit_code != 0 and result.exception is not None
