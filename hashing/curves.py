"""Pictures of training: loss and validation mAP per epoch."""

from __future__ import annotations

import os
from pathlib import Path

from hashing.loop import TrainingHistory
from retrieval import atomic_write

__all__ = ["plot_training_curves"]


def plot_training_curves(
    history: TrainingHistory, path: str | os.PathLike[str], *, title: str = ""
) -> Path:
    """Write a PNG with the training loss and the validation mAP per epoch; return its path."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4), layout="constrained")  # outside pyplot: no global state
    loss_axis = figure.subplots()
    loss_axis.plot(history.epochs, history.train_loss, color="tab:blue", lw=1)
    loss_axis.set_xlabel("epoch")
    loss_axis.set_ylabel("training loss", color="tab:blue")
    map_axis = loss_axis.twinx()
    map_axis.plot(history.epochs, history.valid_map, color="tab:orange", lw=1)
    map_axis.axvline(history.best_epoch, color="grey", ls=":", lw=1)
    map_axis.set_ylabel("validation mAP", color="tab:orange")
    map_axis.set_ylim(0, 1)
    loss_axis.set_title(
        title or f"best validation mAP {history.best_valid_map:.3f} at epoch {history.best_epoch}"
    )
    target = Path(path)
    with atomic_write(target, "wb") as handle:
        figure.savefig(handle, format="png", dpi=100)
    return target
