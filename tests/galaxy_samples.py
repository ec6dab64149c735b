"""Small samples of real FIRST galaxies for engine tests (read straight from the zip).

The zip is found through ``COSFIRE_HASH_DATA`` (a path to ``galaxy_data.zip`` or the extracted
folder); tests that need it skip when it is not set. Never downloads anything.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

CLASSES = ("Bent", "Compact", "FRI", "FRII")


def real_data_path() -> Path:
    """Return the FIRST data path from ``COSFIRE_HASH_DATA`` or skip the test."""
    value = os.environ.get("COSFIRE_HASH_DATA")
    if not value or not Path(value).exists():
        pytest.skip("set COSFIRE_HASH_DATA to the FIRST galaxy_data.zip to run real-data tests")
    return Path(value)


def first_galaxies(
    split: str = "train", per_class: int = 3, stride: int = 7
) -> tuple[list[np.ndarray], np.ndarray]:
    """Return ``per_class`` images of every class (every ``stride``-th file) and labels."""
    source = real_data_path()
    images: list[np.ndarray] = []
    labels: list[int] = []
    if source.is_dir():
        for label, name in enumerate(CLASSES):
            files = sorted(source.rglob(f"{split}/{name}/*.png"))[::stride][:per_class]
            images += [cv2.imread(str(f), cv2.IMREAD_GRAYSCALE) for f in files]
            labels += [label] * len(files)
    else:
        with zipfile.ZipFile(source) as archive:
            members = sorted(archive.namelist())
            for label, name in enumerate(CLASSES):
                chosen = [m for m in members if f"/{split}/{name}/" in m and m.endswith(".png")][
                    ::stride
                ][:per_class]
                for member in chosen:
                    encoded = np.frombuffer(archive.read(member), np.uint8)
                    images.append(cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE))
                    labels.append(label)
    return [image.astype(np.float32) / 255.0 for image in images], np.array(labels)
