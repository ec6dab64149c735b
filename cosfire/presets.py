"""Named bank recipes: the papers' settings, and the one recommended for small galaxies.

A preset fixes what a bank is built from: the DoG sigmas its filters take in turn (several
make a *mixed* bank), the smoothing before the noise clipping, the number of filters per
class and the :mod:`cosfire.morphology` measurements appended to every descriptor. Every other
filter option keeps :class:`cosfire.FilterConfig`'s default (the radio papers' values).

* ``"papers"``: the radio papers' bank (DoG sigma 5, 93 filters per class, no smoothing), the
  default, so that numbers mean what the papers' numbers mean;
* ``"recommended"``: the bank chosen by cross-validation on the FIRST training and validation
  galaxies (``benchmarks/bench_descriptor_ablation.py``; the FIRST report gives its numbers).

Examples
--------
>>> BANK_PRESETS["papers"].sigmas, BANK_PRESETS["papers"].per_class
((5.0,), 93)
>>> [c.sigma for c in bank_preset("recommended").filter_configs()]
[2.0, 3.0, 5.0]
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import MappingProxyType

from cosfire.configure import FilterConfig
from cosfire.morphology import morphology_names
from cosfire.preprocess import Preprocessing

__all__ = ["BANK_PRESETS", "SYNTHETIC_PER_CLASS", "BankPreset", "bank_preset", "default_per_class"]

#: filters per class on the embedded synthetic set when none is asked for: its classes hold 30
#: training galaxies, fewer than a preset's 93 or 140
SYNTHETIC_PER_CLASS = 10


@dataclass(frozen=True)
class BankPreset:
    """A named bank recipe (see the module docstring)."""

    name: str
    summary: str
    sigmas: tuple[float, ...] = (5.0,)
    smooth_px: float | None = None
    per_class: int = 93
    extras: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "sigmas", tuple(float(s) for s in self.sigmas))
        object.__setattr__(self, "extras", tuple(self.extras))
        if not self.sigmas or min(self.sigmas) <= 0:
            raise ValueError(f"preset {self.name!r}: sigmas must be > 0 px, got {self.sigmas}")
        if self.per_class < 1:
            raise ValueError(f"preset {self.name!r}: per_class must be >= 1")
        if self.extras:
            morphology_names(self.extras)

    def filter_configs(self, base: FilterConfig | None = None) -> list[FilterConfig]:
        """Return one FilterConfig per DoG sigma (``base`` gives every other option)."""
        base = FilterConfig() if base is None else base
        return [dataclasses.replace(base, sigma=sigma) for sigma in self.sigmas]

    def preprocessing(self, *, crop_px: int | None = 150, noise_clip: float | None = 3.0):
        """Return the preprocessing of the preset (crop and clipping as given)."""
        return Preprocessing(crop_px=crop_px, noise_clip=noise_clip, smooth_px=self.smooth_px)


BANK_PRESETS: MappingProxyType[str, BankPreset] = MappingProxyType(
    {
        "papers": BankPreset(
            "papers",
            "the radio papers' bank: DoG sigma 5, 93 filters per class, no smoothing",
        ),
        "recommended": BankPreset(
            "recommended",
            "a mixed bank (DoG sigmas 2, 3, 5 in turn) after 1 px smoothing, 140 filters per "
            "class, with the radial flux profile and its angular harmonics appended (not COSFIRE "
            "responses)",
            sigmas=(2.0, 3.0, 5.0),
            smooth_px=1.0,
            per_class=140,
            extras=("radial", "angular"),
        ),
    }
)


def bank_preset(name: str) -> BankPreset:
    """Return the preset called ``name``, or say which exist.

    Examples
    --------
    >>> bank_preset("papers").smooth_px is None
    True
    """
    try:
        return BANK_PRESETS[name]
    except KeyError:
        raise ValueError(
            f"unknown bank preset {name!r}; choose one of {', '.join(BANK_PRESETS)}"
        ) from None


def default_per_class(dataset: str, preset: str = "papers") -> int:
    """Return the filters per class of a bank when none is asked for.

    The preset's (``papers``: 93), or :data:`SYNTHETIC_PER_CLASS` on the embedded synthetic
    set. ``cosfire-hash configure``, ``cosfire-hash pipeline`` and
    ``cli.pipeline.PipelineConfig`` all take it from here.

    Examples
    --------
    >>> default_per_class("first"), default_per_class("first", "recommended")
    (93, 140)
    >>> default_per_class("synthetic", "recommended")
    10
    """
    recipe = bank_preset(preset)  # refuses an unknown preset on any dataset
    return SYNTHETIC_PER_CLASS if dataset == "synthetic" else recipe.per_class
