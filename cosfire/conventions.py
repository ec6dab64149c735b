"""The authors' two MATLAB code bases, as named sets of application options.

COSFIRE filters were published with two MATLAB implementations that apply the same filters
differently (method notes, section 1). A *convention* names one of them; pass it as
``convention=`` to :func:`cosfire.configure`, :func:`cosfire.configure_gabor` or
:class:`cosfire.FilterConfig`, and options passed explicitly override it:

* ``"cosfire2013"``: the TPAMI 2013 COSFIRE code that the radio-galaxy papers build on;
* ``"bcosfire"``: the 2015 B-COSFIRE vessel-delineation code. With it, cosfire reproduces the
  authors' MATLAB output on DRIVE image 01_test (``examples/vessel_delineation.py --drive``).

Examples
--------
>>> dict(CONVENTIONS["bcosfire"])["shift"], dict(CONVENTIONS["cosfire2013"])["shift"]
('round', 'fix')
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Literal

__all__ = ["APPLICATION_DEFAULTS", "CONVENTIONS", "Convention"]

Convention = Literal["bcosfire", "cosfire2013"]

#: The application options of the authors' MATLAB code bases (method notes, section 1):
#: ``"cosfire2013"``, the TPAMI 2013 code the radio papers build on: integer blur radius
#: ``round((sigma0 + alpha rho) / 2)`` with sigma ``radius / 3``, max blur, shifts truncated
#: toward zero (``fix``), weighted geometric mean with ``sw = max(rho) / 3``, zero outside the
#: image; ``"bcosfire"``, the 2015 vessel code: Gaussian sum blur of sigma
#: ``(sigma0 + alpha rho) / 6``, shifts rounded, plain geometric mean, circular shifts.
CONVENTIONS: MappingProxyType[str, MappingProxyType[str, Any]] = MappingProxyType(
    {
        "cosfire2013": MappingProxyType(
            {
                "blur": "max",
                "blur_rule": "radius",
                "shift": "fix",
                "weighted": True,
                "weight_rule": "radio",
                "border": "zero",
            }
        ),
        "bcosfire": MappingProxyType(
            {
                "blur": "sum",
                "blur_rule": "exact",
                "shift": "round",
                "weighted": False,
                "weight_rule": "half",  # B-COSFIRE's rule, should weights be switched on
                "border": "wrap",
            }
        ),
    }
)

#: The application options that a convention sets, with their values when none is named.
APPLICATION_DEFAULTS: MappingProxyType[str, Any] = MappingProxyType(
    {
        "blur": "max",
        "blur_rule": "radius",
        "shift": "bilinear",
        "weighted": True,
        "weight_rule": "radio",
        "border": "zero",
    }
)
