"""The B-COSFIRE DRIVE reference folder (the authors' MATLAB output on DRIVE 01_test).

Found through ``COSFIRE_HASH_DRIVE``, else at ``shared/data/bcosfire-drive`` beside the clone
(as ``.ci/run`` finds the FIRST zip); tests that need it skip when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DEFAULT_DRIVE = Path(__file__).resolve().parents[2] / "shared" / "data" / "bcosfire-drive"


def drive_folder() -> Path:
    """Return the DRIVE reference folder, or skip the test."""
    folder = Path(os.environ.get("COSFIRE_HASH_DRIVE", DEFAULT_DRIVE))
    if not (folder / "matlab-output.png").is_file():
        pytest.skip(f"no B-COSFIRE DRIVE reference at {folder}; set COSFIRE_HASH_DRIVE")
    return folder
