"""The hashing network: descriptor -> input normalisation -> MLP -> k outputs in (-1, 1)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import torch
from torch import nn

__all__ = ["HashingNetwork", "NetworkConfig", "Normalisation"]

Normalisation = Literal["l2", "standard", "l2+standard", "none"]


@dataclass(frozen=True)
class NetworkConfig:
    """Shape of the hashing network.

    Parameters
    ----------
    input_dim : int
        Descriptor length (filters in the bank).
    bits : int
        Code length k (36 is the papers' best).
    hidden : tuple of int
        Hidden layer widths (the papers: 300, 200); each is Linear -> BatchNorm -> Tanh.
    dropout : float
        Dropout after every hidden layer (0 = none).
    normalisation : {"l2", "standard", "l2+standard", "none"}
        Input normalisation inside the model: L2 row normalisation (the papers), per-feature
        standardisation with statistics fitted on the training set, or both (L2 first).
    """

    input_dim: int
    bits: int
    hidden: tuple[int, ...] = (300, 200)
    dropout: float = 0.0
    normalisation: Normalisation = "l2"

    def __post_init__(self) -> None:
        if self.input_dim <= 0:
            raise ValueError(f"input_dim must be positive, got {self.input_dim}")
        if self.bits <= 0:
            raise ValueError(f"bits must be a positive integer, got {self.bits}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout}")
        if self.normalisation not in ("l2", "standard", "l2+standard", "none"):
            raise ValueError(f"unknown normalisation {self.normalisation!r}")
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict."""
        spec = asdict(self)
        spec["hidden"] = list(self.hidden)
        return spec

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> NetworkConfig:
        """Inverse of :meth:`to_dict`."""
        return cls(**{**spec, "hidden": tuple(spec.get("hidden", (300, 200)))})


class HashingNetwork(nn.Module):
    """MLP mapping descriptors ``(B, input_dim)`` to real codes ``(B, bits)`` in (-1, 1).

    The input normalisation is part of the model: its statistics are buffers, saved and loaded
    with the weights (set them with :meth:`fit_normalisation`).

    Examples
    --------
    >>> network = HashingNetwork(NetworkConfig(input_dim=10, bits=4))
    >>> network.eval()(torch.rand(3, 10)).shape
    torch.Size([3, 4])
    """

    def __init__(self, config: NetworkConfig) -> None:
        super().__init__()
        self.config = config
        self.register_buffer("feature_mean", torch.zeros(config.input_dim))
        self.register_buffer("feature_std", torch.ones(config.input_dim))
        layers: list[nn.Module] = []
        width = config.input_dim
        for hidden in config.hidden:
            layers += [nn.Linear(width, hidden), nn.BatchNorm1d(hidden), nn.Tanh()]
            if config.dropout > 0:
                layers.append(nn.Dropout(config.dropout))
            width = hidden
        layers += [nn.Linear(width, config.bits), nn.Tanh()]
        self.layers = nn.Sequential(*layers)

    def normalise(self, descriptors: torch.Tensor) -> torch.Tensor:
        """Apply the model's input normalisation to ``(B, input_dim)`` descriptors."""
        values = descriptors
        if self.config.normalisation in ("l2", "l2+standard"):
            values = nn.functional.normalize(values, p=2.0, dim=1)
        if self.config.normalisation in ("standard", "l2+standard"):
            values = (values - self.feature_mean) / self.feature_std
        return values

    @torch.no_grad()
    def fit_normalisation(self, descriptors: torch.Tensor) -> None:
        """Set the standardisation statistics from training descriptors."""
        values = descriptors
        if self.config.normalisation in ("l2", "l2+standard"):
            values = nn.functional.normalize(values, p=2.0, dim=1)
        self.feature_mean.copy_(values.mean(dim=0))
        self.feature_std.copy_(values.std(dim=0).clamp_min(1e-6))

    def forward(self, descriptors: torch.Tensor) -> torch.Tensor:
        """Return real-valued codes in (-1, 1), shape ``(B, bits)``."""
        return self.layers(self.normalise(descriptors))
