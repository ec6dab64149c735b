"""CosfireDescriptor follows the scikit-learn estimator contract."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

from cosfire.estimator import CosfireDescriptor


def shapes(kind: str, count: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(count):
        image = np.zeros((64, 64), np.float32)
        row, col = 32 + rng.integers(-3, 4), 32 + rng.integers(-3, 4)
        if kind == "dot":
            image[row - 1 : row + 2, col - 1 : col + 2] = 1
        else:  # a double source 16 px apart, at a random angle
            angle = rng.uniform(0, np.pi)
            for sign in (-1, 1):
                r = int(round(row - sign * 8 * np.sin(angle)))
                c = int(round(col + sign * 8 * np.cos(angle)))
                image[r - 1 : r + 2, c - 1 : c + 2] = 1
        images.append(image)
    return images


def make_estimator(**changes) -> CosfireDescriptor:
    options = {"per_class": 2, "sigma": 2.0, "rhos": (0, 4, 8), "crop_px": None, "t1": 0.1}
    return CosfireDescriptor(**{**options, **changes})


def test_get_params_and_clone_keep_arguments_unchanged() -> None:
    estimator = make_estimator(sigma0=0.75)
    params = estimator.get_params()
    assert params["sigma0"] == 0.75 and params["rhos"] == (0, 4, 8)
    copy = clone(estimator)
    assert copy.get_params() == params
    assert not hasattr(copy, "bank_")


def test_transform_before_fit_fails() -> None:
    with pytest.raises(NotFittedError):
        make_estimator().transform(shapes("dot", 1, 0))


def test_pipeline_separates_single_from_double_sources() -> None:
    train = shapes("dot", 6, 0) + shapes("double", 6, 1)
    labels = ["single"] * 6 + ["double"] * 6
    model = make_pipeline(make_estimator(), SVC(kernel="linear")).fit(train, labels)
    test = shapes("dot", 4, 2) + shapes("double", 4, 3)
    assert model.predict(test).tolist() == ["single"] * 4 + ["double"] * 4


def test_feature_names_follow_the_bank() -> None:
    estimator = make_estimator(per_class=1).fit(
        shapes("dot", 2, 0) + shapes("double", 2, 1), ["b", "b", "a", "a"]
    )
    assert estimator.get_feature_names_out().tolist() == ["cosfire_a_0", "cosfire_b_0"]
    assert estimator.transform(shapes("dot", 3, 5)).shape == (3, 2)


def test_non_image_input_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="2-D grey images"):
        make_estimator().fit(np.zeros((4, 10)), [0, 0, 1, 1])
