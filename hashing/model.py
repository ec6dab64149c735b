"""A trained hashing model: the network, its binarisation threshold and its provenance.

It is saved as a model file of kind ``"mlp"`` (:mod:`hashing.model_file`, which owns the
format: a JSON header and a ``state_dict``, loaded with ``weights_only=True``): the network
shape, the threshold and the SHA-256 of the filter bank whose descriptors it hashes.
:func:`load_model` reads any model file, MLP or CNN.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from hashing.encoder import EncoderInputs
from hashing.model_file import (
    MODEL_FORMAT,
    MODEL_FORMAT_VERSION,
    ModelFile,
    read_model_file,
    write_model_file,
)
from hashing.network import HashingNetwork, NetworkConfig

if TYPE_CHECKING:  # only for the annotation of load_model; hashing.cnn never imports this module
    from hashing.cnn import CNNHashingModel

__all__ = ["MODEL_FORMAT", "MODEL_FORMAT_VERSION", "HashingModel", "load_model"]


@dataclass(eq=False)
class HashingModel:
    """A hashing network ready to encode descriptors.

    Attributes
    ----------
    network : HashingNetwork
    threshold : float
        Outputs at or above it become 1 bits (0.0 = sign).
    bank_sha256 : str
        SHA-256 of the filter bank the descriptors come from ("" if unknown).
    metadata : dict
        Training settings and results, JSON-able.

    Examples
    --------
    >>> model = HashingModel(HashingNetwork(NetworkConfig(input_dim=5, bits=3)))
    >>> model.encode(np.random.default_rng(0).random((2, 5), dtype=np.float32)).shape
    (2, 3)
    """

    network: HashingNetwork
    threshold: float = 0.0
    bank_sha256: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def inputs(self) -> EncoderInputs:
        """What :meth:`encode` takes: COSFIRE descriptors (:class:`hashing.encoder.Encoder`)."""
        return "descriptors"

    @property
    def config(self) -> NetworkConfig:
        """The network's shape."""
        return self.network.config

    @property
    def bits(self) -> int:
        """Code length."""
        return self.config.bits

    def check_descriptors(self, descriptors: np.ndarray) -> np.ndarray:
        """Return ``descriptors`` (float32) after checking their shape and values.

        Arrays (memory maps too) are checked block by block, never copied whole.
        """
        values = descriptors if isinstance(descriptors, np.ndarray) else np.asarray(descriptors)
        if values.ndim != 2 or values.shape[1] != self.config.input_dim:
            raise ValueError(
                f"this model hashes descriptors of {self.config.input_dim} values, got shape "
                f"{values.shape}; describe the images with the filter bank the model was "
                "trained on"
            )
        return values

    def _batches(self, values: np.ndarray, batch_size: int):
        for start in range(0, len(values), batch_size):
            block = np.asarray(values[start : start + batch_size], dtype=np.float32)
            if not np.all(np.isfinite(block)):
                raise ValueError("descriptors contain NaN or inf; recompute or drop those rows")
            yield block

    @torch.no_grad()
    def real_codes(self, descriptors: np.ndarray, *, batch_size: int = 4096) -> np.ndarray:
        """Return the network's real outputs in (-1, 1) (float32, (n, bits)), batch by batch."""
        values = self.check_descriptors(descriptors)
        self.network.eval()
        device = next(self.network.parameters()).device
        outputs = [
            self.network(torch.from_numpy(block).to(device)).cpu()
            for block in self._batches(values, batch_size)
        ]
        if not outputs:
            return np.zeros((0, self.bits), dtype=np.float32)
        return torch.cat(outputs).numpy()

    def encode(self, descriptors: np.ndarray) -> np.ndarray:
        """Return binary codes (bool, (n, bits)): real outputs >= threshold."""
        return self.real_codes(descriptors) >= self.threshold

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the model to ``path`` atomically and return the path."""
        fields = {
            "network": self.config.to_dict(),
            "threshold": self.threshold,
            "bank_sha256": self.bank_sha256,
            "metadata": self.metadata,
        }
        return write_model_file(
            path, kind="mlp", fields=fields, state_dict=self.network.state_dict()
        )

    @classmethod
    def from_model_file(cls, contents: ModelFile, device: str = "cpu") -> HashingModel:
        """Return the model held by checked model file contents of kind ``"mlp"``."""
        header = contents.header
        network = HashingNetwork(NetworkConfig.from_dict(header["network"]))
        network.load_state_dict(contents.state_dict)
        network.to(device)
        return cls(
            network=network,
            threshold=float(header["threshold"]),
            bank_sha256=str(header.get("bank_sha256", "")),
            metadata=dict(header.get("metadata", {})),
        )


def load_model(
    path: str | os.PathLike[str], *, device: str = "cpu"
) -> HashingModel | CNNHashingModel:
    """Return the model in a file written by ``save`` of an MLP or a CNN model.

    The file is read with ``weights_only=True``; its format version is checked before its
    kind is looked at (:func:`hashing.model_file.read_model_file`). Both kinds are
    :class:`hashing.encoder.Encoder` objects: ``model.inputs`` says whether they hash
    descriptors or images.

    Raises
    ------
    ValueError
        If the file is not a model, is damaged, or comes from a newer format version.

    Examples
    --------
    >>> import tempfile
    >>> model = HashingModel(HashingNetwork(NetworkConfig(input_dim=5, bits=3)))
    >>> loaded = load_model(model.save(Path(tempfile.mkdtemp()) / "m.pt"))
    >>> loaded.bits, loaded.inputs
    (3, 'descriptors')
    """
    contents = read_model_file(path, device=device)
    if contents.kind == "cnn":
        try:
            from hashing.cnn import CNNHashingModel
        except ImportError as error:  # pragma: no cover - depends on the installed extras
            raise ValueError(
                f"'{path}' is a CNN model; install the extra: pip install 'cosfire-hash[cnn]'"
            ) from error
        return CNNHashingModel.from_model_file(contents, device)
    return HashingModel.from_model_file(contents, device)
