"""Describing images into a descriptor file, streamed chunk by chunk and resumable.

Click-free: ``cosfire-hash describe``, the pipeline and the benchmarks call it, and so can a
notebook.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cosfire import atomic_write
from cosfire.bank import FilterBank
from cosfire.descriptor import DescribeReport

__all__ = ["describe_to_file"]


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

    def kept_blocks(blocks):
        start = 0
        for block in blocks:
            rows = [r for r in range(len(block)) if start + r not in failed_rows]
            yield block if len(rows) == len(block) else block[rows]
            start += len(block)

    write_descriptor_blocks(
        output,
        kept_blocks(report.blocks()),
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
        skipped = output.with_name(output.stem + ".skipped.tsv")
        with atomic_write(skipped, "w") as handle:
            handle.write("path\treason\n")
            for index, reason in report.failed:
                handle.write(f"{names[index]}\t{' '.join(reason.split())}\n")
    return report
