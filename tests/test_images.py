"""Image loading: every supported format, and a clear error for every bad file."""

from __future__ import annotations

import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
from astropy.io import fits
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cosfire.images import ImageReadError, ImageWarning, iter_image_files, load_image


def write_png(path: Path, image: np.ndarray) -> Path:
    assert cv2.imwrite(str(path), image)
    return path


def test_8_and_16_bit_png_scale_to_unit_range(tmp_path: Path) -> None:
    eight = write_png(tmp_path / "a.png", np.array([[0, 51, 255]], np.uint8))
    sixteen = write_png(tmp_path / "b.png", np.array([[0, 65535, 13107]], np.uint16))
    np.testing.assert_allclose(load_image(eight), [[0, 0.2, 1]], atol=1e-7)
    np.testing.assert_allclose(load_image(sixteen), [[0, 1, 0.2]], atol=1e-7)
    assert load_image(eight).dtype == np.float32


def test_rgb_png_becomes_grey_with_a_warning(tmp_path: Path) -> None:
    path = write_png(tmp_path / "rgb.png", np.full((4, 4, 3), 200, np.uint8))
    with pytest.warns(ImageWarning, match="rgb.png.*grey"):
        image = load_image(path)
    assert image.shape == (4, 4) and image.max() == pytest.approx(200 / 255)


def test_float_tiff_keeps_values(tmp_path: Path) -> None:
    path = tmp_path / "x.tiff"
    cv2.imwrite(str(path), np.array([[0.5, 2.0]], np.float32))
    np.testing.assert_allclose(load_image(path), [[0.5, 2.0]])


def test_fits_is_squeezed_and_nan_becomes_zero(tmp_path: Path) -> None:
    cube = np.ones((1, 1, 3, 4), np.float32)
    cube[0, 0, 1, 1] = np.nan
    path = tmp_path / "cut.fits"
    fits.PrimaryHDU(cube).writeto(path)
    with pytest.warns(ImageWarning, match="1 NaN"):
        image = load_image(path)
    assert image.shape == (3, 4) and image[1, 1] == 0 and image.sum() == 11


def test_fits_cube_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "cube.fits"
    fits.PrimaryHDU(np.ones((3, 4, 5), np.float32)).writeto(path)
    with pytest.raises(ImageReadError, match=r"cube.fits.*\(3, 4, 5\).*slice"):
        load_image(path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.png", b"", "empty"),
        ("text.png", b"this is not an image", "not a readable image"),
        ("cut.png", None, "not a readable image"),
        ("broken.fits", b"SIMPLE  = nonsense", "not a readable FITS"),
        ("table.csv", b"1,2,3", "unsupported extension"),
    ],
)
def test_bad_files_raise_errors_naming_the_file(tmp_path, name, content, message) -> None:
    path = tmp_path / name
    if content is None:  # a truncated PNG
        ok, encoded = cv2.imencode(".png", np.random.default_rng(0).integers(0, 255, (64, 64)))
        content = encoded.tobytes()[:100]
    path.write_bytes(content)
    with pytest.raises(ImageReadError, match=message) as error:
        load_image(path)
    assert name in str(error.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match="does not exist"):
        load_image(tmp_path / "nope.png")


def test_iter_image_files_skips_hidden_and_foreign(tmp_path: Path) -> None:
    for name in ("b.png", "a.FITS", ".c.png", "d.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in iter_image_files(tmp_path)] == ["a.FITS", "b.png"]


@settings(max_examples=25, deadline=None)
@given(
    arrays(np.uint8, st.tuples(st.integers(1, 20), st.integers(1, 20))),
    arrays(np.uint16, st.tuples(st.integers(1, 20), st.integers(1, 20))),
)
def test_png_round_trip_property(eight: np.ndarray, sixteen: np.ndarray) -> None:
    for image, scale in ((eight, 255.0), (sixteen, 65535.0)):
        ok, encoded = cv2.imencode(".png", image)
        assert ok
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            loaded = load_image(encoded.tobytes(), name="x.png")
        np.testing.assert_array_equal(loaded, (image / scale).astype(np.float32))
