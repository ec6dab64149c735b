"""A trained hashing model: the network, its binarisation threshold and its provenance.

The file is one ``torch.save`` of plain types (a JSON string and a ``state_dict``), so it loads
with ``torch.load(weights_only=True)`` and never unpickles code. It carries a format version,
the network shape, the threshold and the SHA-256 of the filter bank whose descriptors it hashes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hashing.network import HashingNetwork, NetworkConfig
from retrieval import atomic_write

__all__ = ["MODEL_FORMAT", "MODEL_FORMAT_VERSION", "HashingModel", "load_model"]

MODEL_FORMAT_VERSION = 1
MODEL_FORMAT = "cosfire-hash hashing model"


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
        header = {
            "format": MODEL_FORMAT,
            "format_version": MODEL_FORMAT_VERSION,
            "network": self.config.to_dict(),
            "threshold": self.threshold,
            "bank_sha256": self.bank_sha256,
            "metadata": self.metadata,
        }
        payload = {
            "header": json.dumps(header, sort_keys=True),
            "state_dict": {k: v.detach().cpu() for k, v in self.network.state_dict().items()},
        }
        target = Path(path)
        with atomic_write(target, "wb") as handle:
            torch.save(payload, handle)
        return target


def load_model(path: str | os.PathLike[str], *, device: str = "cpu") -> HashingModel:
    """Read a model written by :meth:`HashingModel.save` (``weights_only=True``).

    Raises
    ------
    ValueError
        If the file is not a model, is damaged, or comes from a newer format version.
    """
    source = Path(path)
    if not source.is_file():
        raise FileNotFoundError(
            f"hashing model '{source}' does not exist; train one with `cosfire-hash train`"
        )
    try:
        payload = torch.load(source, map_location=device, weights_only=True)
        header = json.loads(payload["header"])
    except Exception as error:  # torch raises many types for foreign or damaged files
        raise ValueError(
            f"'{source}' is not a readable cosfire-hash model ({type(error).__name__}); "
            "train one with `cosfire-hash train`"
        ) from error
    if header.get("format") != MODEL_FORMAT:
        raise ValueError(f"'{source}' is not a cosfire-hash hashing model")
    if header.get("kind") == "cnn":
        try:
            from hashing.cnn import CNNHashingModel
        except ImportError as error:  # pragma: no cover - depends on the installed extras
            raise ValueError(
                f"'{source}' is a CNN model; install the extra: pip install 'cosfire-hash[cnn]'"
            ) from error
        return CNNHashingModel.from_payload(header, payload["state_dict"], device)  # type: ignore[return-value]
    version = int(header.get("format_version", 0))
    if version > MODEL_FORMAT_VERSION:
        raise ValueError(
            f"'{source}' is a model of format version {version}, newer than this cosfire-hash "
            f"reads ({MODEL_FORMAT_VERSION}); upgrade cosfire-hash"
        )
    network = HashingNetwork(NetworkConfig.from_dict(header["network"]))
    network.load_state_dict(payload["state_dict"])
    network.to(device)
    return HashingModel(
        network=network,
        threshold=float(header["threshold"]),
        bank_sha256=str(header.get("bank_sha256", "")),
        metadata=dict(header.get("metadata", {})),
    )
