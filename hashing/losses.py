"""Hashing losses as functions and as small modules.

* DSH (Liu et al., CVPR 2016), as the radio-galaxy notebooks use it: over all pairs (i, j)
  of a mini-batch, with ``y_ij = 0`` for the same class and 1 otherwise and
  ``d_ij = ||u_i - u_j||^2``,
  ``0.5 (1 - y_ij) d_ij + 0.5 y_ij max(m - d_ij, 0) + alpha (q_i + q_j)``,
  ``q_i = sum_b | |u_ib| - 1 |``, averaged over the N x N pairs (so the regulariser is
  ``2 alpha mean_i q_i``). Default margin ``m = 2k`` for k bits.
* Triplet margin loss on the real outputs, with batch-hard or batch-all mining from labels.
* Central similarity (CSQ; Yuan et al., CVPR 2020): every class owns a hash centre, a +-1
  vector of k bits, the centres far apart in Hamming distance; each output is pulled to its
  class's centre by a bitwise binary cross-entropy on ``(u + 1) / 2``, plus
  ``lambda * mean((|u| - 1)^2)`` against outputs that stay near 0.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

__all__ = [
    "CSQLoss",
    "DSHLoss",
    "TripletLoss",
    "csq_loss",
    "dsh_loss",
    "hash_centres",
    "triplet_loss",
]


def dsh_loss(
    outputs: torch.Tensor, labels: torch.Tensor, *, margin: float, alpha: float = 1e-5
) -> torch.Tensor:
    """Return the DSH loss of real codes ``outputs`` ``(N, k)`` with class ``labels`` ``(N,)``.

    Examples
    --------
    Two samples of one class at squared distance 4, k = 1, margin 2, alpha 0:
    pairs (0, 1) and (1, 0) each give 0.5 * 4 = 2, pairs (i, i) give 0, mean = 4 / 4 = 1.

    >>> dsh_loss(torch.tensor([[1.0], [-1.0]]), torch.tensor([0, 0]), margin=2.0, alpha=0.0)
    tensor(1.)
    """
    squared = torch.cdist(outputs, outputs, p=2.0).pow(2)
    different = (labels[:, None] != labels[None, :]).to(outputs.dtype)
    pair_terms = 0.5 * (1 - different) * squared + 0.5 * different * torch.clamp(
        margin - squared, min=0
    )
    quantisation = (outputs.abs() - 1).abs().sum(dim=1)
    return pair_terms.mean() + alpha * 2 * quantisation.mean()


class DSHLoss(nn.Module):
    """Module form of :func:`dsh_loss`; ``margin=None`` means ``2 * bits``."""

    def __init__(self, margin: float | None = None, alpha: float = 1e-5) -> None:
        super().__init__()
        self.margin = margin
        self.alpha = alpha

    def forward(self, outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        margin = 2.0 * outputs.shape[1] if self.margin is None else self.margin
        return dsh_loss(outputs, labels, margin=margin, alpha=self.alpha)


def triplet_loss(
    outputs: torch.Tensor,
    labels: torch.Tensor,
    *,
    margin: float,
    mining: Literal["batch_hard", "batch_all"] = "batch_hard",
) -> torch.Tensor:
    """Return the triplet margin loss on squared distances, triplets mined in the batch.

    ``batch_hard``: for every anchor the farthest positive and nearest negative;
    ``batch_all``: the mean over all valid triplets with a positive loss.

    Examples
    --------
    >>> out = torch.tensor([[0.0], [0.0], [1.0]]); labels = torch.tensor([0, 0, 1])
    >>> float(triplet_loss(out, labels, margin=2.0))  # anchors 0, 1: 0 - 1 + 2; anchor 2: none
    1.0
    """
    squared = torch.cdist(outputs, outputs, p=2.0).pow(2)
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool, device=outputs.device)
    positive = same & ~eye
    negative = ~same
    if mining == "batch_hard":
        valid = positive.any(dim=1) & negative.any(dim=1)
        if not valid.any():
            return outputs.sum() * 0
        hardest_positive = (
            torch.where(positive, squared, torch.zeros_like(squared)).max(dim=1).values
        )
        hardest_negative = (
            torch.where(negative, squared, torch.full_like(squared, float("inf"))).min(dim=1).values
        )
        losses = torch.clamp(hardest_positive - hardest_negative + margin, min=0)
        return losses[valid].mean()
    triplets = squared[:, :, None] - squared[:, None, :] + margin
    mask = positive[:, :, None] & negative[:, None, :]
    losses = torch.clamp(triplets[mask], min=0)
    active = losses > 0
    return losses[active].mean() if active.any() else outputs.sum() * 0


class TripletLoss(nn.Module):
    """Module form of :func:`triplet_loss`."""

    def __init__(
        self, margin: float = 1.0, mining: Literal["batch_hard", "batch_all"] = "batch_hard"
    ) -> None:
        super().__init__()
        self.margin = margin
        self.mining = mining

    def forward(self, outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return triplet_loss(outputs, labels, margin=self.margin, mining=self.mining)


def hash_centres(n_classes: int, bits: int, *, seed: int = 0, tries: int = 2000) -> torch.Tensor:
    """Return ``(n_classes, bits)`` +-1 hash centres, far apart in Hamming distance.

    Rows of a Hadamard matrix where ``bits`` is a power of two and there are enough of them
    (pairwise distance exactly ``bits / 2``); otherwise the seeded random draw, out of
    ``tries``, whose smallest pairwise distance is largest (as CSQ does for other lengths).

    Examples
    --------
    >>> centres = hash_centres(4, 8)
    >>> centres.shape, int((centres[0] != centres[1]).sum())
    (torch.Size([4, 8]), 4)
    """
    if n_classes < 1 or bits < 1:
        raise ValueError(f"need at least one class and one bit, got {n_classes}, {bits}")
    if bits & (bits - 1) == 0 and n_classes <= bits:
        hadamard = torch.ones(1, 1)
        while hadamard.shape[0] < bits:
            hadamard = torch.cat(
                [torch.cat([hadamard, hadamard], 1), torch.cat([hadamard, -hadamard], 1)], 0
            )
        return hadamard[:n_classes].clone()
    generator = torch.Generator().manual_seed(seed)
    best, best_distance = None, -1
    for _ in range(tries):
        candidate = torch.randint(0, 2, (n_classes, bits), generator=generator) * 2.0 - 1.0
        distances = torch.cdist(candidate, candidate, p=1.0) / 2
        distances.fill_diagonal_(float(bits))
        smallest = int(distances.min())
        if smallest > best_distance:
            best, best_distance = candidate, smallest
    return best


def csq_loss(
    outputs: torch.Tensor,
    labels: torch.Tensor,
    centres: torch.Tensor,
    *,
    quantisation: float = 1e-4,
) -> torch.Tensor:
    """Return the central similarity loss of real codes ``outputs`` ``(N, k)`` in (-1, 1).

    Examples
    --------
    An output on its centre costs nothing but the clamp of log(0):

    >>> centres = torch.tensor([[1.0, -1.0], [-1.0, 1.0]])
    >>> float(csq_loss(torch.tensor([[1.0, -1.0]]), torch.tensor([0]), centres)) < 1e-5
    True
    """
    targets = (centres[labels] + 1) / 2
    probabilities = ((outputs + 1) / 2).clamp(1e-6, 1 - 1e-6)
    central = nn.functional.binary_cross_entropy(probabilities, targets)
    return central + quantisation * (outputs.abs() - 1).pow(2).mean()


class CSQLoss(nn.Module):
    """Module form of :func:`csq_loss`, holding the hash centres as a buffer."""

    def __init__(self, centres: torch.Tensor, quantisation: float = 1e-4) -> None:
        super().__init__()
        self.register_buffer("centres", centres.clone())
        self.quantisation = quantisation

    def forward(self, outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return csq_loss(outputs, labels, self.centres, quantisation=self.quantisation)
