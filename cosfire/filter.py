"""The COSFIRE filter: a set of tuples (input channel, rho, phi) plus how to apply them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from cosfire.blur import BlurKind, BlurRule
from cosfire.input_filters import Channel, channel_from_dict

__all__ = [
    "BorderRule",
    "CosfireFilter",
    "CosfireTuple",
    "FilterParams",
    "ShiftRule",
    "WeightRule",
]

WeightRule = Literal["radio", "half"]
ShiftRule = Literal["round", "bilinear", "fix"]
BorderRule = Literal["zero", "wrap"]

#: Fields added after format 1, written to JSON only when they differ from these defaults so
#: that filters and banks that do not use them keep their bytes and checksums.
_LATER_DEFAULTS: dict[str, Any] = {"blur_rule": "radius", "border": "zero"}


@dataclass(frozen=True)
class CosfireTuple:
    """One part of a COSFIRE filter: channel ``channel`` responds at distance ``rho`` (pixels)
    and angle ``phi`` (radians, counter-clockwise from the x axis, y up) from the centre."""

    channel: Channel
    rho: float
    phi: float

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict."""
        return {"channel": self.channel.to_dict(), "rho": self.rho, "phi": self.phi}

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> CosfireTuple:
        """Inverse of :meth:`to_dict`."""
        return cls(channel_from_dict(spec["channel"]), float(spec["rho"]), float(spec["phi"]))


@dataclass(frozen=True)
class FilterParams:
    """How a filter's tuples are combined when it is applied.

    Parameters
    ----------
    t1 : float
        Input responses below ``t1 * max`` are set to 0.
    sigma0, alpha : float
        Blur of a tuple at distance rho, by ``blur_rule`` (see :mod:`cosfire.blur`).
    blur : {"max", "sum"}
        Weighted-maximum blur (2013 paper) or Gaussian convolution.
    blur_rule : {"radius", "exact"}
        ``"radius"``: radius ``round((sigma0 + alpha * rho) / 2)`` px and sigma ``radius / 3``
        (the 2013 COSFIRE code, the radio papers); ``"exact"``: sigma
        ``(sigma0 + alpha * rho) / 6`` (the B-COSFIRE code).
    weighted : bool
        Weighted geometric mean (True, the 2013 paper) or plain geometric mean.
    weight_rule : {"radio", "half"}
        Width of the tuple weights ``exp(-rho**2 / (2 * s**2))``: ``"radio"`` uses
        ``s = max(rho) / 3`` (the radio-galaxy papers), ``"half"`` gives the outermost tuple the
        weight 0.5 (B-COSFIRE).
    t3 : float
        Output values below ``t3 * max`` are set to 0 (0 = off). Does not change descriptors.
    shift : {"round", "bilinear", "fix"}
        How a tuple's map is shifted by (rho, phi + psi): ``"round"`` to whole pixels, halves
        away from zero (the B-COSFIRE code), ``"fix"`` to whole pixels truncated toward zero
        (MATLAB ``fix``, the 2013 COSFIRE code), ``"bilinear"`` by the exact sub-pixel amount,
        interpolating between the four nearest pixels (smaller errors for small rho and
        rotations between quarter turns).
    border : {"zero", "wrap"}
        What a shifted map reads beyond the image edge: 0 (empty sky), or the opposite edge
        (``"wrap"``, MATLAB's ``circshift`` in the B-COSFIRE code; whole-pixel shifts only).
        Blurring always counts outside pixels as 0.

    Examples
    --------
    >>> FilterParams(shift="fix", border="wrap").to_dict()["border"]
    'wrap'
    >>> "border" in FilterParams().to_dict()  # defaults of later fields stay out of files
    False
    """

    t1: float = 0.05
    sigma0: float = 0.5
    alpha: float = 0.10
    blur: BlurKind = "max"
    weighted: bool = True
    weight_rule: WeightRule = "radio"
    t3: float = 0.0
    shift: ShiftRule = "bilinear"
    blur_rule: BlurRule = "radius"
    border: BorderRule = "zero"

    def __post_init__(self) -> None:
        if not 0 <= self.t1 < 1:
            raise ValueError(f"t1 must lie in [0, 1), got {self.t1}")
        if self.sigma0 < 0 or self.alpha < 0:
            raise ValueError(f"sigma0 and alpha must be >= 0, got {self.sigma0}, {self.alpha}")
        if self.blur not in ("max", "sum"):
            raise ValueError(f"blur must be 'max' or 'sum', got {self.blur!r}")
        if self.weight_rule not in ("radio", "half"):
            raise ValueError(f"weight_rule must be 'radio' or 'half', got {self.weight_rule!r}")
        if not 0 <= self.t3 < 1:
            raise ValueError(f"t3 must lie in [0, 1), got {self.t3}")
        if self.shift not in ("round", "bilinear", "fix"):
            raise ValueError(f"shift must be 'round', 'bilinear' or 'fix', got {self.shift!r}")
        if self.blur_rule not in ("radius", "exact"):
            raise ValueError(f"blur_rule must be 'radius' or 'exact', got {self.blur_rule!r}")
        if self.border not in ("zero", "wrap"):
            raise ValueError(f"border must be 'zero' or 'wrap', got {self.border!r}")
        if self.border == "wrap" and self.shift == "bilinear":
            raise ValueError(
                "border='wrap' needs whole-pixel shifts; use shift='round' or 'fix' with it"
            )

    @property
    def format_version(self) -> int:
        """1 for parameters older readers know, 2 when a later option is in use."""
        later = self.shift == "fix" or any(
            getattr(self, name) != default for name, default in _LATER_DEFAULTS.items()
        )
        return 2 if later else 1

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict; later fields only when they differ from their defaults."""
        spec = dict(self.__dict__)
        for name, default in _LATER_DEFAULTS.items():
            if spec[name] == default:
                del spec[name]
        return spec


@dataclass(frozen=True)
class CosfireFilter:
    """A configured COSFIRE filter (immutable).

    Attributes
    ----------
    tuples : tuple of CosfireTuple
        The filter's parts.
    params : FilterParams
        How the parts are blurred and combined.
    center : tuple of int
        (row, column) of the point of interest in the prototype.
    label : str or None
        Class of the prototype, if known.
    source : str or None
        Where the prototype came from (a path), if known.
    configured_with : dict
        The configuration options (sigma, rhos, t2, ...), kept for provenance.

    Examples
    --------
    >>> from cosfire.input_filters import DoGChannel
    >>> parts = (CosfireTuple(DoGChannel(2.0), 0.0, 0.0), CosfireTuple(DoGChannel(2.0), 5.0, 0.0))
    >>> one = CosfireFilter(parts, FilterParams()).subset([1])
    >>> [part.rho for part in one.tuples]
    [5.0]
    """

    tuples: tuple[CosfireTuple, ...]
    params: FilterParams = field(default_factory=FilterParams)
    center: tuple[int, int] = (0, 0)
    label: str | None = None
    source: str | None = None
    configured_with: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if len(self.tuples) == 0:
            raise ValueError("a COSFIRE filter needs at least one tuple")
        object.__setattr__(self, "tuples", tuple(self.tuples))
        object.__setattr__(self, "center", (int(self.center[0]), int(self.center[1])))

    @property
    def rhos(self) -> np.ndarray:
        """Distances of the tuples from the centre, pixels (float64)."""
        return np.array([part.rho for part in self.tuples], dtype=np.float64)

    @property
    def phis(self) -> np.ndarray:
        """Angles of the tuples, radians (float64)."""
        return np.array([part.phi for part in self.tuples], dtype=np.float64)

    @property
    def channels(self) -> tuple[Channel, ...]:
        """The distinct input channels the filter uses, in first-use order."""
        return tuple(dict.fromkeys(part.channel for part in self.tuples))

    @property
    def support_radius(self) -> float:
        """Largest tuple distance from the centre, pixels."""
        return float(self.rhos.max())

    def weights(self) -> np.ndarray:
        """Return the tuple weights of the geometric mean, normalised to sum 1 (float64).

        Examples
        --------
        >>> from cosfire.input_filters import DoGChannel
        >>> parts = tuple(CosfireTuple(DoGChannel(2.0), r, 0.0) for r in (0.0, 3.0))
        >>> CosfireFilter(parts, FilterParams(weight_rule="half")).weights().round(4).tolist()
        [0.6667, 0.3333]
        """
        rhos = self.rhos
        largest = rhos.max()
        if not self.params.weighted or largest == 0:
            raw = np.ones_like(rhos)
        else:
            if self.params.weight_rule == "radio":
                width = largest / 3.0
            else:  # the outermost tuple gets weight 0.5
                width = math.sqrt(-(largest**2) / (2.0 * math.log(0.5)))
            raw = np.exp(-(rhos**2) / (2.0 * width**2))
        return raw / raw.sum()

    def subset(self, indices: Sequence[int] | np.ndarray) -> CosfireFilter:
        """Return a filter made of the tuples at ``indices`` (same parameters)."""
        chosen = tuple(self.tuples[int(i)] for i in np.atleast_1d(np.asarray(indices)))
        return replace(self, tuples=chosen)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict; :meth:`from_dict` restores an equal filter."""
        return {
            "tuples": [part.to_dict() for part in self.tuples],
            "params": self.params.to_dict(),
            "center": list(self.center),
            "label": self.label,
            "source": self.source,
            "configured_with": self.configured_with,
        }

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> CosfireFilter:
        """Inverse of :meth:`to_dict`."""
        return cls(
            tuples=tuple(CosfireTuple.from_dict(part) for part in spec["tuples"]),
            params=FilterParams(**spec["params"]),
            center=tuple(spec["center"]),
            label=spec.get("label"),
            source=spec.get("source"),
            configured_with=dict(spec.get("configured_with", {})),
        )
