"""Trainable, rotation-invariant COSFIRE filters (Azzopardi & Petkov, TPAMI 2013).

Configure a filter from one prototype image, apply it to get a response map, or build a bank
of filters from prototypes of every class and describe images by each filter's maximum
response. The data path: image -> input-filter responses (DoG or Gabor) -> blurred, shifted,
combined by a weighted geometric mean -> maximum over rotations -> descriptor.

Examples
--------
>>> import numpy as np
>>> import cosfire
>>> image = np.zeros((64, 64), np.float32); image[32, 32] = image[32, 44] = 1.0
>>> pair = cosfire.configure(image, sigma=2.0, rhos=(0, 12), t1=0.1)
>>> response = cosfire.apply(pair, np.rot90(image))
>>> response.shape
(64, 64)
"""

from cosfire._atomic import atomic_write, check_format_version
from cosfire.apply import apply, response_maps
from cosfire.bank import FilterBank, configure_bank, load_bank
from cosfire.blur import blur_radius, blur_sigma, blurred_response
from cosfire.configure import (
    DEFAULT_RHOS,
    FilterConfig,
    NoTuplesError,
    configure,
    configure_from_channels,
    configure_gabor,
    configure_with,
)
from cosfire.conventions import CONVENTIONS
from cosfire.descriptor import describe, describe_image
from cosfire.descriptor_file import DescriptorSet, load_descriptors, save_descriptors
from cosfire.estimator import CosfireDescriptor
from cosfire.explain import explain, explain_match
from cosfire.filter import CosfireFilter, CosfireTuple, FilterParams
from cosfire.input_filters import DoGChannel, GaborChannel, dog_response, gabor_response
from cosfire.orientation import relative_rotation
from cosfire.plan import DEFAULT_ROTATIONS_DEG, ApplicationPlan, make_plan
from cosfire.preprocess import Preprocessing, preprocess

__all__ = [
    "CONVENTIONS",
    "DEFAULT_RHOS",
    "DEFAULT_ROTATIONS_DEG",
    "ApplicationPlan",
    "CosfireDescriptor",
    "CosfireFilter",
    "CosfireTuple",
    "DescriptorSet",
    "DoGChannel",
    "FilterBank",
    "FilterConfig",
    "FilterParams",
    "GaborChannel",
    "NoTuplesError",
    "Preprocessing",
    "apply",
    "atomic_write",
    "check_format_version",
    "blur_radius",
    "blur_sigma",
    "blurred_response",
    "configure",
    "configure_bank",
    "configure_from_channels",
    "configure_gabor",
    "configure_with",
    "describe",
    "describe_image",
    "dog_response",
    "explain",
    "explain_match",
    "gabor_response",
    "load_bank",
    "load_descriptors",
    "make_plan",
    "preprocess",
    "relative_rotation",
    "response_maps",
    "save_descriptors",
]
