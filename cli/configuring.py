"""Configuring a filter bank from a labelled data set or from one prototype image.

Click-free, so that a notebook can do what ``cosfire-hash configure`` does (and the pipeline's
configure stage uses the same function); it lives in ``cli`` because it joins the data sets,
images and banks of ``cosfire`` the way the commands name them (sources as data set names).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cosfire.bank import FilterBank
    from cosfire.configure import FilterConfig
    from cosfire.datasets import GalaxyDataset
    from cosfire.preprocess import Preprocessing

__all__ = ["configure_from_dataset", "configure_from_prototype"]


def configure_from_dataset(
    dataset: GalaxyDataset,
    split: str,
    *,
    per_class: int,
    config: FilterConfig | Sequence[FilterConfig],
    preprocessing: Preprocessing,
    rotations_deg: Sequence[float],
    seed: int = 0,
    extras: Sequence[str] = (),
    progress: Callable[[int], None] | None = None,
) -> FilterBank:
    """Return a bank of ``per_class`` filters per class of ``dataset``'s ``split``.

    Prototypes are drawn with ``seed``; each filter records its prototype's data set name
    as its source. A sequence of configs makes a mixed bank (the configs taken in turn).

    Examples
    --------
    >>> from cosfire.configure import FilterConfig
    >>> from cosfire.datasets import open_dataset
    >>> from cosfire.preprocess import Preprocessing
    >>> bank = configure_from_dataset(open_dataset("synthetic"), "train", per_class=1,
    ...     config=FilterConfig(), preprocessing=Preprocessing(), rotations_deg=(0.0, 180.0))
    >>> bank.n_filters
    4
    """
    from cosfire.bank import configure_bank

    items = dataset.items(split)
    return configure_bank(
        items,
        [item.label for item in items],
        class_names=dataset.class_names,
        per_class=per_class,
        seed=seed,
        config=list(config) if isinstance(config, Sequence) else config,
        preprocessing=preprocessing,
        rotations_deg=rotations_deg,
        read=dataset.read,
        sources=[dataset.name(item) for item in items],
        progress=progress,
        extras=extras,
    )


def configure_from_prototype(
    path: Path,
    *,
    config: FilterConfig,
    preprocessing: Preprocessing,
    rotations_deg: Sequence[float],
    point: tuple[float, float] | None = None,
    label: str | None = None,
    extras: Sequence[str] = (),
) -> FilterBank:
    """Return a one-filter bank configured on the image at ``path``.

    ``point`` is the point of interest (x, y) in px (None: the image centre); ``label`` the
    prototype's class name, if known.
    """
    from cosfire.bank import FilterBank
    from cosfire.configure import configure_with
    from cosfire.images import load_image
    from cosfire.preprocess import preprocess

    image = preprocess(load_image(path), preprocessing)
    bank_filter = configure_with(image, point, config, label=label, source=str(path))
    return FilterBank(
        filters=(bank_filter,),
        class_names=(label,) if label else (),
        filter_class=(0,) if label else (-1,),
        filter_index=(0,),
        preprocessing=preprocessing,
        rotations_deg=tuple(rotations_deg),
        metadata={"config": config.to_dict(), "prototype": str(path)},
        extras=tuple(extras),
    )
