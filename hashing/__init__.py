"""Learned binary hash codes for COSFIRE descriptors (the only package that imports torch).

Examples
--------
>>> import numpy as np
>>> from hashing import TrainingConfig, train_hashing
>>> rng = np.random.default_rng(0)
>>> x = rng.random((60, 8), dtype=np.float32); y = np.repeat([0, 1, 2], 20); x[:, 0] += y
>>> model, history = train_hashing(x, y, x, y, config=TrainingConfig(bits=4, epochs=3))
>>> model.encode(x).shape
(60, 4)

Modules, lowest first (each imports only modules above it; :func:`load_model` imports
:mod:`hashing.cnn` only for a CNN file, and never the other way round): :mod:`hashing.network` and :mod:`hashing.compact`
(networks), :mod:`hashing.losses`, :mod:`hashing.encoder` (the :class:`Encoder` protocol every
model follows), :mod:`hashing.model_file` (the file format and its version check),
:mod:`hashing.loop` (the training loop the MLP and the CNNs share), :mod:`hashing.cnn` (CNN
baselines, an optional extra), :mod:`hashing.model` (the MLP model and :func:`load_model` of any
model file), :mod:`hashing.training` (MLP training) and :mod:`hashing.curves`.
"""

from hashing.encoder import Encoder
from hashing.loop import train_epochs
from hashing.losses import DSHLoss, TripletLoss, dsh_loss, triplet_loss
from hashing.model import MODEL_FORMAT_VERSION, HashingModel, load_model
from hashing.network import HashingNetwork, NetworkConfig
from hashing.training import (
    RECIPES,
    TrainingConfig,
    TrainingHistory,
    codes_map,
    stratified_split,
    torch_threads,
    train_hashing,
)

__all__ = [
    "RECIPES",
    "MODEL_FORMAT_VERSION",
    "DSHLoss",
    "Encoder",
    "HashingModel",
    "HashingNetwork",
    "NetworkConfig",
    "TrainingConfig",
    "TrainingHistory",
    "TripletLoss",
    "codes_map",
    "dsh_loss",
    "load_model",
    "stratified_split",
    "torch_threads",
    "train_epochs",
    "train_hashing",
    "triplet_loss",
]
