"""Training a hashing network on labelled descriptors, selecting on validation mAP."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

import numpy as np
import torch

from hashing.loop import TrainingHistory, codes_map, deterministic, train_epochs
from hashing.losses import CSQLoss, DSHLoss, TripletLoss, hash_centres
from hashing.model import HashingModel
from hashing.network import HashingNetwork, NetworkConfig, Normalisation

__all__ = [
    "RECIPES",
    "TrainingConfig",
    "TrainingHistory",
    "codes_map",
    "stratified_split",
    "torch_threads",
    "train_hashing",
]


@dataclass(frozen=True)
class TrainingConfig:
    """Every choice of hashing training (defaults: the recipe chosen on validation splits).

    The defaults (Adam 1e-3, L2 then per-feature standardisation, DSH with margin 2k and
    alpha 1e-5, plus an auxiliary classification loss of weight 20, batch 48, StepLR(10, 0.95),
    at most 300 epochs, stopping 60 after the best validation mAP@100) were chosen on the
    validation splits of the authors' descriptors and of the FIRST run; see
    ``benchmarks/bench_hashing.py``. The papers' notebook recipe is ``optimizer="rmsprop",
    lr=0.01, normalisation="l2", class_weight=0, epochs=2000``.

    ``class_weight`` > 0 adds an auxiliary classification loss during training: a linear
    softmax classifier on the real codes, its cross-entropy weighted by ``class_weight`` (the
    classifier is discarded afterwards; the codes keep what it taught them).

    ``loss="csq"`` pulls every code to a hash centre of its class (central similarity
    quantisation, :func:`hashing.losses.csq_loss`; ``quantisation`` is its lambda; centres from
    :func:`hashing.losses.hash_centres` with ``seed``).

    ``refit=True``: once the validation split has chosen the number of epochs, a new network
    is trained for that many epochs on training and validation descriptors together, and
    the last epoch is kept (the usual "choose on validation, then learn from all" protocol).
    """

    bits: int = 36
    hidden: tuple[int, ...] = (300, 200)
    dropout: float = 0.0
    normalisation: Normalisation = "l2+standard"
    loss: Literal["dsh", "triplet", "csq"] = "dsh"
    margin: float | None = None
    alpha: float = 1e-5
    quantisation: float = 1e-4
    optimizer: Literal["rmsprop", "adam"] = "adam"
    lr: float = 1e-3
    batch_size: int = 48
    epochs: int = 300
    step_size: int = 10
    gamma: float = 0.95
    l1: float = 1e-8
    l2: float = 1e-8
    class_weight: float = 20.0
    patience: int = 60
    map_k: int = 100
    threshold: Literal["sign", "sweep"] = "sign"
    refit: bool = False
    seed: int = 0
    device: str = "cpu"
    num_threads: int = 1

    def __post_init__(self) -> None:
        if self.bits <= 0:
            raise ValueError(f"bits must be a positive integer, got {self.bits}")
        if self.epochs < 1 or self.batch_size < 2:
            raise ValueError("epochs must be >= 1 and batch_size >= 2")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        for name, allowed in (
            ("loss", ("dsh", "triplet", "csq")),
            ("optimizer", ("rmsprop", "adam")),
            ("threshold", ("sign", "sweep")),
            ("normalisation", get_args(Normalisation)),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if self.refit and self.threshold == "sweep":
            raise ValueError(
                "refit trains on the validation split, which then cannot choose the threshold; "
                "use threshold='sign' with refit"
            )
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))

    @property
    def effective_margin(self) -> float:
        """The margin used: ``margin`` or ``2 * bits`` (DSH) / ``bits / 2`` (triplet)."""
        if self.margin is not None:
            return float(self.margin)
        return 2.0 * self.bits if self.loss == "dsh" else self.bits / 2.0

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict."""
        spec = asdict(self)
        spec["hidden"] = list(self.hidden)
        return spec

    def summary(self) -> str:
        """Return a one-line description of the recipe (loss, optimiser, selection).

        Examples
        --------
        >>> RECIPES["papers"].summary()
        'DSH, rmsprop lr 0.01, batch 48, l2 input, epoch chosen on valid'
        """
        parts = [self.loss.upper()]
        if self.class_weight > 0:
            parts[0] += f" + class loss (weight {self.class_weight:g})"
        parts.append(f"{self.optimizer} lr {self.lr:g}, batch {self.batch_size}")
        parts.append(f"{self.normalisation} input")
        if self.hidden != (300, 200):
            parts.append("hidden " + "-".join(str(h) for h in self.hidden))
        parts.append(
            "epoch count chosen on valid, then retrained on train + valid"
            if self.refit
            else "epoch chosen on valid"
        )
        return ", ".join(parts)


#: Named training recipes. ``"papers"``: the radio papers' notebook (DSH, RMSprop 0.01, batch
#: 48, L2 input, no class loss); ``"dsh"``: DSH with an auxiliary class loss, Adam 1e-3,
#: L2 + standardised input (the library default until hash centres measured better);
#: ``"csq"``: class hash centres, the epoch count chosen on valid, then retrained on train +
#: valid. Numbers: ``benchmarks/bench_hashing.py``.
RECIPES: dict[str, TrainingConfig] = {}


RECIPES.update(
    {
        "papers": TrainingConfig(
            optimizer="rmsprop", lr=0.01, batch_size=48, normalisation="l2", class_weight=0.0
        ),
        "dsh": TrainingConfig(),
        "csq": TrainingConfig(loss="csq", class_weight=0.0, refit=True),
    }
)


def stratified_split(
    labels: np.ndarray, fraction: float, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Return (kept, held-out) index arrays holding out ``fraction`` of every class.

    Examples
    --------
    >>> kept, held = stratified_split(np.repeat([0, 1], 10), 0.2, seed=0)
    >>> len(kept), len(held), sorted(np.repeat([0, 1], 10)[held].tolist())
    (16, 4, [0, 0, 1, 1])
    """
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction}")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    held_mask = np.zeros(labels.size, dtype=bool)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        count = min(members.size - 1, max(1, round(fraction * members.size)))
        held_mask[rng.choice(members, size=max(count, 0), replace=False)] = True
    return np.flatnonzero(~held_mask), np.flatnonzero(held_mask)


@contextlib.contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the block with ``count`` torch CPU threads and restore the previous count after.

    Examples
    --------
    >>> before = torch.get_num_threads()
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(max(1, int(count)))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _criterion(config: TrainingConfig, n_classes: int) -> torch.nn.Module:
    """Return the hashing loss module that ``config`` names."""
    if config.loss == "dsh":
        return DSHLoss(config.effective_margin, config.alpha)
    if config.loss == "triplet":
        return TripletLoss(config.effective_margin)
    centres = hash_centres(n_classes, config.bits, seed=config.seed)
    return CSQLoss(centres, config.quantisation)


def _l1_penalty(network: torch.nn.Module) -> torch.Tensor:
    return sum(p.abs().sum() for name, p in network.named_parameters() if "weight" in name)


def _fit(
    train_x: np.ndarray,
    train_y: np.ndarray,
    n_classes: int,
    config: TrainingConfig,
    epochs: int,
    bank_sha256: str,
    *,
    history: TrainingHistory | None = None,
    evaluate: Callable[[HashingModel], float] | None = None,
    progress: Callable[[dict[str, float]], None] | None = None,
) -> HashingModel:
    """Train a new network for at most ``epochs`` epochs and return it as a model.

    With ``evaluate``, every epoch is scored, the best epoch's network is kept and training
    stops ``config.patience`` epochs after it; without, the last epoch's network is kept.
    """
    device = torch.device(config.device)
    network = HashingNetwork(
        NetworkConfig(
            input_dim=train_x.shape[1],
            bits=config.bits,
            hidden=config.hidden,
            dropout=config.dropout,
            normalisation=config.normalisation,
        )
    ).to(device)
    train_tensor = torch.from_numpy(train_x).to(device)
    label_tensor = torch.from_numpy(train_y).to(device)
    network.fit_normalisation(train_tensor)
    criterion = _criterion(config, n_classes).to(device)
    classifier = (
        torch.nn.Linear(config.bits, n_classes).to(device) if config.class_weight > 0 else None
    )
    parameters = list(network.parameters())
    if classifier is not None:
        parameters += list(classifier.parameters())
    optimizer_class = torch.optim.RMSprop if config.optimizer == "rmsprop" else torch.optim.Adam
    optimizer = optimizer_class(parameters, lr=config.lr)
    schedule = torch.optim.lr_scheduler.StepLR(optimizer, config.step_size, config.gamma)
    generator = torch.Generator().manual_seed(config.seed)
    model = HashingModel(network, 0.0, bank_sha256)

    def batch_loss(batch: torch.Tensor) -> torch.Tensor:
        outputs = network(train_tensor[batch])
        loss = criterion(outputs, label_tensor[batch])
        if classifier is not None:
            loss = loss + config.class_weight * torch.nn.functional.cross_entropy(
                classifier(outputs), label_tensor[batch]
            )
        if config.l1:
            loss = loss + config.l1 * _l1_penalty(network)
        if config.l2:
            loss = loss + config.l2 * sum(
                p.pow(2).sum() for n, p in network.named_parameters() if "weight" in n
            )
        return loss

    train_epochs(
        network,
        epochs=epochs,
        batch_size=config.batch_size,
        epoch_order=lambda: torch.randperm(len(train_x), generator=generator).to(device),
        batch_loss=batch_loss,
        optimizer_for_epoch=lambda epoch: optimizer,
        end_of_epoch=lambda epoch: schedule.step(),
        evaluate=None if evaluate is None else lambda: evaluate(model),
        history=history,
        patience=config.patience,
        progress=progress,
    )
    return model


def train_hashing(
    train_descriptors: np.ndarray,
    train_labels: np.ndarray,
    valid_descriptors: np.ndarray,
    valid_labels: np.ndarray,
    *,
    config: TrainingConfig | None = None,
    bank_sha256: str = "",
    progress: Callable[[dict[str, float]], None] | None = None,
    database: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[HashingModel, TrainingHistory]:
    """Train a hashing network and return the model selected on validation mAP@k.

    Validation mAP@k is that of the validation descriptors as queries against the training
    descriptors as database (the papers' protocol). The network of the best epoch is kept;
    training stops after ``patience`` epochs without improvement. With
    ``threshold="sweep"`` the binarisation threshold is then chosen from -1..1 in 0.1 steps
    on the same validation mAP.

    Parameters
    ----------
    train_descriptors, valid_descriptors : float arrays (n, d)
    train_labels, valid_labels : int arrays (n,)
    config : TrainingConfig
    bank_sha256 : str
        Recorded in the model.
    progress : callable, optional
        Called after every epoch with ``{"epoch", "loss", "valid_map", "best"}``.
    database : (descriptors, labels), optional
        The database of the validation mAP (default: the training set). Give the real
        archive when the training set holds augmented copies, so that the epoch is chosen
        under the protocol it is scored on.

    Returns
    -------
    (HashingModel, TrainingHistory)
    """
    config = TrainingConfig() if config is None else config
    train_x = np.asarray(train_descriptors, dtype=np.float32)
    valid_x = np.asarray(valid_descriptors, dtype=np.float32)
    train_y = np.asarray(train_labels, dtype=np.int64)
    valid_y = np.asarray(valid_labels, dtype=np.int64)
    for name, values in (("training", train_x), ("validation", valid_x)):
        if values.ndim != 2 or not np.all(np.isfinite(values)):
            raise ValueError(f"{name} descriptors must be a finite 2-D array")
    database_x, database_y = (
        (train_x, train_y)
        if database is None
        else (np.asarray(database[0], np.float32), np.asarray(database[1], np.int64))
    )
    if train_x.shape[1] != valid_x.shape[1]:
        raise ValueError(
            f"training descriptors have {train_x.shape[1]} values, validation {valid_x.shape[1]}"
        )
    history = TrainingHistory()
    start_time = time.perf_counter()
    n_classes = int(max(train_y.max(), valid_y.max())) + 1
    # the network is small: one thread is faster than several fighting over the cores
    with deterministic(config.seed, config.num_threads):

        def evaluate(model: HashingModel) -> float:
            return codes_map(
                model.encode(valid_x), valid_y, model.encode(database_x), database_y, config.map_k
            )

        model = _fit(
            train_x,
            train_y,
            n_classes,
            config,
            config.epochs,
            bank_sha256,
            history=history,
            evaluate=evaluate,
            progress=progress,
        )
        if config.refit:
            # the epoch count is chosen; now learn from the validation galaxies too
            model = _fit(
                np.concatenate([train_x, valid_x]),
                np.concatenate([train_y, valid_y]),
                n_classes,
                config,
                max(history.best_epoch, 1),
                bank_sha256,
            )
        if config.threshold == "sweep":
            valid_real, database_real = model.real_codes(valid_x), model.real_codes(database_x)
            for threshold in np.round(np.arange(-1.0, 1.0001, 0.1), 1):
                history.threshold_sweep[float(threshold)] = codes_map(
                    valid_real >= threshold,
                    valid_y,
                    database_real >= threshold,
                    database_y,
                    config.map_k,
                )
            model.threshold = max(history.threshold_sweep, key=history.threshold_sweep.get)
            history.best_valid_map = history.threshold_sweep[model.threshold]
    network = model.network
    history.seconds = time.perf_counter() - start_time
    model.metadata = {
        "training": config.to_dict(),
        "best_epoch": history.best_epoch,
        "valid_map_at_k": history.best_valid_map,
        "train_seconds": history.seconds,
    }
    network.eval()
    return model, history
