"""Describing images into a descriptor file, streamed chunk by chunk and resumable.

Click-free: ``cosfire-hash describe``, the pipeline and the benchmarks call it, and so can a
notebook.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cli.errors import UsageProblem
from cosfire import atomic_write
from cosfire.bank import FilterBank
from cosfire.descriptor import DescribeReport

__all__ = [
    "DescribeInputs",
    "DescribedFile",
    "describe_inputs",
    "describe_into",
    "describe_to_file",
]


def describe_to_file(
    bank: FilterBank,
    items: Sequence[Any],
    *,
    read: Callable[[Any], Any] | None,
    names: Sequence[str],
    labels: Sequence[int],
    class_names: Sequence[str],
    output: Path,
    n_jobs: int = 1,
    backend: str = "loky",
    chunk_size: int = 32,
    on_error: str = "raise",
    progress: Callable[[int], None] | None = None,
    angles: bool = False,
) -> DescribeReport:
    """Describe ``items`` and write ``output`` without holding all rows in memory.

    Finished chunks are kept in ``<output>.partial/`` until the file is written, so a run that
    is interrupted and started again resumes. Inputs that fail (``on_error="skip"``) are left
    out of the file and listed with their reasons in ``<output stem>.skipped.tsv``. With
    ``angles`` the file also holds ``angles_deg``: the rotation of every filter's maximum.

    Parameters
    ----------
    bank : FilterBank
        The filters.
    items : sequence
        What ``read`` turns into a 2-D image (paths, dataset items), or the images themselves
        when ``read`` is None.
    names, labels : sequence
        One path-like name and one class number per item, stored in the file.
    class_names : sequence of str
        The names of the class numbers.
    output : Path
        The ``.npz`` descriptor file to write (atomically).
    n_jobs, backend, chunk_size : int, str, int
        Parallel description: joblib workers and backend, images per chunk (and checkpoint).
    on_error : {"raise", "skip"}
        What an unreadable item does.
    progress : callable, optional
        Called with the number of images finished in each chunk.
    angles : bool
        Also store the rotation of every filter's maximum.

    Returns
    -------
    DescribeReport
        Which items were described (``ok``) and why the others failed.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from cosfire.configure import configure
    >>> image = np.zeros((64, 64), np.float32); image[32, 32] = image[32, 44] = 1.0
    >>> bank = FilterBank((configure(image, sigma=2.0, rhos=(0, 12), t1=0.1),), ("pair",))
    >>> output = Path(tempfile.mkdtemp()) / "pairs.npz"
    >>> report = describe_to_file(bank, [image, np.rot90(image)], read=None, names=["a", "b"],
    ...                           labels=[0, 0], class_names=("pair",), output=output)
    >>> report.ok.tolist(), output.exists()
    ([True, True], True)
    """
    return _describe_and_write(
        bank,
        items,
        read=read,
        names=names,
        labels=labels,
        class_names=class_names,
        output=output,
        n_jobs=n_jobs,
        backend=backend,
        chunk_size=chunk_size,
        on_error=on_error,
        progress=progress,
        angles=angles,
    )[0]


def _skipped_list(output: Path) -> Path:
    """The ``<output stem>.skipped.tsv`` that lists the inputs left out of ``output``."""
    return output.with_name(output.stem + ".skipped.tsv")


def _describe_and_write(
    bank: FilterBank,
    items: Sequence[Any],
    *,
    read: Callable[[Any], Any] | None,
    names: Sequence[str],
    labels: Sequence[int],
    class_names: Sequence[str],
    output: Path,
    n_jobs: int,
    backend: str,
    chunk_size: int,
    on_error: str,
    progress: Callable[[int], None] | None,
    angles: bool,
) -> tuple[DescribeReport, int]:
    """:func:`describe_to_file`, also returning how many written rows are all zero."""
    from cosfire.descriptor import describe_report
    from cosfire.descriptor_file import write_descriptor_blocks

    checkpoint = output.with_name(output.name + ".partial")
    report = describe_report(
        bank,
        items,
        read=read,
        n_jobs=n_jobs,
        backend=backend,
        chunk_size=chunk_size,
        progress=progress,
        on_error=on_error,
        checkpoint=checkpoint,
        in_memory=False,
        angles=angles,
    )
    keep = report.ok
    failed_rows = {index for index, _ in report.failed}
    silent = 0

    def kept_blocks(blocks):
        start = 0
        for block in blocks:
            rows = [r for r in range(len(block)) if start + r not in failed_rows]
            yield block if len(rows) == len(block) else block[rows]
            start += len(block)

    def counted(blocks):
        nonlocal silent
        for block in blocks:
            silent += int((block.max(axis=1) == 0).sum())
            yield block

    write_descriptor_blocks(
        output,
        counted(kept_blocks(report.blocks())),
        n_images=int(keep.sum()),
        n_filters=bank.n_values,
        labels=[label for label, k in zip(labels, keep, strict=True) if k],
        class_names=class_names,
        paths=[name for name, k in zip(names, keep, strict=True) if k],
        bank_sha256=bank.sha256,
        filter_class=bank.column_class,
        filter_index=bank.column_index,
        angle_blocks=kept_blocks(report.angle_blocks()) if angles else None,
    )
    shutil.rmtree(checkpoint, ignore_errors=True)
    if report.failed:
        with atomic_write(_skipped_list(output), "w") as handle:
            handle.write("path\treason\n")
            for index, reason in report.failed:
                handle.write(f"{names[index]}\t{' '.join(reason.split())}\n")
    return report, silent


@dataclass(frozen=True)
class DescribeInputs:
    """What :func:`describe_inputs` found: items to describe and how to read and name them.

    ``class_names`` is empty and every label -1 for unlabelled image files.
    """

    items: list[Any]
    read: Callable[[Any], Any] | None
    class_names: tuple[str, ...]
    labels: list[int]
    names: list[str]


def describe_inputs(inputs: Sequence[str], split: str | None = None) -> DescribeInputs:
    """Return the images that ``inputs`` name, labelled when they are a dataset.

    One argument that is a dataset (zip, ``<split>/<class>/`` or ``<class>/`` folder,
    'first', 'synthetic') gives labelled items of ``split`` (which may be left out when the
    dataset has one split); otherwise every argument is an image file or a folder of image
    files, unlabelled.

    Raises
    ------
    UsageProblem
        For a missing file, no images, a dataset with several splits and no ``split``, or a
        ``split`` given for image files.

    Examples
    --------
    >>> found = describe_inputs(["synthetic"], "valid")
    >>> len(found.items), found.class_names
    (40, ('Bent', 'Compact', 'FRI', 'FRII'))
    """
    from cosfire.datasets import open_dataset
    from cosfire.images import iter_image_files, load_image

    if len(inputs) == 1:
        source = inputs[0]
        path = Path(source)
        is_dataset = source in ("first", "synthetic") or path.suffix.lower() == ".zip"
        if path.is_dir() and not iter_image_files(path):
            is_dataset = True
        if is_dataset:
            dataset = open_dataset(source)
            if split is None:
                if len(dataset.splits) != 1:
                    raise UsageProblem(
                        f"{source} has splits {', '.join(dataset.splits)}; choose one with --split"
                    )
                split = dataset.splits[0]
            items = dataset.items(split)
            return DescribeInputs(
                items,
                dataset.read,
                tuple(dataset.class_names),
                [item.label for item in items],
                [dataset.name(item) for item in items],
            )
    if split is not None:
        raise UsageProblem("--split applies to a dataset zip or folder only")
    files: list[Path] = []
    for source in inputs:
        path = Path(source)
        if path.is_dir():
            files.extend(iter_image_files(path))
        elif path.exists():
            files.append(path)
        else:
            raise UsageProblem(f"INPUT {source} does not exist")
    if not files:
        raise UsageProblem("no image files found in INPUT")
    return DescribeInputs(files, load_image, (), [-1] * len(files), [str(f) for f in files])


@dataclass(frozen=True)
class DescribedFile:
    """What :func:`describe_into` wrote.

    Attributes
    ----------
    path : Path
        The descriptor file.
    n_images, n_filters : int
        Its rows and columns.
    silent : int
        Images to which no filter responded (all-zero rows).
    resumed : int
        Images taken from the checkpoint of an interrupted earlier run.
    skipped : int
        Images that could not be described (``on_error="skip"``).
    skipped_list : Path or None
        The ``.skipped.tsv`` listing them and why.
    """

    path: Path
    n_images: int
    n_filters: int
    silent: int
    resumed: int
    skipped: int
    skipped_list: Path | None


def describe_into(
    bank: FilterBank,
    inputs: Sequence[str],
    output: Path,
    *,
    split: str | None = None,
    n_jobs: int = 1,
    backend: str = "loky",
    chunk_size: int = 32,
    on_error: str = "raise",
    angles: bool = True,
    progress: Callable[[int], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> DescribedFile:
    """Describe the images ``inputs`` name (see :func:`describe_inputs`) into ``output``.

    ``cosfire-hash describe`` in Python: resumable (see :func:`describe_to_file`), keeping
    the angle of every filter's maximum by default as the command does (``search`` reports
    the rotation of a match from them; ``angles=False`` saves their memory), with
    ``on_start`` called with the number of images before the work begins (to size a progress
    bar) and ``progress`` with every finished chunk.

    Examples
    --------
    >>> import tempfile
    >>> from cosfire.bank import configure_bank
    >>> from cosfire.datasets import open_dataset
    >>> galaxies = open_dataset("synthetic"); items = galaxies.items("train")
    >>> bank = configure_bank(items, [i.label for i in items], class_names=galaxies.class_names,
    ...                       per_class=1, read=galaxies.read, rotations_deg=(0.0, 90.0))
    >>> output = Path(tempfile.mkdtemp()) / "valid.npz"
    >>> written = describe_into(bank, ["synthetic"], output, split="valid")
    >>> written.n_images, written.n_filters
    (40, 4)
    """
    found = describe_inputs(inputs, split)
    if on_start is not None:
        on_start(len(found.items))
    report, silent = _describe_and_write(
        bank,
        found.items,
        read=found.read,
        names=found.names,
        labels=found.labels,
        class_names=found.class_names,
        output=output,
        n_jobs=n_jobs,
        backend=backend,
        chunk_size=chunk_size,
        on_error=on_error,
        progress=progress,
        angles=angles,
    )
    return DescribedFile(
        path=output,
        n_images=int(report.ok.sum()),
        n_filters=bank.n_values,
        silent=silent,
        resumed=report.resumed,
        skipped=len(report.failed),
        skipped_list=_skipped_list(output) if report.failed else None,
    )
