"""Training a hashing model from files: descriptor files (MLP) or a labelled image set (CNN).

Click-free, so that a notebook can do what ``cosfire-hash train`` does; the command parses
its options into a :class:`hashing.TrainingConfig` or :class:`hashing.cnn.CNNConfig` and calls
one function here. It lives in ``cli`` because it joins ``cosfire`` (descriptor files,
datasets) and ``hashing``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hashing.cnn import CNNConfig
    from hashing.training import TrainingConfig

__all__ = ["train_from_descriptor_files", "train_cnn_on_dataset"]


def train_from_descriptor_files(
    train_path: Path,
    valid_path: Path | None,
    config: TrainingConfig,
    *,
    progress: Callable[[dict], None] | None = None,
):
    """Return (model, history) of an MLP trained on the descriptors in ``train_path``.

    The epoch is chosen on ``valid_path``'s descriptors, or on a stratified 20 % of the
    training file (seeded by ``config.seed``) when it is None. The model records the class
    names.

    Examples
    --------
    >>> from hashing import RECIPES
    >>> model, history = train_from_descriptor_files(
    ...     Path("train.npz"), Path("valid.npz"), RECIPES["dsh"])  # doctest: +SKIP
    """
    import numpy as np

    from cosfire.descriptor_file import load_descriptors
    from hashing.training import stratified_split, train_hashing

    training = load_descriptors(train_path)
    if valid_path is not None:
        validation = load_descriptors(valid_path)
        if validation.n_filters != training.n_filters:
            raise ValueError(
                f"{valid_path} has {validation.n_filters} values per image but {train_path} has "
                f"{training.n_filters}; describe both with the same filter bank"
            )
        if validation.bank_sha256 != training.bank_sha256:
            warnings.warn("the two descriptor files come from different filter banks", stacklevel=2)
    else:
        kept, held = stratified_split(training.labels, 0.2, seed=config.seed)
        training, validation = training.select(kept), training.select(held)
    if np.any(training.labels < 0) or np.any(validation.labels < 0):
        raise ValueError("training needs labelled descriptors (some labels are -1, unknown)")
    if validation.class_names != training.class_names:
        raise ValueError("the training and validation files have different class names")
    model, history = train_hashing(
        training.descriptors,
        training.labels,
        validation.descriptors,
        validation.labels,
        config=config,
        bank_sha256=training.bank_sha256,
        progress=progress,
    )
    model.metadata["class_names"] = list(training.class_names)
    return model, history


def train_cnn_on_dataset(
    dataset_source: str,
    config: CNNConfig,
    *,
    split: str = "train",
    valid_split: str = "valid",
    train_limit: int | None = None,
    progress: Callable[[dict], None] | None = None,
):
    """Return (model, history) of a CNN baseline trained on the images of a labelled set.

    ``train_limit`` keeps at most that many training images per class (seeded by
    ``config.seed``), for reduced schedules.
    """
    from cosfire.datasets import open_dataset, stratified_subset
    from hashing.cnn import train_cnn_hashing

    dataset = open_dataset(dataset_source)
    train_items = dataset.items(split)
    if train_limit:
        train_items = stratified_subset(train_items, train_limit, seed=config.seed)
    valid_items = dataset.items(valid_split)
    model, history = train_cnn_hashing(
        dataset.read_many(train_items),
        [i.label for i in train_items],
        dataset.read_many(valid_items),
        [i.label for i in valid_items],
        config=config,
        progress=progress,
    )
    details: dict[str, Any] = {
        "class_names": list(dataset.class_names),
        "dataset": dataset.source,
        "train_images": len(train_items),
    }
    model.metadata.update(details)
    return model, history
