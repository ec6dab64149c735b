"""The training loop every hashing network shares (the MLP and the CNNs), and its record.

:func:`train_epochs` runs epochs of shuffled mini-batches: the model-specific parts (how an
epoch is ordered, the loss of a batch, the optimiser of an epoch, what happens after an epoch)
come in as functions. With an ``evaluate`` function every epoch is scored on validation data,
the best epoch's weights are kept, and training stops ``patience`` epochs after the best one;
:class:`TrainingHistory` records it. :func:`deterministic` seeds torch locally around it.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from retrieval.metrics import average_precision_at_k, distance_matrix, relevance

__all__ = ["TrainingHistory", "codes_map", "deterministic", "train_epochs"]


@dataclass
class TrainingHistory:
    """Per-epoch training loss and validation mAP@k, and what was selected."""

    epochs: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    valid_map: list[float] = field(default_factory=list)
    best_epoch: int = 0
    best_valid_map: float = 0.0
    threshold_sweep: dict[float, float] = field(default_factory=dict)
    seconds: float = 0.0

    def record(self, epoch: int, losses: list[float], valid_map: float) -> bool:
        """Append an epoch's mean loss and validation mAP; return whether it is the best."""
        self.epochs.append(epoch)
        self.train_loss.append(float(np.mean(losses)) if losses else float("nan"))
        self.valid_map.append(valid_map)
        if valid_map > self.best_valid_map:
            self.best_valid_map, self.best_epoch = valid_map, epoch
            return True
        return False

    @property
    def epochs_since_best(self) -> int:
        """Epochs run after the best one."""
        return self.epochs[-1] - self.best_epoch if self.epochs else 0

    def last(self) -> dict[str, float]:
        """The latest epoch as ``{"epoch", "loss", "valid_map", "best"}`` (for progress)."""
        return {
            "epoch": self.epochs[-1],
            "loss": self.train_loss[-1],
            "valid_map": self.valid_map[-1],
            "best": self.best_valid_map,
        }

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict."""
        spec = asdict(self)
        spec["threshold_sweep"] = {str(k): v for k, v in self.threshold_sweep.items()}
        return spec


def codes_map(
    query_codes: np.ndarray,
    query_labels: np.ndarray,
    database_codes: np.ndarray,
    database_labels: np.ndarray,
    k: int = 100,
    seed: int = 0,
) -> float:
    """Return mAP@k (ties in seeded random order) of bool codes.

    Examples
    --------
    >>> codes = np.array([[0, 0], [0, 1], [1, 1]], dtype=bool)
    >>> codes_map(codes[:1], np.array([0]), codes, np.array([0, 0, 1]), k=2)
    1.0
    """
    distances = distance_matrix(query_codes, database_codes)
    relevant = relevance(query_labels, database_labels)
    return float(average_precision_at_k(distances, relevant, k, ties="random", seed=seed).mean())


@contextlib.contextmanager
def deterministic(seed: int, num_threads: int | None = None) -> Iterator[None]:
    """Run the block with torch seeded by ``seed``, deterministic kernels and ``num_threads``
    CPU threads; restore the global random state, kernel choice and thread count after.

    Examples
    --------
    >>> with deterministic(0):
    ...     first = torch.rand(2)
    >>> with deterministic(0):
    ...     bool(torch.equal(first, torch.rand(2)))
    True
    """
    previous = torch.are_deterministic_algorithms_enabled()
    previous_threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True)
        if num_threads:
            torch.set_num_threads(num_threads)
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(previous)
            torch.set_num_threads(previous_threads)


def train_epochs(
    network: torch.nn.Module,
    *,
    epochs: int,
    batch_size: int,
    epoch_order: Callable[[], torch.Tensor],
    batch_loss: Callable[[torch.Tensor], torch.Tensor],
    optimizer_for_epoch: Callable[[int], torch.optim.Optimizer],
    end_of_epoch: Callable[[int], None] | None = None,
    evaluate: Callable[[], float] | None = None,
    history: TrainingHistory | None = None,
    patience: int | None = None,
    progress: Callable[[dict[str, float]], None] | None = None,
) -> TrainingHistory | None:
    """Train ``network`` for at most ``epochs`` epochs; return the history (or None).

    Every epoch: ``optimizer_for_epoch(epoch)`` gives the optimiser (it may freeze layers or
    start a new one), the network goes to train mode, ``epoch_order()`` gives the indices of
    the epoch, taken ``batch_size`` at a time (a last batch of one is skipped: pair losses
    need two), ``batch_loss(indices)`` is minimised one step per batch, then
    ``end_of_epoch(epoch)`` runs (learning-rate schedules, BatchNorm statistics).

    With ``evaluate`` (and ``history``), each epoch's score is recorded, the best epoch's
    weights are restored at the end and training stops ``patience`` epochs after the best
    (never, with ``patience=None``); without, the last epoch's weights stay. The network
    ends in eval mode.

    Examples
    --------
    A linear layer learns to output 0; the score (higher is better) rises every epoch:

    >>> network = torch.nn.Linear(2, 1)
    >>> inputs, targets = torch.ones(4, 2), torch.zeros(4, 1)
    >>> def loss_of(batch):
    ...     return (network(inputs[batch]) - targets[batch]).pow(2).mean()
    >>> history = train_epochs(
    ...     network, epochs=3, batch_size=2, epoch_order=lambda: torch.randperm(4),
    ...     batch_loss=loss_of,
    ...     optimizer_for_epoch=lambda epoch: torch.optim.SGD(network.parameters(), lr=0.1),
    ...     evaluate=lambda: 1 / (1 + loss_of(torch.arange(4)).item()), history=TrainingHistory())
    >>> history.epochs, history.best_epoch
    ([1, 2, 3], 3)
    """
    scoring = evaluate is not None and history is not None
    best_state = copy.deepcopy(network.state_dict())
    for epoch in range(1, epochs + 1):
        optimizer = optimizer_for_epoch(epoch)
        network.train()
        order = epoch_order()
        losses: list[float] = []
        for begin in range(0, len(order), batch_size):
            batch = order[begin : begin + batch_size]
            if len(batch) < 2:
                continue
            loss = batch_loss(batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
        if end_of_epoch is not None:
            end_of_epoch(epoch)
        if not scoring:
            continue
        if history.record(epoch, losses, evaluate()):
            best_state = copy.deepcopy(network.state_dict())
        if progress is not None:
            progress(history.last())
        if patience is not None and history.epochs_since_best >= patience:
            break
    if scoring:
        network.load_state_dict(best_state)
    network.eval()
    return history
