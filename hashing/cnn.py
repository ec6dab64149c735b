"""CNN hashing baselines: DenseNet161 + triplet loss (Ndung'u et al. 2023), HRNet-W18 +
DSH (the HHNet idea), and a compact CNN trained from scratch (:mod:`hashing.compact`), for
comparison with COSFIRE codes on the same data and metric.

Needs the optional extra ``pip install cosfire-hash[cnn]`` (torchvision, timm); importing
:mod:`hashing` does not. Pretrained ImageNet weights come from a local file (``weights=PATH``,
a ``state_dict`` loaded with ``weights_only=True``) or, with ``pretrained=True`` on a machine that
is online, from the libraries' own download; ``weights=None`` builds the network untrained.

Images are grey cutouts: centre-cropped like the COSFIRE bank (150 px), resized to the input
size, replicated to three channels and normalised with the ImageNet statistics. Training
augments with random quarter turns and flips (``rotation="quarter"``) or with rotations by any
angle and flips (``rotation="any"``); the backbone is frozen for the first epoch(s), then
fine-tuned. :func:`compact_config` is the recipe of the compact CNN measured on FIRST: DSH and
an auxiliary classification loss on every code length, class-balanced batches, Adam with cosine
decay. Its classifier head is kept in the saved model (:meth:`CNNHashingModel.predict_classes`).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from hashing.compact import ROTATION_MARGIN, CompactCNN, rotate_and_crop
from hashing.encoder import EncoderInputs
from hashing.loop import TrainingHistory, codes_map, deterministic, train_epochs
from hashing.losses import DSHLoss, TripletLoss
from hashing.model_file import ModelFile, write_model_file

__all__ = [
    "BACKBONES",
    "CNNConfig",
    "CNNHashingModel",
    "CNNHashingNetwork",
    "build_backbone",
    "backbone_config",
    "compact_config",
    "densenet_state_dict",
    "count_multiply_adds",
    "prepare_images",
    "train_cnn_hashing",
]

BACKBONES = ("compact", "densenet161", "hrnet_w18")
_IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
_IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


@dataclass(frozen=True)
class CNNConfig:
    """Every choice of a CNN hashing baseline (defaults: the URSI 2023 DenseNet161 setting).

    ``joint_bits`` adds hash heads of other code lengths on the same backbone, trained jointly
    (the model encodes with ``bits``; :meth:`CNNHashingModel.encode_images` takes the others).
    ``class_weight`` > 0 adds a linear classifier on the codes of every head, its cross-entropy
    weighted by ``class_weight`` (as :class:`hashing.training.TrainingConfig`); the classifier
    of ``bits`` stays in the model. ``balanced`` draws every epoch's images with equal class
    probability; ``lr_schedule="cosine"`` decays the rate to 0 over ``epochs``. The epoch kept
    is the one with the best validation mAP@100 averaged over the code lengths. ``num_threads``
    sets torch's CPU threads while training (restored after).

    Examples
    --------
    >>> CNNConfig(backbone="compact", bits=36, joint_bits=(8, 16)).all_bits
    (36, 8, 16)
    """

    backbone: Literal["compact", "densenet161", "hrnet_w18"] = "densenet161"
    bits: int = 8
    joint_bits: tuple[int, ...] = ()
    class_weight: float = 0.0
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
    rotation: Literal["quarter", "any"] = "quarter"
    balanced: bool = False
    lr_schedule: Literal["constant", "cosine"] = "constant"
    weights: str | None = None
    pretrained: bool = False
    seed: int = 0
    device: str = "cpu"
    num_threads: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "joint_bits", tuple(int(b) for b in self.joint_bits))
        if self.backbone not in BACKBONES:
            raise ValueError(
                f"backbone must be one of {', '.join(BACKBONES)}, got {self.backbone!r}"
            )
        if self.bits <= 0 or any(b <= 0 for b in self.joint_bits):
            raise ValueError(f"bits must be positive integers, got {self.all_bits}")
        if len(set(self.all_bits)) != len(self.all_bits):
            raise ValueError(
                f"joint_bits must differ from bits and each other, got {self.all_bits}"
            )
        if self.class_weight < 0:
            raise ValueError(f"class_weight must be >= 0, got {self.class_weight}")
        if self.loss not in ("triplet", "dsh"):
            raise ValueError(f"loss must be triplet or dsh, got {self.loss!r}")
        if self.rotation not in ("quarter", "any"):
            raise ValueError(f"rotation must be quarter or any, got {self.rotation!r}")
        if self.lr_schedule not in ("constant", "cosine"):
            raise ValueError(f"lr_schedule must be constant or cosine, got {self.lr_schedule!r}")
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
    def all_bits(self) -> tuple[int, ...]:
        """The code lengths of the hash heads: ``bits`` first, then ``joint_bits``."""
        return (self.bits, *self.joint_bits)

    @property
    def activation(self) -> str:
        """Sigmoid codes in (0, 1) for the triplet loss (URSI 2023), tanh in (-1, 1) for DSH."""
        return "sigmoid" if self.loss == "triplet" else "tanh"

    @property
    def threshold(self) -> float:
        """Binarisation threshold of the outputs: 0.5 for sigmoid, 0 for tanh."""
        return 0.5 if self.activation == "sigmoid" else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict."""
        spec = asdict(self)
        spec["joint_bits"] = list(self.joint_bits)
        return spec


def compact_config(**overrides: Any) -> CNNConfig:
    """Return the compact CNN's recipe (``overrides`` replace single fields).

    100 px centre crop (tighter than the COSFIRE bank's 150 px: the galaxies are 10-20 px across;
    chosen on validation mAP@100) resized to 96 px, rotations by any angle and flips,
    class-balanced batches of 64, DSH (margin 2k) plus the auxiliary classification loss of
    weight 20 as the MLP, Adam 2e-3 decayed to 0 over 40 epochs by a cosine, all epochs run
    (the best on validation mAP@100 is kept), two CPU threads.

    Examples
    --------
    >>> compact_config(bits=16).input_px, compact_config(seed=3).seed
    (96, 3)
    """
    recipe: dict[str, Any] = {
        "backbone": "compact",
        "bits": 36,
        "loss": "dsh",
        "class_weight": 20.0,
        "input_px": 96,
        "crop_px": 100,
        "lr": 2e-3,
        "batch_size": 64,
        "epochs": 40,
        "frozen_epochs": 0,
        "patience": 40,
        "augment": True,
        "rotation": "any",
        "balanced": True,
        "lr_schedule": "cosine",
        "num_threads": 2,
    }
    return CNNConfig(**{**recipe, **overrides})


def backbone_config(backbone: str, **overrides: Any) -> CNNConfig:
    """Return the training recipe of a backbone (``overrides`` replace single fields).

    ``compact``: :func:`compact_config` (trained from scratch). The pretrained backbones take
    :class:`CNNConfig`'s defaults with the loss of their paper: DSH for ``hrnet_w18``, the
    triplet loss for ``densenet161``. ``cosfire-hash train --backbone`` takes it from here.

    Examples
    --------
    >>> backbone_config("hrnet_w18").loss, backbone_config("densenet161", bits=16).loss
    ('dsh', 'triplet')
    >>> backbone_config("compact") == compact_config()
    True
    """
    if backbone == "compact":
        return compact_config(**overrides)
    loss = "dsh" if backbone == "hrnet_w18" else "triplet"
    return CNNConfig(**{"backbone": backbone, "loss": loss, **overrides})


def densenet_state_dict(state: Mapping[str, Any]) -> dict[str, Any]:
    """Return a DenseNet ``state_dict`` with the layer names today's torchvision model uses.

    The ImageNet files torchvision publishes (``densenet161-8d451a50.pth``) name the parts of
    a dense layer ``norm.1``, ``conv.2``; the model calls them ``norm1``, ``conv2``.

    Examples
    --------
    >>> list(densenet_state_dict({"features.denseblock1.denselayer1.norm.1.weight": 0}))
    ['features.denseblock1.denselayer1.norm1.weight']
    """
    legacy = re.compile(r"(denselayer\d+\.(?:norm|relu|conv))\.([12])\.")
    return {legacy.sub(r"\1\2.", key): value for key, value in state.items()}


def build_backbone(
    name: str, *, weights: str | os.PathLike[str] | None = None, pretrained: bool = False
) -> tuple[nn.Module, int]:
    """Return (feature extractor giving ``(B, D)`` features, D) for a named backbone.

    ``compact`` (:class:`hashing.compact.CompactCNN`) has no pretrained weights.

    Examples
    --------
    >>> build_backbone("compact")[1]
    128
    """
    if name == "compact":
        if weights is not None or pretrained:
            raise ValueError(
                "the compact backbone trains from scratch; it has no pretrained weights"
            )
        model = CompactCNN()
        return model, model.num_features
    if name == "densenet161":
        import torchvision

        model = torchvision.models.densenet161(
            weights=torchvision.models.DenseNet161_Weights.IMAGENET1K_V1 if pretrained else None
        )
        if weights is not None:
            state = torch.load(weights, map_location="cpu", weights_only=True)
            state = state.get("state_dict", state) if isinstance(state, dict) else state
            try:
                model.load_state_dict(densenet_state_dict(state))
            except RuntimeError as error:
                raise ValueError(
                    f"'{weights}' does not fit densenet161 (a torchvision DenseNet161 state_dict "
                    f"is needed): {str(error).splitlines()[0]}"
                ) from None
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
    """Backbone features -> Linear(bits) -> sigmoid or tanh; input ``(B, 3, H, W)``.

    With ``config.joint_bits``, ``extra_heads`` hold the other code lengths; with
    ``n_classes`` > 0, ``classifiers`` hold a Linear(bits, n_classes) per code length.
    """

    def __init__(self, config: CNNConfig, n_classes: int = 0) -> None:
        super().__init__()
        self.config = config
        self.n_classes = n_classes
        self.backbone, dimension = build_backbone(
            config.backbone, weights=config.weights, pretrained=config.pretrained
        )
        self.head = nn.Linear(dimension, config.bits)
        self.extra_heads = nn.ModuleDict(
            {str(b): nn.Linear(dimension, b) for b in config.joint_bits}
        )
        self.classifiers = nn.ModuleDict(
            {str(b): nn.Linear(b, n_classes) for b in config.all_bits} if n_classes else {}
        )
        self.activation = nn.Sigmoid() if config.activation == "sigmoid" else nn.Tanh()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.activation(self.head(self.backbone(images)))

    def all_codes(self, images: torch.Tensor) -> dict[int, torch.Tensor]:
        """Return {bits: real codes ``(B, bits)``} of every head from one backbone pass."""
        features = self.backbone(images)
        codes = {self.config.bits: self.activation(self.head(features))}
        for bits, head in self.extra_heads.items():
            codes[int(bits)] = self.activation(head(features))
        return codes


def prepare_images(
    images: Sequence[np.ndarray], *, crop_px: int | None, input_px: int
) -> torch.Tensor:
    """Return grey images as a normalised ``(B, 3, input_px, input_px)`` float tensor.

    Examples
    --------
    >>> prepare_images([np.ones((300, 300), np.float32)], crop_px=150, input_px=64).shape
    torch.Size([1, 3, 64, 64])
    """
    return _normalise(_crop_and_resize(images, crop_px=crop_px, input_px=input_px))


def _crop_and_resize(
    images: Sequence[np.ndarray], *, crop_px: int | None, input_px: int, margin: float = 1.0
) -> torch.Tensor:
    """Return ``(B, 1, S, S)`` centre crops of side ``margin * crop_px`` (zero-padded where the
    image is smaller) resized to ``S = round(margin * input_px)``, divided by the peak of the
    central ``crop_px`` square (the peak :func:`prepare_images` uses)."""
    import cv2

    side_px = round(margin * input_px)
    prepared = []
    for image in images:
        values = np.asarray(image, dtype=np.float32)
        crop = crop_px or min(values.shape)
        inner_top = max(0, (values.shape[0] - crop) // 2)
        inner_left = max(0, (values.shape[1] - crop) // 2)
        inner = values[inner_top : inner_top + crop, inner_left : inner_left + crop]
        outer = round(margin * crop) if margin != 1.0 else crop
        if outer != crop:
            pad = (outer - crop + 1) // 2 + 1
            padded = np.pad(values, pad)
            top = inner_top + pad - (outer - crop) // 2
            left = inner_left + pad - (outer - crop) // 2
            values = padded[top : top + outer, left : left + outer]
        else:
            values = inner
        peak = float(inner.max())
        values = values / peak if peak > 0 else values
        prepared.append(cv2.resize(values, (side_px, side_px), interpolation=cv2.INTER_AREA))
    return torch.from_numpy(np.stack(prepared))[:, None]


def _normalise(batch: torch.Tensor) -> torch.Tensor:
    """Grey ``(B, 1, H, W)`` -> three channels normalised with the ImageNet statistics."""
    return (batch.repeat(1, 3, 1, 1) - _IMAGENET_MEAN) / _IMAGENET_STD


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
    """A trained CNN hashing network: images in, binary codes (and classes) out.

    An :class:`~hashing.encoder.Encoder`: :meth:`encode` takes grey images
    (``inputs == "images"``).
    """

    network: CNNHashingNetwork
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def inputs(self) -> EncoderInputs:
        """What :meth:`encode` takes: grey images."""
        return "images"

    @property
    def config(self) -> CNNConfig:
        """The network's settings."""
        return self.network.config

    @property
    def bits(self) -> int:
        """Code length of the main head."""
        return self.config.bits

    @property
    def threshold(self) -> float:
        """Binarisation threshold of the outputs."""
        return self.config.threshold

    def _prepared_batches(self, images: Sequence[np.ndarray], batch_size: int):
        self.network.eval()
        device = next(self.network.parameters()).device
        for start in range(0, len(images), batch_size):
            batch = prepare_images(
                images[start : start + batch_size],
                crop_px=self.config.crop_px,
                input_px=self.config.input_px,
            )
            yield batch.to(device)

    @torch.no_grad()
    def real_codes_of_images(
        self, images: Sequence[np.ndarray], *, bits: int | None = None, batch_size: int = 32
    ) -> np.ndarray:
        """Return the outputs of the ``bits`` head (default: ``self.bits``) for grey images
        (float32, (n, bits))."""
        bits = self.bits if bits is None else bits
        if bits not in self.config.all_bits:
            raise ValueError(f"this model has heads of {self.config.all_bits} bits, not {bits}")
        outputs = [
            self.network.all_codes(batch)[bits].cpu()
            for batch in self._prepared_batches(images, batch_size)
        ]
        return torch.cat(outputs).numpy() if outputs else np.zeros((0, bits), np.float32)

    def encode_images(self, images: Sequence[np.ndarray], *, bits: int | None = None) -> np.ndarray:
        """Return binary codes (bool, (n, bits)) of grey images from the ``bits`` head."""
        return self.real_codes_of_images(images, bits=bits) >= self.threshold

    def encode(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Return binary codes (bool, (n, bits)) of grey images (the :class:`Encoder` verb)."""
        return self.encode_images(images)

    @torch.no_grad()
    def predict_classes(self, images: Sequence[np.ndarray], *, batch_size: int = 32) -> np.ndarray:
        """Return the class index (int64, (n,)) the classifier head of ``bits`` predicts."""
        if not self.network.n_classes:
            raise ValueError("this model has no classifier head (trained with class_weight=0)")
        classifier = self.network.classifiers[str(self.bits)]
        predicted = [
            classifier(self.network(batch)).argmax(dim=1).cpu()
            for batch in self._prepared_batches(images, batch_size)
        ]
        return torch.cat(predicted).numpy() if predicted else np.zeros(0, np.int64)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the model file (kind ``"cnn"``; :mod:`hashing.model_file`) and return its path."""
        fields = {
            "cnn": self.config.to_dict(),
            "n_classes": self.network.n_classes,
            "metadata": self.metadata,
        }
        return write_model_file(
            path, kind="cnn", fields=fields, state_dict=self.network.state_dict()
        )

    @classmethod
    def from_model_file(cls, contents: ModelFile, device: str = "cpu") -> CNNHashingModel:
        """Return the model held by checked model file contents of kind ``"cnn"``."""
        header = contents.header
        spec = {**header["cnn"], "weights": None, "pretrained": False}
        network = CNNHashingNetwork(CNNConfig(**spec), int(header.get("n_classes", 0)))
        network.load_state_dict(contents.state_dict)
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


def _epoch_order(labels: torch.Tensor, balanced: bool, generator: torch.Generator) -> torch.Tensor:
    """Return one epoch's image indices: a permutation, or as many draws with equal class
    probability (uniform within a class)."""
    if not balanced:
        return torch.randperm(len(labels), generator=generator)
    classes = torch.unique(labels)
    weights = torch.zeros(len(labels), dtype=torch.float64)
    for label in classes:
        members = labels == label
        weights[members] = 1.0 / float(members.sum())
    return torch.multinomial(weights, len(labels), replacement=True, generator=generator)


@torch.no_grad()
def _all_codes(
    network: CNNHashingNetwork, images: torch.Tensor, batch_size: int, device: torch.device
) -> dict[int, np.ndarray]:
    """Return {bits: bool codes} of prepared images for every head (eval mode)."""
    network.eval()
    outputs: dict[int, list[torch.Tensor]] = {bits: [] for bits in network.config.all_bits}
    for start in range(0, len(images), batch_size):
        for bits, codes in network.all_codes(images[start : start + batch_size].to(device)).items():
            outputs[bits].append(codes.cpu())
    return {
        bits: torch.cat(codes).numpy() >= network.config.threshold
        for bits, codes in outputs.items()
    }


def train_cnn_hashing(
    train_images: Sequence[np.ndarray],
    train_labels: np.ndarray,
    valid_images: Sequence[np.ndarray],
    valid_labels: np.ndarray,
    *,
    config: CNNConfig | None = None,
    progress: Callable[[dict[str, float]], None] | None = None,
) -> tuple[CNNHashingModel, TrainingHistory]:
    """Train a CNN hashing network; return the epoch with the best validation mAP@100.

    Validation mAP@100 is that of the validation images as queries against the training images
    as database, averaged over the code lengths of ``config.all_bits``. Training stops after
    ``config.patience`` epochs without improvement.

    Examples
    --------
    >>> images = [np.pad(np.ones((4 + 8 * (i % 2), 4), np.float32), 14) for i in range(8)]
    >>> config = compact_config(bits=4, epochs=1, batch_size=4, input_px=32, crop_px=None)
    >>> model, history = train_cnn_hashing(images, np.arange(8) % 2, images, np.arange(8) % 2,
    ...                                    config=config)
    >>> model.encode_images(images).shape, model.predict_classes(images).shape
    ((8, 4), (8,))
    """
    config = CNNConfig() if config is None else config
    train_y = torch.as_tensor(np.asarray(train_labels, dtype=np.int64))
    valid_y = np.asarray(valid_labels, dtype=np.int64)
    device = torch.device(config.device)
    history = TrainingHistory()
    start_time = time.perf_counter()
    train_x = prepare_images(train_images, crop_px=config.crop_px, input_px=config.input_px)
    valid_x = prepare_images(valid_images, crop_px=config.crop_px, input_px=config.input_px)
    rotating = config.augment and config.rotation == "any"
    # rotations by any angle need the surroundings of the crop: kept grey, normalised per batch
    rotation_source = (
        _crop_and_resize(
            train_images, crop_px=config.crop_px, input_px=config.input_px, margin=ROTATION_MARGIN
        )
        if rotating
        else None
    )
    n_classes = int(train_y.max()) + 1 if config.class_weight > 0 else 0
    with deterministic(config.seed, config.num_threads):
        network = CNNHashingNetwork(config, n_classes).to(device)
        criteria = {bits: _criterion(config, bits) for bits in config.all_bits}
        generator = torch.Generator().manual_seed(config.seed)
        model = CNNHashingModel(network)
        # the optimiser starts at epoch 1 and again when the backbone is unfrozen
        state: dict[str, Any] = {"optimizer": None, "schedule": None}

        def optimizer_for_epoch(epoch: int) -> torch.optim.Optimizer:
            frozen = epoch <= config.frozen_epochs
            for parameter in network.backbone.parameters():
                parameter.requires_grad = not frozen
            trainable = [p for p in network.parameters() if p.requires_grad]
            if epoch == 1 or epoch == config.frozen_epochs + 1:
                optimizer = torch.optim.Adam(trainable, lr=config.lr * (10 if frozen else 1))
                state["optimizer"] = optimizer
                if config.lr_schedule == "cosine":
                    state["schedule"] = torch.optim.lr_scheduler.CosineAnnealingLR(
                        optimizer, T_max=max(1, config.epochs - epoch + 1)
                    )
            return state["optimizer"]

        def batch_loss(batch: torch.Tensor) -> torch.Tensor:
            if rotation_source is not None:
                rotated = rotate_and_crop(rotation_source[batch], config.input_px, generator)
                images = _normalise(rotated)
            elif config.augment:
                images = _augment(train_x[batch], generator)
            else:
                images = train_x[batch]
            labels = train_y[batch].to(device)
            codes = network.all_codes(images.to(device))
            loss = sum(criteria[bits](codes[bits], labels) for bits in config.all_bits)
            for bits, classifier in network.classifiers.items():
                loss = loss + config.class_weight * nn.functional.cross_entropy(
                    classifier(codes[int(bits)]), labels
                )
            return loss

        def end_of_epoch(epoch: int) -> None:
            if state["schedule"] is not None:
                state["schedule"].step()
            _recalibrate_batch_norm(network, train_x, config.batch_size, device)

        def evaluate() -> float:
            valid_codes = _all_codes(network, valid_x, config.batch_size, device)
            database_codes = _all_codes(network, train_x, config.batch_size, device)
            return float(
                np.mean(
                    [
                        codes_map(
                            valid_codes[bits], valid_y, database_codes[bits], train_y.numpy(), 100
                        )
                        for bits in config.all_bits
                    ]
                )
            )

        train_epochs(
            network,
            epochs=config.epochs,
            batch_size=config.batch_size,
            epoch_order=lambda: _epoch_order(train_y, config.balanced, generator),
            batch_loss=batch_loss,
            optimizer_for_epoch=optimizer_for_epoch,
            end_of_epoch=end_of_epoch,
            evaluate=evaluate,
            history=history,
            patience=config.patience,
            progress=progress,
        )
    history.seconds = time.perf_counter() - start_time
    model.metadata = {
        "training": config.to_dict(),
        "best_epoch": history.best_epoch,
        "valid_map_at_k": history.best_valid_map,
        "train_seconds": history.seconds,
        "parameters": int(sum(p.numel() for p in network.parameters())),
    }
    network.eval()
    return model, history


def _criterion(config: CNNConfig, bits: int) -> nn.Module:
    """Return the hashing loss of the ``bits`` head (margin ``bits / 4`` for triplets, ``2 *
    bits`` for DSH unless ``config.margin`` is set)."""
    default_margin = bits / 4 if config.loss == "triplet" else 2.0 * bits
    margin = config.margin if config.margin is not None else default_margin
    if config.loss == "triplet":
        return TripletLoss(margin, mining=config.mining)
    return DSHLoss(margin, config.alpha)


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
