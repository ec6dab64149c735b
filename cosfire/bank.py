"""A filter bank: COSFIRE filters configured on prototypes of every class, saved as JSON.

The descriptor of an image is one value per filter of the bank (its maximum response), so the
bank fixes everything that makes descriptors comparable: the filters, the preprocessing of
images and the rotation set. It is written as versioned JSON (atomically) and loads back
equal; :attr:`FilterBank.sha256` identifies it in descriptor files, models and archives.
Descriptors are computed with a bank by :func:`cosfire.descriptor.describe`: that module
imports this one, never the reverse.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from cosfire._atomic import atomic_write, check_format_version
from cosfire.configure import FilterConfig, NoTuplesError, configure_with
from cosfire.filter import CosfireFilter
from cosfire.morphology import morphology_names
from cosfire.plan import DEFAULT_ROTATIONS_DEG, ApplicationPlan, make_plan
from cosfire.preprocess import Preprocessing, preprocess

__all__ = ["BANK_FORMAT_VERSION", "FilterBank", "configure_bank", "load_bank"]

# 2: preprocessing may hold ``smooth_px``. 3: filters may use the later application options
# (``blur_rule``, ``border``, ``shift="fix"``; see FilterParams.format_version). A bank is
# written with the lowest version that holds it, so that files and checksums from before stay
# the same and older releases read what they can (and refuse the rest with a clear error).
# 4: the bank may append morphology measurements to its descriptors (``extras``).
BANK_FORMAT_VERSION = 4


@dataclass(frozen=True, eq=False)
class FilterBank:
    """COSFIRE filters plus everything needed to compute comparable descriptors.

    Attributes
    ----------
    filters : tuple of CosfireFilter
    class_names : tuple of str
        Classes of the prototypes.
    filter_class : tuple of int
        Class index of each filter's prototype (-1 if unknown).
    filter_index : tuple of int
        Index of each filter within its class.
    preprocessing : Preprocessing
        Applied to every image (and was applied to the prototypes).
    rotations_deg, scales, reflection
        Invariances used when describing images.
    extras : tuple of str
        Groups of :mod:`cosfire.morphology` measurements appended after the filters' values
        (not COSFIRE responses; empty by default).
    metadata : dict
        Provenance (config, seed, prototype sources), JSON-able.

    Examples
    --------
    >>> import numpy as np
    >>> from cosfire.configure import configure
    >>> image = np.zeros((64, 64), np.float32); image[32, 32] = 1.0
    >>> from cosfire.descriptor import describe
    >>> bank = FilterBank((configure(image, sigma=2.0, rhos=(0,)),), ("blob",), (0,), (0,))
    >>> bank.n_filters, describe(bank, [image]).shape
    (1, (1, 1))
    """

    filters: tuple[CosfireFilter, ...]
    class_names: tuple[str, ...] = ()
    filter_class: tuple[int, ...] = ()
    filter_index: tuple[int, ...] = ()
    preprocessing: Preprocessing = field(default_factory=Preprocessing)
    rotations_deg: tuple[float, ...] = DEFAULT_ROTATIONS_DEG
    scales: tuple[float, ...] = (1.0,)
    reflection: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)
    extras: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n_filters = len(self.filters)
        if n_filters == 0:
            raise ValueError("a filter bank needs at least one filter")
        filter_class = tuple(self.filter_class) or (-1,) * n_filters
        filter_index = tuple(self.filter_index) or tuple(range(n_filters))
        if len(filter_class) != n_filters or len(filter_index) != n_filters:
            raise ValueError("filter_class and filter_index need one entry per filter")
        if max(filter_class) >= len(self.class_names):
            raise ValueError("filter_class refers to a class missing from class_names")
        for name, value in (
            ("filters", tuple(self.filters)),
            ("class_names", tuple(str(c) for c in self.class_names)),
            ("filter_class", tuple(int(c) for c in filter_class)),
            ("filter_index", tuple(int(i) for i in filter_index)),
            ("rotations_deg", tuple(float(d) for d in self.rotations_deg)),
            ("scales", tuple(float(s) for s in self.scales)),
            ("extras", tuple(str(e) for e in self.extras)),
        ):
            object.__setattr__(self, name, value)
        if self.extras:
            morphology_names(self.extras)  # validates the group names

    @property
    def n_filters(self) -> int:
        """Number of filters."""
        return len(self.filters)

    @property
    def n_values(self) -> int:
        """Descriptor length: one value per filter, then the ``extras`` measurements."""
        return self.n_filters + (len(morphology_names(self.extras)) if self.extras else 0)

    @property
    def column_class(self) -> tuple[int, ...]:
        """Class of the prototype behind every descriptor column (-1 for ``extras``)."""
        return self.filter_class + (-1,) * (self.n_values - self.n_filters)

    @property
    def column_index(self) -> tuple[int, ...]:
        """Index within its class of every descriptor column (``extras`` count from 0)."""
        return self.filter_index + tuple(range(self.n_values - self.n_filters))

    @cached_property
    def plan(self) -> ApplicationPlan:
        """The application plan of all filters (built once)."""
        return make_plan(
            self.filters,
            rotations_deg=self.rotations_deg,
            scales=self.scales,
            reflection=self.reflection,
        )

    @property
    def format_version(self) -> int:
        """The lowest bank format version that holds this bank (see ``BANK_FORMAT_VERSION``)."""
        if self.extras:
            return 4
        if any(bank_filter.params.format_version > 1 for bank_filter in self.filters):
            return 3
        return 2 if self.preprocessing.smooth_px else 1

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-able dict that :meth:`save` writes (``extras`` only when set)."""
        spec = {
            "format": "cosfire-hash filter bank",
            "format_version": self.format_version,
            "class_names": list(self.class_names),
            "filter_class": list(self.filter_class),
            "filter_index": list(self.filter_index),
            "preprocessing": self.preprocessing.to_dict(),
            "rotations_deg": list(self.rotations_deg),
            "scales": list(self.scales),
            "reflection": self.reflection,
            "metadata": self.metadata,
            "filters": [bank_filter.to_dict() for bank_filter in self.filters],
        }
        if self.extras:
            spec["extras"] = list(self.extras)
        return spec

    def to_json(self) -> str:
        """Return the canonical JSON text of the bank."""
        return json.dumps(self.to_dict(), indent=1, sort_keys=True)

    @property
    def sha256(self) -> str:
        """SHA-256 of the canonical JSON text (equals the hash of the saved file)."""
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> FilterBank:
        """Inverse of :meth:`to_dict`."""
        return cls(
            filters=tuple(CosfireFilter.from_dict(item) for item in spec["filters"]),
            class_names=tuple(spec.get("class_names", ())),
            filter_class=tuple(spec.get("filter_class", ())),
            filter_index=tuple(spec.get("filter_index", ())),
            preprocessing=Preprocessing.from_dict(spec.get("preprocessing", {})),
            rotations_deg=tuple(spec.get("rotations_deg", DEFAULT_ROTATIONS_DEG)),
            scales=tuple(spec.get("scales", (1.0,))),
            reflection=bool(spec.get("reflection", False)),
            metadata=dict(spec.get("metadata", {})),
            extras=tuple(spec.get("extras", ())),
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the bank as JSON to ``path`` atomically and return the path."""
        target = Path(path)
        with atomic_write(target, "w") as handle:
            handle.write(self.to_json())
        return target

    def with_invariances(
        self,
        *,
        rotations_deg: Sequence[float] | None = None,
        scales: Sequence[float] | None = None,
        reflection: bool | None = None,
    ) -> FilterBank:
        """Return the bank with other invariance settings (same filters)."""
        return FilterBank(
            filters=self.filters,
            class_names=self.class_names,
            filter_class=self.filter_class,
            filter_index=self.filter_index,
            preprocessing=self.preprocessing,
            rotations_deg=self.rotations_deg if rotations_deg is None else tuple(rotations_deg),
            scales=self.scales if scales is None else tuple(scales),
            reflection=self.reflection if reflection is None else reflection,
            metadata=self.metadata,
            extras=self.extras,
        )

    def per_class_subset(self, per_class: int) -> FilterBank:
        """Return the bank cut to the first ``per_class`` filters of every class."""
        keep = [i for i, index in enumerate(self.filter_index) if index < per_class]
        return FilterBank(
            filters=tuple(self.filters[i] for i in keep),
            class_names=self.class_names,
            filter_class=tuple(self.filter_class[i] for i in keep),
            filter_index=tuple(self.filter_index[i] for i in keep),
            preprocessing=self.preprocessing,
            rotations_deg=self.rotations_deg,
            scales=self.scales,
            reflection=self.reflection,
            metadata={**self.metadata, "cut_to_per_class": per_class},
            extras=self.extras,
        )


def load_bank(path: str | os.PathLike[str]) -> FilterBank:
    """Read a bank written by :meth:`FilterBank.save`.

    Raises
    ------
    ValueError
        If the file is not a bank, or comes from a newer format version.
    """
    source = Path(path)
    if not source.is_file():
        raise FileNotFoundError(
            f"filter bank '{source}' does not exist; create one with `cosfire-hash configure`"
        )
    try:
        spec = json.loads(source.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"'{source}' is not a filter bank JSON file ({error})") from error
    if not isinstance(spec, dict) or spec.get("format") != "cosfire-hash filter bank":
        raise ValueError(
            f"'{source}' is not a cosfire-hash filter bank; create one with `cosfire-hash configure`"
        )
    version = int(spec.get("format_version", 0))
    check_format_version(version, BANK_FORMAT_VERSION, what="a filter bank", source=f"'{source}'")
    return FilterBank.from_dict(spec)


def configure_bank(
    images: Sequence[np.ndarray] | Sequence[Any],
    labels: Sequence[int] | np.ndarray,
    *,
    class_names: Sequence[str],
    per_class: int,
    seed: int = 0,
    config: FilterConfig | Sequence[FilterConfig] | None = None,
    preprocessing: Preprocessing | None = None,
    rotations_deg: Sequence[float] = DEFAULT_ROTATIONS_DEG,
    read: Callable[[Any], np.ndarray] | None = None,
    sources: Sequence[str] | None = None,
    progress: Callable[[int], None] | None = None,
    extras: Sequence[str] = (),
) -> FilterBank:
    """Return a bank of ``per_class`` filters per class, prototypes drawn with ``seed``.

    For every class the candidate prototypes are shuffled with ``seed``; each is configured
    at its image centre in turn, skipping those that yield no tuple, until ``per_class``
    filters exist. With several configs, a class's filters take them in turn (filter k of a
    class uses ``config[k % len(config)]``): a *mixed* bank, e.g. DoG sigmas 2, 3 and 5, each
    filter on its own prototype, so the descriptor sees a galaxy at several scales.

    Parameters
    ----------
    images : sequence
        Training images (2-D arrays), or anything ``read`` turns into one.
    labels : sequence of int
        Class index of each image.
    class_names : sequence of str
    per_class : int
        Filters per class (the papers: 93).
    seed : int
        Seed of the prototype draw.
    config : FilterConfig or sequence of FilterConfig, optional
        Filter options (default: the radio papers' best setting); several make a mixed bank.
    preprocessing : Preprocessing, optional
        Applied to prototypes and later to every described image.
    rotations_deg : sequence of float
        Rotation set used when describing.
    read : callable, optional
        Turns an element of ``images`` into an array (e.g. a dataset reader).
    sources : sequence of str, optional
        Names of the images, kept as the filters' sources.
    progress : callable, optional
        Called with 1 after each filter is configured.
    extras : sequence of str
        :mod:`cosfire.morphology` groups the bank appends to every descriptor.

    Raises
    ------
    ValueError
        If a class has fewer usable prototypes than ``per_class``.

    Examples
    --------
    >>> import numpy as np
    >>> blobs = [np.pad(np.ones((3, 3), np.float32), 30) for _ in range(4)]
    >>> bank = configure_bank(blobs, [0, 0, 1, 1], class_names=("a", "b"), per_class=1,
    ...                       config=FilterConfig(sigma=2.0, rhos=(0, 4)))
    >>> bank.n_filters, bank.filter_class
    (2, (0, 1))
    """
    configs = _config_list(config)
    preprocessing = Preprocessing() if preprocessing is None else preprocessing
    labels = np.asarray(labels, dtype=np.int64)
    if labels.shape != (len(images),):
        raise ValueError(f"labels has {labels.size} entries for {len(images)} images")
    if per_class < 1:
        raise ValueError(f"per_class must be >= 1, got {per_class}")
    rng = np.random.default_rng(seed)
    filters: list[CosfireFilter] = []
    filter_class: list[int] = []
    filter_index: list[int] = []
    skipped: list[str] = []
    for class_index, class_name in enumerate(class_names):
        candidates = np.flatnonzero(labels == class_index)
        rng.shuffle(candidates)
        made = 0
        for candidate in candidates:
            if made == per_class:
                break
            item = images[candidate]
            image = preprocess(read(item) if read is not None else item, preprocessing)
            source = sources[candidate] if sources is not None else f"image {candidate}"
            try:
                bank_filter = configure_with(
                    image,
                    None,
                    configs[made % len(configs)],
                    label=str(class_name),
                    source=str(source),
                )
            except NoTuplesError:
                skipped.append(str(source))
                continue
            filters.append(bank_filter)
            filter_class.append(class_index)
            filter_index.append(made)
            made += 1
            if progress is not None:
                progress(1)
        if made < per_class:
            raise ValueError(
                f"class {class_name!r} has only {made} usable prototypes of {candidates.size} "
                f"images but {per_class} filters per class were asked for; lower --per-class "
                "or t1"
            )
    return FilterBank(
        filters=tuple(filters),
        class_names=tuple(str(c) for c in class_names),
        filter_class=tuple(filter_class),
        filter_index=tuple(filter_index),
        preprocessing=preprocessing,
        rotations_deg=tuple(rotations_deg),
        metadata={
            "config": configs[0].to_dict() if len(configs) == 1 else [c.to_dict() for c in configs],
            "seed": seed,
            "per_class": per_class,
            "skipped_prototypes": skipped,
        },
        extras=tuple(extras),
    )


def _config_list(config: FilterConfig | Sequence[FilterConfig] | None) -> list[FilterConfig]:
    """The configs a bank's filters take in turn (validated: at least one, all FilterConfig)."""
    if config is None:
        return [FilterConfig()]
    if isinstance(config, FilterConfig):
        return [config]
    configs = list(config)
    if not configs or not all(isinstance(c, FilterConfig) for c in configs):
        raise ValueError("config must be a FilterConfig or a non-empty sequence of them")
    return configs
