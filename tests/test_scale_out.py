"""Describing scales out: joblib backends and a dask.distributed cluster give the same rows."""

from __future__ import annotations

import numpy as np
import pytest

from cosfire.bank import configure_bank
from cosfire.configure import FilterConfig
from cosfire.descriptor import describe
from cosfire.preprocess import Preprocessing
from cosfire.synthetic import make_galaxy


@pytest.fixture(scope="module")
def bank_and_images():
    rng = np.random.default_rng(0)
    images = [
        make_galaxy(k, size=96, rng=rng) / 255.0 for k in ("FRI", "FRII", "Bent") for _ in range(4)
    ]
    bank = configure_bank(
        images,
        np.repeat([0, 1, 2], 4),
        class_names=("FRI", "FRII", "Bent"),
        per_class=2,
        config=FilterConfig(sigma=2.0, rhos=(0, 4, 8)),
        preprocessing=Preprocessing(crop_px=None),
    )
    return bank, images


def test_dask_local_cluster_matches_serial(bank_and_images) -> None:
    distributed = pytest.importorskip("dask.distributed")
    bank, images = bank_and_images
    serial = describe(bank, images)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster),
    ):
        on_cluster = describe(bank, images, n_jobs=2, backend="dask", chunk_size=3)
    np.testing.assert_array_equal(on_cluster, serial)
    assert (serial > 0).any()
