"""COSFIRE descriptors: the maximum response of every filter of a bank, for many images.

Per image the blurred response maps are computed once for the whole bank
(:func:`cosfire.plan.compute_maps`); a compiled kernel then finds each filter's maximum by
visiting only pixels where the filter can respond (see :mod:`cosfire._kernels`). The result
equals the maximum of :func:`cosfire.apply.apply`'s map. Many images are described in
parallel with joblib, in chunks.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from joblib import Parallel, delayed, parallel_config

from cosfire._atomic import atomic_write
from cosfire._kernels import filter_maxima
from cosfire.bank import FilterBank
from cosfire.morphology import morphology_features
from cosfire.plan import ApplicationPlan, compute_maps
from cosfire.preprocess import preprocess

__all__ = [
    "DescribeReport",
    "FilterPeaks",
    "ImageTooSmallError",
    "describe",
    "describe_image",
    "describe_report",
    "min_image_px",
    "plan_maxima",
    "plan_peaks",
    "prepare_image",
]


@dataclass(frozen=True, eq=False)
class FilterPeaks:
    """Where every filter of a plan reached its maximum on one image.

    Attributes
    ----------
    values : float32 (F,)
        The maximum response of every filter (the descriptor's filter columns).
    angles_deg : float32 (F,)
        Rotation psi (degrees, counter-clockwise) of the filter at its maximum; NaN where the
        filter does not respond.
    rotation_index, variant : int64 (F,)
        Index of that rotation in the plan's ``rotations_deg`` and of the scale / reflection
        variant (-1 where the filter does not respond).
    rows, cols : int64 (F,)
        Pixel of the filter's centre at its maximum (-1 where the filter does not respond).
    """

    values: np.ndarray
    angles_deg: np.ndarray
    rotation_index: np.ndarray
    variant: np.ndarray
    rows: np.ndarray
    cols: np.ndarray


def _run_kernel(plan: ApplicationPlan, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    maps = compute_maps(plan, image)
    maxima = np.zeros(plan.n_filters, dtype=np.float64)
    where = np.empty((plan.n_filters, 4), dtype=np.int64)
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
        maps.block_max_log,
        maps.map_max_log,
        plan.tuple_start,
        plan.tuple_weight,
        plan.tuple_map,
        plan.tuple_whole,
        plan.tuple_dy,
        plan.tuple_dx,
        plan.tuple_fy,
        plan.tuple_fx,
        plan.filter_wrap,
        maxima,
        where,
    )
    return maxima.astype(np.float32), where


def plan_maxima(plan: ApplicationPlan, image: np.ndarray) -> np.ndarray:
    """Return the maximum response of every filter of ``plan`` on ``image`` (float32, (F,)).

    ``image`` is used as given (no preprocessing).
    """
    return _run_kernel(plan, image)[0]


def plan_peaks(plan: ApplicationPlan, image: np.ndarray) -> FilterPeaks:
    """Return every filter's maximum on ``image`` with the rotation and place it was reached.

    ``image`` is used as given (no preprocessing). The values equal :func:`plan_maxima`'s.

    Examples
    --------
    >>> import numpy as np
    >>> from cosfire.configure import configure
    >>> from cosfire.plan import make_plan
    >>> image = np.zeros((64, 64), np.float32); image[32, 32] = image[32, 44] = 1.0
    >>> plan = make_plan([configure(image, sigma=2.0, rhos=(0, 12), t1=0.1)])
    >>> peaks = plan_peaks(plan, np.rot90(image))  # the pair turned by 90 degrees
    >>> float(peaks.angles_deg[0]), int(peaks.rows[0]), int(peaks.cols[0])
    (90.0, 31, 32)
    """
    values, where = _run_kernel(plan, image)
    responded = where[:, 1] >= 0
    rotations = np.asarray(plan.rotations_deg, dtype=np.float32)
    angles = np.full(plan.n_filters, np.nan, dtype=np.float32)
    angles[responded] = rotations[where[responded, 1]]
    return FilterPeaks(
        values=values,
        angles_deg=angles,
        rotation_index=where[:, 1].copy(),
        variant=where[:, 0].copy(),
        rows=where[:, 2].copy(),
        cols=where[:, 3].copy(),
    )


class ImageTooSmallError(ValueError):
    """An image is smaller than the pattern the bank's filters look for."""


def min_image_px(bank: FilterBank) -> int:
    """Return the smallest image side that can hold the bank's largest filter (pixels)."""
    largest_rho = max(bank_filter.support_radius for bank_filter in bank.filters)
    return 2 * int(np.ceil(largest_rho * max(bank.scales))) + 1


def prepare_image(bank: FilterBank, image: np.ndarray, *, name: str = "image") -> np.ndarray:
    """Return ``image`` preprocessed for ``bank``, after checking it can be described.

    Raises
    ------
    ValueError
        For a non-2-D image or one with NaN/inf.
    ImageTooSmallError
        For an image smaller than the bank's filters.
    """
    values = np.asarray(image)
    if values.ndim != 2:
        raise ValueError(f"{name} has shape {values.shape}; a 2-D grey image is needed")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contains NaN or inf pixels; replace them (e.g. with 0) first")
    prepared = preprocess(values, bank.preprocessing)
    needed = min_image_px(bank)
    if min(prepared.shape) < needed:
        raise ImageTooSmallError(
            f"{name} is {prepared.shape[0]}x{prepared.shape[1]} px after preprocessing, smaller "
            f"than the bank's filters ({needed} px across); use larger cutouts or configure a "
            "bank with smaller --rhos"
        )
    return prepared


def describe_image(bank: FilterBank, image: np.ndarray) -> np.ndarray:
    """Return the descriptor of one image: preprocessed, one maximum per filter, then extras.

    A bank with ``extras`` appends the :mod:`cosfire.morphology` measurements of the
    preprocessed image after the filters' maxima.

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
    return _values(bank, prepare_image(bank, image))


def _values(bank: FilterBank, prepared: np.ndarray) -> np.ndarray:
    maxima = plan_maxima(bank.plan, prepared)
    if not bank.extras:
        return maxima
    return np.concatenate([maxima, morphology_features(prepared, groups=bank.extras)])


def _values_and_angles(bank: FilterBank, prepared: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The descriptor and, per column, the angle of the filter's maximum (NaN for extras)."""
    peaks = plan_peaks(bank.plan, prepared)
    angles = np.full(bank.n_values, np.nan, dtype=np.float32)
    angles[: bank.n_filters] = peaks.angles_deg
    if not bank.extras:
        return peaks.values, angles
    extras = morphology_features(prepared, groups=bank.extras)
    return np.concatenate([peaks.values, extras]), angles


@dataclass(frozen=True, eq=False)
class DescribeReport:
    """Descriptors of many images, with the images that could not be described.

    Attributes
    ----------
    block_sources : tuple
        Per chunk, its rows (an array) or the checkpoint file holding them.
    failed : tuple of (int, str)
        Index and reason of every input that failed (with ``on_error="skip"``); their rows
        are NaN.
    resumed : int
        Inputs whose rows came from an earlier, interrupted run's checkpoint.
    n_images, n_filters : int
        Shape of the descriptor matrix.
    angle_sources : tuple or None
        Per chunk, the angles of its rows (an array) or the checkpoint file holding them;
        None when angles were not asked for (``describe_report(..., angles=True)``).
    """

    block_sources: tuple[np.ndarray | Path, ...]
    failed: tuple[tuple[int, str], ...]
    resumed: int = 0
    n_images: int = 0
    n_filters: int = 0
    angle_sources: tuple[np.ndarray | Path, ...] | None = None

    def blocks(self):
        """Yield the descriptor rows chunk by chunk (float32), reading checkpoints lazily."""
        for source in self.block_sources:
            if isinstance(source, Path):
                stored = _load_chunk(source)
                if stored is None:
                    raise ValueError(f"checkpoint '{source}' became unreadable; run again")
                yield stored[0]
            else:
                yield source

    def angle_blocks(self):
        """Yield the angle rows chunk by chunk (float32, NaN where a filter did not respond)."""
        if self.angle_sources is None:
            raise ValueError("angles were not kept; describe with angles=True")
        for source in self.angle_sources:
            if isinstance(source, Path):
                stored = _load_chunk(source)
                if stored is None or stored[2] is None:
                    raise ValueError(f"checkpoint '{source}' became unreadable; run again")
                yield stored[2]
            else:
                yield source

    @property
    def descriptors(self) -> np.ndarray:
        """All rows, float32 (n, F); rows of failed inputs are NaN."""
        blocks = list(self.blocks())
        if not blocks:
            return np.zeros((0, self.n_filters), dtype=np.float32)
        return np.concatenate(blocks, axis=0)

    @property
    def angles_deg(self) -> np.ndarray | None:
        """Per row and column, the rotation (degrees) of the filter's maximum, float32 (n, F).

        NaN where the filter did not respond, for ``extras`` columns and for failed inputs;
        None when angles were not asked for.
        """
        if self.angle_sources is None:
            return None
        blocks = list(self.angle_blocks())
        if not blocks:
            return np.zeros((0, self.n_filters), dtype=np.float32)
        return np.concatenate(blocks, axis=0)

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of the inputs that were described."""
        mask = np.ones(self.n_images, dtype=bool)
        mask[[index for index, _ in self.failed]] = False
        return mask


def _item_name(item: Any) -> str:
    if isinstance(item, np.ndarray):
        return f"array of shape {item.shape}"
    return str(getattr(item, "path", item))


def _describe_chunk(
    bank: FilterBank,
    items: Sequence[Any],
    read: Callable[[Any], np.ndarray] | None,
    on_error: str,
    angles: bool = False,
) -> tuple[np.ndarray, list[tuple[int, str]], np.ndarray | None]:
    rows = np.zeros((len(items), bank.n_values), dtype=np.float32)
    angle_rows = np.full(rows.shape, np.nan, dtype=np.float32) if angles else None
    failed: list[tuple[int, str]] = []
    for row, item in enumerate(items):
        try:
            image = read(item) if read is not None else _read_path_or_array(item)
            prepared = prepare_image(bank, image, name=f"'{_item_name(item)}'")
        except (ValueError, OSError) as error:
            if on_error == "raise":
                raise
            rows[row] = np.nan
            failed.append((row, str(error)))
            continue
        if angle_rows is None:
            rows[row] = _values(bank, prepared)
        else:
            rows[row], angle_rows[row] = _values_and_angles(bank, prepared)
    return rows, failed, angle_rows


def _read_path_or_array(item: Any) -> np.ndarray:
    """Return ``item`` itself, or the image file it names (a str or path)."""
    if isinstance(item, (str, os.PathLike)):
        from cosfire.images import load_image

        return load_image(item)
    return item


def _chunk_key(bank_sha256: str, items: Sequence[Any]) -> str:
    digest = hashlib.sha256(bank_sha256.encode())
    for item in items:
        if isinstance(item, np.ndarray):
            digest.update(np.ascontiguousarray(item).tobytes())
        else:
            digest.update(repr(item).encode())
    return digest.hexdigest()[:16]


_Chunk = tuple[np.ndarray, list[tuple[int, str]], np.ndarray | None]


def _load_chunk(path: Path) -> _Chunk | None:
    """Rows, failures and angles (None if the chunk was described without) of a checkpoint."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            return (
                stored["rows"],
                list(
                    zip(
                        stored["failed_rows"].tolist(),
                        stored["failed_reasons"].tolist(),
                        strict=True,
                    )
                ),
                stored["angles"] if "angles" in stored.files else None,
            )
    except (OSError, ValueError, KeyError):
        return None  # a damaged checkpoint is recomputed


def _save_chunk(
    path: Path, rows: np.ndarray, failed: list[tuple[int, str]], angles: np.ndarray | None
) -> None:
    extra = {} if angles is None else {"angles": angles}
    with atomic_write(path, "wb") as handle:
        np.savez(
            handle,
            rows=rows,
            failed_rows=np.array([i for i, _ in failed], dtype=np.int64),
            failed_reasons=np.array([r for _, r in failed], dtype=str),
            **extra,
        )


def _collect(results, todo, paths, done, in_memory, progress) -> None:
    """Store each finished chunk (on disk when checkpointing) as it arrives."""
    for index, (rows, failures, angles) in zip(todo, results, strict=True):
        keep_path = paths[index] is not None and not in_memory
        if paths[index] is not None:
            _save_chunk(paths[index], rows, failures, angles)
        if keep_path:
            done[index] = (paths[index], failures, None if angles is None else paths[index])
        else:
            done[index] = (rows, failures, angles)
        if progress is not None:
            progress(len(rows))


def describe_report(
    bank: FilterBank,
    images: Sequence[Any],
    *,
    read: Callable[[Any], np.ndarray] | None = None,
    n_jobs: int = 1,
    backend: str = "loky",
    chunk_size: int = 32,
    progress: Callable[[int], None] | None = None,
    on_error: Literal["raise", "skip"] = "raise",
    checkpoint: str | os.PathLike[str] | None = None,
    in_memory: bool = True,
    angles: bool = False,
) -> DescribeReport:
    """Describe ``images`` like :func:`describe`, keeping going past bad inputs if asked.

    Parameters
    ----------
    on_error : {"raise", "skip"}
        Stop at the first unreadable or undescribable input, or record it and go on (its row
        is NaN and it is listed in ``failed``).
    checkpoint : path, optional
        A folder where every finished chunk is saved; a run over the same bank and inputs
        that finds a chunk there takes it instead of recomputing it, so an interrupted run
        resumes where it stopped.
    in_memory : bool
        With a checkpoint folder, ``False`` keeps no rows in memory: the report reads them
        back from the chunk files (for collections larger than memory).
    angles : bool
        Also keep, for every image and filter, the rotation at which the filter's maximum was
        reached (``DescribeReport.angles_deg``, degrees; NaN where it did not respond). The
        descriptors are the same either way.

    Other parameters are those of :func:`describe`.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    _ = bank.plan  # build the plan once, before the bank is shipped to workers
    starts = list(range(0, len(images), chunk_size))
    chunks = [images[start : start + chunk_size] for start in starts]
    folder = Path(checkpoint) if checkpoint is not None else None
    paths: list[Path | None] = [None] * len(chunks)
    done: dict[int, tuple[Any, list[tuple[int, str]], Any]] = {}
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        for index, chunk in enumerate(chunks):
            paths[index] = folder / f"chunk-{index:06d}-{_chunk_key(bank.sha256, chunk)}.npz"
            stored = _load_chunk(paths[index]) if paths[index].is_file() else None
            # a chunk described without angles is described again when angles are asked for
            if stored is not None and len(stored[0]) == len(chunk):
                if angles and stored[2] is None:
                    continue
                if in_memory:
                    done[index] = (stored[0], stored[1], stored[2] if angles else None)
                else:
                    done[index] = (paths[index], stored[1], paths[index] if angles else None)
    resumed = sum(len(chunks[i]) for i in done)
    if progress is not None and resumed:
        progress(resumed)
    todo = [i for i in range(len(chunks)) if i not in done]
    with contextlib.ExitStack() as stack:
        if n_jobs == 1:
            results = (_describe_chunk(bank, chunks[i], read, on_error, angles) for i in todo)
        else:
            # joblib registers external backends such as "dask" only through parallel_config
            stack.enter_context(parallel_config(backend=backend, n_jobs=n_jobs))
            results = Parallel(return_as="generator")(
                delayed(_describe_chunk)(bank, chunks[i], read, on_error, angles) for i in todo
            )
        _collect(results, todo, paths, done, in_memory, progress)
    failed = tuple(
        (starts[i] + row, reason) for i in range(len(chunks)) for row, reason in done[i][1]
    )
    return DescribeReport(
        tuple(done[i][0] for i in range(len(chunks))),
        failed,
        resumed,
        len(images),
        bank.n_values,
        tuple(done[i][2] for i in range(len(chunks))) if angles else None,
    )


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
        2-D arrays, image file paths (PNG, JPEG, FITS: :func:`cosfire.images.load_image`), or
        items that ``read`` turns into arrays (dataset items); reading happens in the
        workers, so only the items travel between processes.
    read : callable, optional
        Loader for the items of ``images`` (default: paths are loaded, arrays used as given).
    n_jobs : int
        Parallel workers (joblib semantics: -1 = all cores).
    backend : str
        joblib backend: "loky" (processes), "threading" (the compiled kernel releases the
        GIL), or any registered backend such as "dask".
    chunk_size : int
        Images per task.
    progress : callable, optional
        Called with the number of images finished after every chunk.

    Raises
    ------
    ValueError
        For the first input that cannot be read or described (see :func:`describe_report`
        to skip such inputs instead).

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
    return describe_report(
        bank,
        images,
        read=read,
        n_jobs=n_jobs,
        backend=backend,
        chunk_size=chunk_size,
        progress=progress,
    ).descriptors
