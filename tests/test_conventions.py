"""The authors' MATLAB conventions as presets, the options they set, and round-off-free peaks."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from cosfire.blur import blur_radius, blur_sigma, blurred_response
from cosfire.configure import FilterConfig, circular_peaks, configure
from cosfire.conventions import CONVENTIONS
from cosfire.filter import CosfireFilter, FilterParams
from cosfire.geometry import polar_offsets
from cosfire.plan import make_plan


def bar(size: int = 61) -> np.ndarray:
    """A vertical bright line through the centre (the B-COSFIRE prototype)."""
    image = np.zeros((size, size), np.float32)
    image[:, size // 2] = 1.0
    return image


def test_conventions_set_the_matlab_options() -> None:
    bcosfire = configure(bar(), sigma=2.4, rhos=(0, 2, 4), convention="bcosfire").params
    assert (bcosfire.blur, bcosfire.blur_rule, bcosfire.shift) == ("sum", "exact", "round")
    assert (bcosfire.weighted, bcosfire.border) == (False, "wrap")
    tpami = configure(bar(), sigma=2.4, rhos=(0, 2, 4), convention="cosfire2013").params
    assert (tpami.blur, tpami.blur_rule, tpami.shift) == ("max", "radius", "fix")
    assert (tpami.weighted, tpami.weight_rule, tpami.border) == (True, "radio", "zero")
    assert set(CONVENTIONS) == {"bcosfire", "cosfire2013"}


def test_explicit_options_override_the_convention() -> None:
    params = configure(
        bar(), sigma=2.4, rhos=(0, 2), convention="bcosfire", weighted=True, border="zero"
    ).params
    assert params.weighted and params.border == "zero" and params.blur_rule == "exact"
    config = FilterConfig(convention="cosfire2013", shift="bilinear")
    assert (config.shift, config.blur) == ("bilinear", "max")
    with pytest.raises(ValueError, match="convention must be one of"):
        FilterConfig(convention="bcosfire2015")
    with pytest.raises(ValueError, match="whole-pixel shifts"):
        FilterConfig(convention="bcosfire", shift="bilinear")


def test_defaults_write_the_same_json_as_before() -> None:
    # the keys of format 1: a config or filter that does not use the new options keeps its bytes
    # fmt: skip below: tables of JSON keys, several per line, read as sets
    assert set(FilterConfig().to_dict()) == {
        "input_filter", "sigma", "polarity", "sigma_ratio", "wavelengths", "orientations",
        "aspect", "bandwidth", "phases", "rhos", "t1", "t2", "eta", "sigma0", "alpha", "blur",
        "weighted", "weight_rule", "shift",
    }  # fmt: skip
    assert set(FilterParams().to_dict()) == {
        "t1", "sigma0", "alpha", "blur", "weighted", "weight_rule", "t3", "shift",
    }  # fmt: skip
    assert FilterParams().format_version == 1
    config = FilterConfig(sigma=2.4, convention="bcosfire")
    assert FilterConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    matlab = configure(bar(), sigma=2.4, rhos=(0, 2), convention="bcosfire")
    assert CosfireFilter.from_dict(json.loads(json.dumps(matlab.to_dict()))) == matlab
    assert matlab.params.format_version == 2


def test_exact_blur_rule_uses_matlabs_centred_window() -> None:
    # B-COSFIRE: sigma = (sigma0 + alpha rho) / 6 on fspecial's round(6 sigma) pixels, centred
    assert blur_sigma(8, sigma0=3.0, alpha=0.7, rule="exact") == pytest.approx(8.6 / 6)
    assert blur_radius(8, sigma0=3.0, alpha=0.7, rule="exact") == 4  # round(8.6) = 9 px
    assert blur_radius(4, sigma0=3.0, alpha=0.7, rule="exact") == 3  # round(5.8) = 6 -> 7 px
    assert blur_radius(4, sigma0=3.0, alpha=0.7) == 3  # the radius rule: round(5.8 / 2)
    assert blur_sigma(4, sigma0=3.0, alpha=0.7) == 1.0  # ... with sigma r / 3
    impulse = np.zeros((15, 15), np.float32)
    impulse[7, 7] = 1.0
    blurred = blurred_response(impulse, 4, "sum", sigma=8.6 / 6)
    assert blurred.sum() == pytest.approx(1.0, abs=1e-6)
    assert blurred[7, 3] > 0 and blurred[7, 2] == 0  # the window ends 4 px from the centre
    offsets = np.arange(-4, 5)
    expected_row = np.exp(-(offsets**2) / (2 * (8.6 / 6) ** 2))
    np.testing.assert_allclose(blurred[7, 3:12] / blurred[7, 7], expected_row, rtol=1e-5)


def test_fix_truncates_offsets_toward_zero() -> None:
    angles = np.deg2rad([30.0, 150.0, 210.0, 330.0])
    rounded = polar_offsets(3.0, angles)  # rows -1.5, -1.5, 1.5, 1.5; cols +-2.598
    fixed = polar_offsets(3.0, angles, rounding="fix")
    assert rounded[0].tolist() == [-2, -2, 2, 2] and rounded[1].tolist() == [3, -3, -3, 3]
    assert fixed[0].tolist() == [-1, -1, 1, 1] and fixed[1].tolist() == [2, -2, -2, 2]
    # a whole offset computed with round-off stays whole: 10 sin(30 deg) = 4.999...
    assert polar_offsets(10.0, math.radians(150.0), rounding="fix")[0].item() == -5
    one_tuple = configure(bar(), sigma=2.4, rhos=(3,), t2=0.9, convention="cosfire2013")
    plan = make_plan([one_tuple], rotations_deg=(60.0,))  # the tuple at 90 + 60 degrees
    assert (plan.tuple_dy[0, 0, 0], plan.tuple_dx[0, 0, 0]) == (-1, -2)


def test_round_off_ripples_are_not_peaks() -> None:
    rng = np.random.default_rng(0)
    flat = 0.5 + rng.uniform(-1e-9, 1e-9, 360)  # a plateau with float noise
    assert circular_peaks(flat).tolist() == [0]
    assert circular_peaks(flat, rtol=0).size > 50  # compared exactly, every ripple is a peak
    signal = np.zeros(360)
    signal[80:101] = np.exp(-((np.arange(80, 101) - 90) ** 2) / 20.0)
    signal[200:260] = rng.uniform(0, 1e-8, 60)  # round-off left where the response is empty
    assert circular_peaks(signal).tolist() == [90]
    assert circular_peaks(signal[200:260], scale=1.0).tolist() == []  # round-off only


def test_t1_zero_configures_the_same_tuples_as_a_tiny_t1() -> None:
    # on a ramp the DoG is 0 in exact arithmetic; float32 leaves ripples of ~1e-7 there, which
    # compared exactly made 11 tuples with t1 = 0 and 7 with t1 = 1e-6 (one blob is real)
    ramp = np.zeros((121, 121), np.float32)
    ramp[10:111, 10:111] = 0.3
    ramp *= np.linspace(0.8, 1.0, 121, dtype=np.float32)[None, :]
    ramp[60, 70] += 0.5  # a blob 10 px right of the centre
    options = {"sigma": 2.4, "rhos": (0, 5, 10), "t2": 0.75}
    with_zero = configure(ramp, t1=0.0, **options)
    assert with_zero.tuples == configure(ramp, t1=1e-6, **options).tuples
    assert [(part.rho, part.phi) for part in with_zero.tuples] == [(10.0, 0.0)]
    line = configure(bar(), sigma=2.4, rhos=(0, 2, 4), t1=0.0, t2=0.2)
    assert line.tuples == configure(bar(), sigma=2.4, rhos=(0, 2, 4), t1=1e-6, t2=0.2).tuples
    assert [round(math.degrees(p.phi)) for p in line.tuples] == [0, 90, 270, 90, 270]
