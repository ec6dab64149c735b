"""Morphology measurements beside the COSFIRE responses, and banks that append them."""

from __future__ import annotations

import numpy as np
import pytest

import cosfire
from cosfire.morphology import MORPHOLOGY_GROUPS, morphology_features, morphology_names
from cosfire.preprocess import preprocess


def _double_source(angle_deg: float = 0.0, size: int = 96) -> np.ndarray:
    """Two Gaussian lobes on either side of a core, at ``angle_deg``."""
    rows, cols = np.indices((size, size), dtype=np.float64)
    image = np.zeros((size, size))
    angle = np.deg2rad(angle_deg)
    for offset, peak, width in ((0, 1.0, 2.0), (18, 0.7, 3.0), (-14, 0.5, 3.0)):
        row = size / 2 - offset * np.sin(angle)
        col = size / 2 + offset * np.cos(angle)
        image += peak * np.exp(-((rows - row) ** 2 + (cols - col) ** 2) / (2 * width**2))
    image[image < 0.05] = 0
    return (image / image.max()).astype(np.float32)


def test_names_match_values_for_every_group():
    image = _double_source()
    for group in MORPHOLOGY_GROUPS:
        assert morphology_features(image, groups=(group,)).shape == (
            len(morphology_names((group,))),
        )
    assert morphology_features(image).shape == (len(morphology_names()),)


@pytest.mark.parametrize("quarter_turns", [1, 2, 3])
def test_exact_rotations_leave_the_values_unchanged(quarter_turns):
    image = _double_source(angle_deg=20.0)
    rotated = np.rot90(image, quarter_turns)
    assert np.allclose(morphology_features(image), morphology_features(rotated), atol=1e-4)


def test_shapes_are_told_apart():
    one_sided = _double_source()
    one_sided[:, :48] = 0  # only the core's right half and one lobe
    assert not np.allclose(morphology_features(one_sided), morphology_features(_double_source()))


def test_empty_image_gives_zeros_and_bad_groups_are_refused():
    assert not morphology_features(np.zeros((32, 32), np.float32)).any()
    with pytest.raises(ValueError, match="morphology groups"):
        morphology_features(_double_source(), groups=("colour",))
    with pytest.raises(ValueError, match="2-D"):
        morphology_features(np.zeros((4, 4, 3)))


def test_bank_with_extras_appends_them_and_round_trips(tmp_path):
    images = [_double_source(angle) for angle in (0.0, 40.0)]
    config = cosfire.FilterConfig(sigma=2.0, rhos=(0.0, 6.0, 12.0))
    plain = cosfire.configure_bank(
        images, [0, 1], class_names=("a", "b"), per_class=1, config=config
    )
    extended = cosfire.configure_bank(
        images,
        [0, 1],
        class_names=("a", "b"),
        per_class=1,
        config=config,
        extras=("radial", "moments"),
    )
    assert plain.format_version < 4 and "extras" not in plain.to_dict()
    assert extended.format_version == 4
    assert extended.n_values == 2 + len(morphology_names(("radial", "moments")))
    assert extended.column_class == (0, 1) + (-1,) * (extended.n_values - 2)
    described = cosfire.describe(extended, images)
    assert described.shape == (2, extended.n_values)
    assert np.allclose(described[:, :2], cosfire.describe(plain, images))
    expected = morphology_features(
        preprocess(images[1], extended.preprocessing), groups=("radial", "moments")
    )
    assert np.allclose(described[1, 2:], expected)
    loaded = cosfire.load_bank(extended.save(tmp_path / "bank.json"))
    assert loaded.extras == ("radial", "moments") and loaded.sha256 == extended.sha256


def test_bank_refuses_unknown_extras():
    image = _double_source()
    with pytest.raises(ValueError, match="morphology groups"):
        cosfire.configure_bank(
            [image],
            [0],
            class_names=("a",),
            per_class=1,
            config=cosfire.FilterConfig(sigma=2.0, rhos=(0.0, 6.0)),
            extras=("texture",),
        )
