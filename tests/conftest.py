"""Shared fixtures: the real FIRST data (from COSFIRE_HASH_DATA, never downloaded) and a cache."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep generated data (the synthetic set) out of the user's cache."""
    if "COSFIRE_HASH_CACHE" not in os.environ:
        os.environ["COSFIRE_HASH_CACHE"] = str(tmp_path_factory.mktemp("cosfire-cache"))


@pytest.fixture(scope="session")
def real_data_zip() -> Path:
    """The FIRST galaxy_data.zip named by COSFIRE_HASH_DATA (skips the test when unset)."""
    value = os.environ.get("COSFIRE_HASH_DATA")
    if not value or not Path(value).is_file():
        pytest.skip("set COSFIRE_HASH_DATA to the FIRST galaxy_data.zip to run real-data tests")
    return Path(value)


@pytest.fixture(scope="session")
def real_slice(real_data_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 40-image slice of the FIRST set as a folder: train 6 and test 4 images per class."""
    root = tmp_path_factory.mktemp("first-slice")
    with zipfile.ZipFile(real_data_zip) as archive:
        members = sorted(archive.namelist())
        for split, count in (("train", 6), ("test", 4)):
            for class_name in ("Bent", "Compact", "FRI", "FRII"):
                chosen = [
                    m for m in members if f"/{split}/{class_name}/" in m and m.endswith(".png")
                ][::11][:count]
                folder = root / split / class_name
                folder.mkdir(parents=True)
                for member in chosen:
                    (folder / Path(member).name).write_bytes(archive.read(member))
    return root


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Top folder of a small synthetic set: train 6, valid 2, test 2 per class, 300 x 300 px."""
    from cosfire.synthetic import write_synthetic_dataset

    return write_synthetic_dataset(
        tmp_path_factory.mktemp("synthetic"),
        n_per_class={"train": 6, "valid": 2, "test": 2},
        seed=0,
    )
