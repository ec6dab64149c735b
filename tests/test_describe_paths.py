"""describe() takes image paths as they are, as a notebook user writes them."""

from __future__ import annotations

import numpy as np
from PIL import Image

import cosfire
from cosfire.images import load_image


def test_describe_reads_paths_without_a_reader(tmp_path):
    blob = np.pad(np.full((5, 5), 200, np.uint8), 40)
    paths = []
    for name in ("a.png", "b.png"):
        Image.fromarray(blob).save(tmp_path / name)
        paths.append(tmp_path / name)
    bank = cosfire.configure_bank(
        [blob.astype(np.float32) / 255],
        [0],
        class_names=("blob",),
        per_class=1,
        config=cosfire.FilterConfig(sigma=2.0, rhos=(0, 4)),
    )
    from_paths = cosfire.describe(bank, [str(paths[0]), paths[1]])
    from_arrays = cosfire.describe(bank, [load_image(p) for p in paths])
    assert from_paths.shape == (2, 1) and from_paths[0, 0] > 0
    assert np.allclose(from_paths, from_arrays)
