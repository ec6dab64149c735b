"""B-COSFIRE on DRIVE 01_test reproduces the authors' MATLAB output (convention="bcosfire").

The reference folder holds MATLAB's final response and its intermediate images (DoG responses
and blurred DoG responses per sigma and rho, as round(255 x value) PNGs), which pin the DoG and
the blur rule separately; the final response pins shifts and the combination too.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from drive_samples import drive_folder
from test_examples import load_example

from cosfire.blur import blur_radius, blur_sigma, blurred_response
from cosfire.input_filters import dog_response

#: (DoG sigma, sigma0, alpha, rhos) of the symmetric and asymmetric filters.
FILTERS = ((2.4, 3.0, 0.7, range(0, 9, 2)), (1.8, 2.0, 0.1, range(0, 23, 2)))
INSIDE = (slice(20, -20), slice(20, -20))  # MATLAB pads the DoG with zeros, cosfire reflects


def read_png(path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED).astype(np.float64)


def test_convention_bcosfire_reproduces_the_matlab_output() -> None:
    vessels = load_example("vessel_delineation")
    drive = vessels.read_drive(drive_folder())
    response = vessels.drive_response(drive, convention="bcosfire")
    assert vessels.pearson_in_mask(response, drive["matlab"], drive["mask"]) >= 0.999
    radius_rule = vessels.drive_response(drive, convention="bcosfire", blur_rule="radius")
    assert vessels.pearson_in_mask(radius_rule, drive["matlab"], drive["mask"]) < 0.999


def test_dog_and_blurred_responses_match_the_matlab_intermediates() -> None:
    folder = drive_folder() / "matlab-intermediate"
    subject = read_png(folder / "subject.png").astype(np.float32) / 255.0
    radius_rule_misses = 0
    for sigma, sigma0, alpha, rhos in FILTERS:
        dog = dog_response(subject, sigma=sigma)
        matlab_dog = read_png(folder / f"sigma{sigma}.png")
        assert np.abs(np.round(255 * dog) - matlab_dog)[INSIDE].max() <= 1
        for rho in rhos:
            matlab = read_png(folder / f"sigma{sigma}rho{rho}.png")[INSIDE]
            errors = {}
            for rule in ("exact", "radius"):
                blur = {"sigma0": sigma0, "alpha": alpha, "rule": rule}
                radius, blur_sd = blur_radius(rho, **blur), blur_sigma(rho, **blur)
                ours = 255 * blurred_response(dog, radius, "sum", sigma=blur_sd)[INSIDE]
                errors[rule] = (
                    np.abs(np.round(ours) - matlab).max(),
                    np.sqrt(np.mean((ours - matlab) ** 2)),
                )
            assert errors["exact"][0] <= 1, (sigma, rho)  # 8-bit rounding only
            assert errors["exact"][1] == pytest.approx(0.21, abs=0.04), (sigma, rho)
            radius_rule_misses += errors["radius"][0] > 1
    assert radius_rule_misses >= 5  # the intermediates tell the two blur rules apart
