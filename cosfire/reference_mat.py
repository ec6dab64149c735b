"""Import the authors' MATLAB descriptor files into the project's descriptor format.

The radio-galaxy papers' MATLAB code saves a struct ``COSFIREdescriptor`` with fields
``training`` and ``testing``, each holding one matrix per class (``FRI``, ``FRII``, ``Bent``,
``Compact``): rows are images, columns filters. The columns are assumed to be class-major (the
first block of filters configured on the first class, and so on, equally many per class); the
file does not record it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cosfire.descriptor_file import DescriptorSet

__all__ = ["import_reference_mat"]


def import_reference_mat(path: str | os.PathLike[str]) -> dict[str, DescriptorSet]:
    """Return ``{"training": DescriptorSet, "testing": DescriptorSet}`` from a MATLAB file.

    Raises
    ------
    ValueError
        If the file is not a MATLAB file holding the ``COSFIREdescriptor`` struct.
    """
    from scipy.io import loadmat

    source = Path(path)
    if not source.is_file():
        raise FileNotFoundError(f"MATLAB file '{source}' does not exist")
    try:
        contents = loadmat(source)
    except Exception as error:  # scipy raises several types for foreign files
        raise ValueError(f"'{source}' is not a readable MATLAB .mat file ({error})") from error
    if "COSFIREdescriptor" not in contents:
        raise ValueError(
            f"'{source}' has no COSFIREdescriptor struct (found {sorted(k for k in contents if not k.startswith('__'))})"
        )
    struct = contents["COSFIREdescriptor"]
    result: dict[str, DescriptorSet] = {}
    for part in ("training", "testing"):
        if part not in (struct.dtype.names or ()):
            raise ValueError(f"'{source}': COSFIREdescriptor has no field {part!r}")
        classes = struct[part][0, 0]
        class_names = tuple(classes.dtype.names)
        blocks = [np.asarray(classes[name][0, 0], dtype=np.float64) for name in class_names]
        widths = {block.shape[1] for block in blocks}
        if len(widths) != 1:
            raise ValueError(f"'{source}': the classes of {part!r} have different widths {widths}")
        n_filters = widths.pop()
        per_class = n_filters // len(class_names)
        filter_class = (
            np.repeat(np.arange(len(class_names)), per_class)
            if per_class * len(class_names) == n_filters
            else np.full(n_filters, -1)
        )
        filter_index = (
            np.tile(np.arange(per_class), len(class_names))
            if per_class * len(class_names) == n_filters
            else np.arange(n_filters)
        )
        result[part] = DescriptorSet(
            descriptors=np.vstack(blocks).astype(np.float32),
            labels=np.concatenate([[i] * len(b) for i, b in enumerate(blocks)]).astype(np.int64),
            class_names=class_names,
            paths=tuple(
                f"{source.name}:{part}/{name}/{row}"
                for name, block in zip(class_names, blocks, strict=True)
                for row in range(len(block))
            ),
            filter_class=filter_class,
            filter_index=filter_index,
        )
    return result
