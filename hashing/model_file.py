"""The model file format: one module writes it and reads it back, the version check first.

A model file is one ``torch.save`` of plain types, ``{"header": JSON string, "state_dict":
tensors}``, so it loads with ``torch.load(weights_only=True)`` and never unpickles code. The
header holds ``format`` (:data:`MODEL_FORMAT`), ``format_version``, ``kind`` (``"mlp"``, the
descriptor hashing network, written without the key, as every file before CNNs existed; or
``"cnn"``) and the fields of that kind. :func:`read_model_file` checks the format and the version
before it looks at the kind, so a file from a newer release is refused with the same message
whatever model it holds; :func:`hashing.model.load_model` then builds the model of that kind.

This module imports no other module of :mod:`hashing`: the models import it, never the reverse.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from retrieval import atomic_write, check_format_version

__all__ = [
    "MODEL_FORMAT",
    "MODEL_FORMAT_VERSION",
    "MODEL_KINDS",
    "ModelFile",
    "read_model_file",
    "write_model_file",
]

MODEL_FORMAT_VERSION = 1
MODEL_FORMAT = "cosfire-hash hashing model"
#: what a file may hold: the MLP over COSFIRE descriptors, or a CNN over images
MODEL_KINDS = ("mlp", "cnn")


@dataclass(frozen=True)
class ModelFile:
    """The checked contents of a model file: its kind, its header and its tensors."""

    kind: str
    header: dict[str, Any]
    state_dict: dict[str, torch.Tensor]


def write_model_file(
    path: str | os.PathLike[str],
    *,
    kind: str,
    fields: dict[str, Any],
    state_dict: dict[str, torch.Tensor],
) -> Path:
    """Write a model file atomically and return its path.

    ``fields`` (JSON-able) join the format, the version and, for kinds other than ``"mlp"``,
    the kind in the header; tensors are saved on the CPU.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "m.pt"
    >>> _ = write_model_file(path, kind="mlp", fields={"threshold": 0.0}, state_dict={})
    >>> contents = read_model_file(path)
    >>> contents.kind, contents.header["threshold"]
    ('mlp', 0.0)
    """
    if kind not in MODEL_KINDS:
        raise ValueError(f"kind must be one of {MODEL_KINDS}, got {kind!r}")
    header = {"format": MODEL_FORMAT, "format_version": MODEL_FORMAT_VERSION, **fields}
    if kind != "mlp":  # MLP files have never carried the key: they stay byte for byte the same
        header["kind"] = kind
    payload = {
        "header": json.dumps(header, sort_keys=True),
        "state_dict": {name: value.detach().cpu() for name, value in state_dict.items()},
    }
    target = Path(path)
    with atomic_write(target, "wb") as handle:
        torch.save(payload, handle)
    return target


def read_model_file(path: str | os.PathLike[str], *, device: str = "cpu") -> ModelFile:
    """Return the contents of a model file after checking format, version and kind.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is not a model, is damaged, comes from a newer format version (checked
        before the kind, for every kind) or holds a kind this release does not know.
    """
    source = Path(path)
    if not source.is_file():
        raise FileNotFoundError(
            f"hashing model '{source}' does not exist; train one with `cosfire-hash train`"
        )
    try:
        payload = torch.load(source, map_location=device, weights_only=True)
        header = json.loads(payload["header"])
        state_dict = payload["state_dict"]
    except Exception as error:  # torch raises many types for foreign or damaged files
        raise ValueError(
            f"'{source}' is not a readable cosfire-hash model ({type(error).__name__}); "
            "train one with `cosfire-hash train`"
        ) from error
    if not isinstance(header, dict) or header.get("format") != MODEL_FORMAT:
        raise ValueError(f"'{source}' is not a cosfire-hash hashing model")
    version = int(header.get("format_version", 0))
    check_format_version(version, MODEL_FORMAT_VERSION, what="a model", source=f"'{source}'")
    kind = str(header.get("kind", "mlp"))
    if kind not in MODEL_KINDS:
        raise ValueError(
            f"'{source}' holds a model of kind {kind!r}, which this cosfire-hash does not know "
            f"(it reads {', '.join(MODEL_KINDS)}); upgrade cosfire-hash"
        )
    return ModelFile(kind=kind, header=header, state_dict=state_dict)
