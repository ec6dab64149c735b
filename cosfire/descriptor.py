"""COSFIRE descriptors: the maximum response of every filter of a bank, for many images.

Per image the blurred response maps are computed once for the whole bank
(:func:`cosfire.plan.compute_maps`); a compiled kernel then finds each filter's maximum by
visiting only pixels where the filter can respond (see :mod:`cosfire._kernels`). The result
equals the maximum of :func:`cosfire.apply.apply`'s map. Many images are described in
parallel with joblib, in chunks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from joblib import Parallel, delayed

from cosfire._kernels import filter_maxima
from cosfire.bank import FilterBank
from cosfire.plan import ApplicationPlan, compute_maps
from cosfire.preprocess import Preprocessing, preprocess

__all__ = ["describe", "describe_image", "plan_maxima"]


def plan_maxima(plan: ApplicationPlan, image: np.ndarray) -> np.ndarray:
    """Return the maximum response of every filter of ``plan`` on ``image`` (float32, (F,)).

    ``image`` is used as given (no preprocessing).
    """
    maps = compute_maps(plan, image)
    maxima = np.zeros(plan.n_filters, dtype=np.float64)
    filter_maxima(
        maps.maps,
        maps.log_maps,
        maps.block_any,
        maps.support_start,
        maps.support_rows,
        maps.support_cols,
        maps.block_start,
        maps.block_rows,
        maps.block_cols,
        maps.map_max_log,
        plan.tuple_start,
        plan.tuple_weight,
        plan.tuple_map,
        plan.tuple_whole,
        plan.tuple_dy,
        plan.tuple_dx,
        plan.tuple_fy,
        plan.tuple_fx,
        maxima,
    )
    return maxima.astype(np.float32)


def describe_image(bank: FilterBank, image: np.ndarray) -> np.ndarray:
    """Return the descriptor of one image: preprocessed, then one maximum per filter.

    Examples
    --------
    >>> import numpy as np
    >>> from cosfire.bank import configure_bank
    >>> from cosfire.configure import FilterConfig
    >>> blob = np.pad(np.ones((3, 3), np.float32), 40)
    >>> bank = configure_bank([blob], [0], class_names=("blob",), per_class=1,
    ...                       config=FilterConfig(sigma=2.0, rhos=(0, 4)))
    >>> describe_image(bank, blob).shape
    (1,)
    """
    return plan_maxima(bank.plan, preprocess(image, bank.preprocessing))


def _describe_chunk(
    plan: ApplicationPlan,
    preprocessing: Preprocessing,
    items: Sequence[Any],
    read: Callable[[Any], np.ndarray] | None,
) -> np.ndarray:
    rows = np.zeros((len(items), plan.n_filters), dtype=np.float32)
    for row, item in enumerate(items):
        image = read(item) if read is not None else item
        rows[row] = plan_maxima(plan, preprocess(image, preprocessing))
    return rows


def describe(
    bank: FilterBank,
    images: Sequence[Any],
    *,
    read: Callable[[Any], np.ndarray] | None = None,
    n_jobs: int = 1,
    backend: str = "loky",
    chunk_size: int = 32,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Return the COSFIRE descriptors of ``images`` with ``bank`` (float32, (n, n_filters)).

    Parameters
    ----------
    bank : FilterBank
    images : sequence
        2-D arrays, or items that ``read`` turns into arrays (paths, dataset items); reading
        happens in the workers, so only the items travel between processes.
    read : callable, optional
        Loader for the items of ``images``.
    n_jobs : int
        Parallel workers (joblib semantics: -1 = all cores).
    backend : str
        joblib backend: "loky" (processes), "threading" (the compiled kernel releases the
        GIL), or any registered backend such as "dask".
    chunk_size : int
        Images per task.
    progress : callable, optional
        Called with the number of images finished after every chunk.

    Examples
    --------
    >>> import numpy as np
    >>> from cosfire.bank import configure_bank
    >>> from cosfire.configure import FilterConfig
    >>> blob = np.pad(np.ones((3, 3), np.float32), 40)
    >>> bank = configure_bank([blob], [0], class_names=("blob",), per_class=1,
    ...                       config=FilterConfig(sigma=2.0, rhos=(0, 4)))
    >>> describe(bank, [blob, np.zeros_like(blob)]).shape
    (2, 1)
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    plan = bank.plan
    chunks = [images[start : start + chunk_size] for start in range(0, len(images), chunk_size)]
    if not chunks:
        return np.zeros((0, bank.n_filters), dtype=np.float32)
    if n_jobs == 1:
        results = (_describe_chunk(plan, bank.preprocessing, chunk, read) for chunk in chunks)
    else:
        results = Parallel(n_jobs=n_jobs, backend=backend, return_as="generator")(
            delayed(_describe_chunk)(plan, bank.preprocessing, chunk, read) for chunk in chunks
        )
    blocks = []
    for block in results:
        blocks.append(block)
        if progress is not None:
            progress(len(block))
    return np.concatenate(blocks, axis=0)
