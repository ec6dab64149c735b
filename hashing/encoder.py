"""What every hashing model offers: :class:`Encoder`, one interface for MLP and CNN models.

Code that indexes, searches or evaluates asks a model what it hashes (``inputs``) instead of
probing for methods: ``"descriptors"`` for :class:`hashing.model.HashingModel` (COSFIRE
descriptors, float32 ``(n, d)``), ``"images"`` for :class:`hashing.cnn.CNNHashingModel` (a
sequence of grey 2-D images).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

__all__ = ["Encoder", "EncoderInputs"]

EncoderInputs = Literal["descriptors", "images"]


@runtime_checkable
class Encoder(Protocol):
    """A trained hashing model: inputs in, binary codes out.

    Attributes
    ----------
    inputs : {"descriptors", "images"}
        What :meth:`encode` takes.
    bits : int
        Code length.
    threshold : float
        Real outputs at or above it become 1 bits.
    metadata : dict
        Training settings and results, JSON-able.

    Examples
    --------
    >>> from hashing.model import HashingModel
    >>> from hashing.network import HashingNetwork, NetworkConfig
    >>> model = HashingModel(HashingNetwork(NetworkConfig(input_dim=5, bits=3)))
    >>> isinstance(model, Encoder), model.inputs
    (True, 'descriptors')
    """

    metadata: dict[str, Any]

    @property
    def inputs(self) -> EncoderInputs: ...

    @property
    def bits(self) -> int: ...

    @property
    def threshold(self) -> float: ...

    def encode(self, inputs: Any) -> np.ndarray:
        """Return binary codes (bool, ``(n, bits)``) of ``n`` inputs."""
        ...

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the model file (:mod:`hashing.model_file`) and return its path."""
        ...
