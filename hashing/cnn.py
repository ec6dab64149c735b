"""CNN hashing baselines: DenseNet161 + triplet loss (Ndung'u et al. 2023) and HRNet-W18 +
DSH (the HHNet idea), for comparison with COSFIRE codes on the same data and metric.

Needs the optional extra ``pip install cosfire-hash[cnn]`` (torchvision, timm); importing
:mod:`hashing` does not. Pretrained ImageNet weights come from a local file (``weights=PATH``,
a ``state_dict`` loaded with ``weights_only=True``) or, with ``pretrained=True`` on a machine that
is online, from the libraries' own download; ``weights=None`` builds the network untrained.

Images are grey cutouts: centre-cropped like the COSFIRE bank (150 px), resized to the input
size, replicated to three channels and normalised with the ImageNet statistics. Training
augments with random quarter turns, flips and small rotations; the backbone is frozen for the
first epoch(s), then fine-tuned.
"""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from hashing.losses import DSHLoss, TripletLoss
from hashing.training import TrainingHistory, _deterministic, codes_map
from retrieval._atomic import atomic_write

__all__ = [
    "BACKBONES",
    "CNNConfig",
    "CNNHashingModel",
    "CNNHashingNetwork",
    "build_backbone",
    "count_multiply_adds",
    "prepare_images",
    "train_cnn_hashing",
]

BACKBONES = ("densenet161", "hrnet_w18")
_IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
_IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


@dataclass(frozen=True)
class CNNConfig:
    """Every choice of a CNN hashing baseline (defaults: the URSI 2023 DenseNet161 setting)."""

    backbone: Literal["densenet161", "hrnet_w18"] = "densenet161"
    bits: int = 8
    loss: Literal["triplet", "dsh"] = "triplet"
    #: triplets of the triplet loss: every valid triplet of a batch ("batch_all"), or the hardest
    #: positive and negative per anchor ("batch_hard", which collapses all codes to one when a
    #: backbone trains from scratch)
    mining: Literal["batch_all", "batch_hard"] = "batch_all"
    margin: float | None = None
    alpha: float = 1e-5
    input_px: int = 224
    crop_px: int | None = 150
    lr: float = 1e-4
    batch_size: int = 32
    epochs: int = 10
    frozen_epochs: int = 1
    patience: int = 5
    augment: bool = True
    weights: str | None = None
    pretrained: bool = False
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.backbone not in BACKBONES:
            raise ValueError(
                f"backbone must be one of {', '.join(BACKBONES)}, got {self.backbone!r}"
            )
        if self.bits <= 0:
            raise ValueError(f"bits must be a positive integer, got {self.bits}")
        if self.mining not in ("batch_all", "batch_hard"):
            raise ValueError(f"mining must be batch_all or batch_hard, got {self.mining!r}")
        if self.input_px < 32:
            raise ValueError(f"input_px must be >= 32, got {self.input_px}")
        if self.backbone == "hrnet_w18" and self.input_px % 32:
            # HRNet fuses branches at 1/4 .. 1/32 of the input: other sizes do not line up
            raise ValueError(
                f"hrnet_w18 needs input_px divisible by 32 (e.g. 64, 224), got {self.input_px}"
            )

    @property
    def activation(self) -> str:
        """Sigmoid codes in (0, 1) for the triplet loss (URSI 2023), tanh in (-1, 1) for DSH."""
        return "sigmoid" if self.loss == "triplet" else "tanh"

    @property
    def threshold(self) -> float:
        """Binarisation threshold of the outputs: 0.5 for sigmoid, 0 for tanh."""
        return 0.5 if self.activation == "sigmoid" else 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_backbone(
    name: str, *, weights: str | os.PathLike[str] | None = None, pretrained: bool = False
) -> tuple[nn.Module, int]:
    """Return (feature extractor giving ``(B, D)`` features, D) for a named backbone."""
    if name == "densenet161":
        import torchvision

        model = torchvision.models.densenet161(
            weights=torchvision.models.DenseNet161_Weights.IMAGENET1K_V1 if pretrained else None
        )
        if weights is not None:
            state = torch.load(weights, map_location="cpu", weights_only=True)
            model.load_state_dict(
                state.get("state_dict", state) if isinstance(state, dict) else state
            )
        dimension = model.classifier.in_features
        model.classifier = nn.Identity()
        return model, dimension
    if name == "hrnet_w18":
        import timm

        model = timm.create_model("hrnet_w18", pretrained=pretrained, num_classes=0)
        if weights is not None:
            state = torch.load(weights, map_location="cpu", weights_only=True)
            missing, unexpected = model.load_state_dict(state, strict=False)
            unexpected = [k for k in unexpected if not k.startswith("classifier")]
            if unexpected:
                raise ValueError(
                    f"'{weights}' does not fit hrnet_w18 (unexpected keys {unexpected[:3]})"
                )
        return model, model.num_features
    raise ValueError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}")


class CNNHashingNetwork(nn.Module):
    """Backbone features -> Linear(bits) -> sigmoid or tanh; input ``(B, 3, H, W)``."""

    def __init__(self, config: CNNConfig) -> None:
        super().__init__()
        self.config = config
        self.backbone, dimension = build_backbone(
            config.backbone, weights=config.weights, pretrained=config.pretrained
        )
        self.head = nn.Linear(dimension, config.bits)
        self.activation = nn.Sigmoid() if config.activation == "sigmoid" else nn.Tanh()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.activation(self.head(self.backbone(images)))


def prepare_images(
    images: Sequence[np.ndarray], *, crop_px: int | None, input_px: int
) -> torch.Tensor:
    """Return grey images as a normalised ``(B, 3, input_px, input_px)`` float tensor.

    Examples
    --------
    >>> prepare_images([np.ones((300, 300), np.float32)], crop_px=150, input_px=64).shape
    torch.Size([1, 3, 64, 64])
    """
    import cv2

    prepared = []
    for image in images:
        values = np.asarray(image, dtype=np.float32)
        if crop_px:
            top = max(0, (values.shape[0] - crop_px) // 2)
            left = max(0, (values.shape[1] - crop_px) // 2)
            values = values[top : top + crop_px, left : left + crop_px]
        peak = float(values.max())
        values = values / peak if peak > 0 else values
        prepared.append(cv2.resize(values, (input_px, input_px), interpolation=cv2.INTER_AREA))
    batch = torch.from_numpy(np.stack(prepared))[:, None].repeat(1, 3, 1, 1)
    return (batch - _IMAGENET_MEAN) / _IMAGENET_STD


def _augment(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random quarter turns and flips per image (exact, no interpolation)."""
    out = []
    for image in batch:
        turns = int(torch.randint(0, 4, (1,), generator=generator))
        image = torch.rot90(image, turns, dims=(1, 2))
        if bool(torch.randint(0, 2, (1,), generator=generator)):
            image = torch.flip(image, dims=(2,))
        out.append(image)
    return torch.stack(out)


@dataclass(eq=False)
class CNNHashingModel:
    """A trained CNN hashing network: images in, binary codes out."""

    network: CNNHashingNetwork
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def config(self) -> CNNConfig:
        return self.network.config

    @property
    def bits(self) -> int:
        return self.config.bits

    @property
    def threshold(self) -> float:
        return self.config.threshold

    @torch.no_grad()
    def real_codes_of_images(
        self, images: Sequence[np.ndarray], *, batch_size: int = 32
    ) -> np.ndarray:
        """Return the network outputs for grey images (float32, (n, bits))."""
        self.network.eval()
        device = next(self.network.parameters()).device
        outputs = []
        for start in range(0, len(images), batch_size):
            batch = prepare_images(images[start : start + batch_size], crop_px=self.config.crop_px,
                                   input_px=self.config.input_px)  # fmt: skip
            outputs.append(self.network(batch.to(device)).cpu())
        return torch.cat(outputs).numpy() if outputs else np.zeros((0, self.bits), np.float32)

    def encode_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Return binary codes (bool, (n, bits)) of grey images."""
        return self.real_codes_of_images(images) >= self.threshold

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the model (header JSON + state_dict; loads with ``weights_only=True``)."""
        from hashing.model import MODEL_FORMAT, MODEL_FORMAT_VERSION

        header = {"format": MODEL_FORMAT, "format_version": MODEL_FORMAT_VERSION, "kind": "cnn",
                  "cnn": self.config.to_dict(), "metadata": self.metadata}  # fmt: skip
        payload = {"header": json.dumps(header, sort_keys=True),
                   "state_dict": {k: v.detach().cpu() for k, v in self.network.state_dict().items()}}  # fmt: skip
        target = Path(path)
        with atomic_write(target, "wb") as handle:
            torch.save(payload, handle)
        return target

    @classmethod
    def from_payload(cls, header: dict[str, Any], state_dict: dict, device: str) -> CNNHashingModel:
        spec = {**header["cnn"], "weights": None, "pretrained": False}
        network = CNNHashingNetwork(CNNConfig(**spec))
        network.load_state_dict(state_dict)
        return cls(network.to(device), dict(header.get("metadata", {})))


@torch.no_grad()
def _recalibrate_batch_norm(
    network: nn.Module, images: torch.Tensor, batch_size: int, device: torch.device
) -> None:
    """Set BatchNorm running statistics to the plain average over the training images.

    With short schedules (a few hundred steps) the default exponential averages still carry
    their initial values, and the network in eval mode computes something else than it was
    trained to; one pass in train mode with cumulative averaging fixes that.
    """
    norms = [m for m in network.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    saved = [m.momentum for m in norms]
    for module in norms:
        module.reset_running_stats()
        module.momentum = None  # cumulative average
    network.train()
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        if len(batch) > 1:
            network(batch.to(device))
    for module, momentum in zip(norms, saved, strict=True):
        module.momentum = momentum
    network.eval()


def train_cnn_hashing(
    train_images: Sequence[np.ndarray],
    train_labels: np.ndarray,
    valid_images: Sequence[np.ndarray],
    valid_labels: np.ndarray,
    *,
    config: CNNConfig | None = None,
    progress: Callable[[dict[str, float]], None] | None = None,
) -> tuple[CNNHashingModel, TrainingHistory]:
    """Fine-tune a CNN hashing network; keep the epoch with the best validation mAP@100."""
    config = CNNConfig() if config is None else config
    train_y = torch.as_tensor(np.asarray(train_labels, dtype=np.int64))
    valid_y = np.asarray(valid_labels, dtype=np.int64)
    device = torch.device(config.device)
    history = TrainingHistory()
    start_time = time.perf_counter()
    train_x = prepare_images(train_images, crop_px=config.crop_px, input_px=config.input_px)
    with _deterministic(config.seed):
        network = CNNHashingNetwork(config).to(device)
        margin = config.margin if config.margin is not None else (
            config.bits / 4 if config.loss == "triplet" else 2.0 * config.bits)  # fmt: skip
        criterion = (
            TripletLoss(margin, mining=config.mining)
            if config.loss == "triplet"
            else DSHLoss(margin, config.alpha)
        )
        generator = torch.Generator().manual_seed(config.seed)
        model = CNNHashingModel(network)
        best_state = copy.deepcopy(network.state_dict())
        for epoch in range(1, config.epochs + 1):
            frozen = epoch <= config.frozen_epochs
            for parameter in network.backbone.parameters():
                parameter.requires_grad = not frozen
            trainable = [p for p in network.parameters() if p.requires_grad]
            if epoch == 1 or epoch == config.frozen_epochs + 1:
                optimizer = torch.optim.Adam(trainable, lr=config.lr * (10 if frozen else 1))
            network.train()
            losses = []
            order = torch.randperm(len(train_x), generator=generator)
            for begin in range(0, len(order), config.batch_size):
                batch = order[begin : begin + config.batch_size]
                if len(batch) < 2:
                    continue
                images = train_x[batch]
                if config.augment:
                    images = _augment(images, generator)
                loss = criterion(network(images.to(device)), train_y[batch].to(device))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(float(loss.detach()))
            _recalibrate_batch_norm(network, train_x, config.batch_size, device)
            valid_map = codes_map(model.encode_images(valid_images), valid_y,
                                  model.encode_images(train_images), np.asarray(train_labels), 100)  # fmt: skip
            if history.record(epoch, losses, valid_map):
                best_state = copy.deepcopy(network.state_dict())
            if progress is not None:
                progress(history.last())
            if history.epochs_since_best >= config.patience:
                break
        network.load_state_dict(best_state)
    history.seconds = time.perf_counter() - start_time
    model.metadata = {"training": config.to_dict(), "best_epoch": history.best_epoch,
                      "valid_map_at_k": history.best_valid_map, "train_seconds": history.seconds,
                      "parameters": int(sum(p.numel() for p in network.parameters()))}  # fmt: skip
    network.eval()
    return model, history


def count_multiply_adds(network: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Return the multiply-adds of one forward pass (convolutions and linear layers).

    Examples
    --------
    >>> count_multiply_adds(nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.Flatten(),
    ...                                   nn.Linear(8 * 4 * 4, 2)), (1, 3, 4, 4))
    3712
    """
    total = 0

    def conv_hook(module: nn.Conv2d, inputs, output) -> None:
        nonlocal total
        kernel = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
        total += output.numel() * kernel

    def linear_hook(module: nn.Linear, inputs, output) -> None:
        nonlocal total
        total += output.numel() * module.in_features

    hooks = []
    for module in network.modules():
        if isinstance(module, nn.Conv2d):
            hooks.append(module.register_forward_hook(conv_hook))
        elif isinstance(module, nn.Linear):
            hooks.append(module.register_forward_hook(linear_hook))
    was_training = network.training
    network.eval()
    with torch.no_grad():
        network(torch.zeros(input_shape))
    network.train(was_training)
    for hook in hooks:
        hook.remove()
    return int(total)
