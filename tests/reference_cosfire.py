"""Plain-loop reference implementation of COSFIRE application, for checking the engine.

Written straight from the equations (method notes, section 1) with explicit loops and no
shared code with the engine beyond the input-filter responses: blur window by window, shift
pixel by pixel, weighted geometric mean as a product of powers, maximum over rotations.
Covers both MATLAB conventions: the blur rules "radius" and "exact" (B-COSFIRE), shifts
rounded, truncated ("fix") or bilinear, and reads beyond the edge as 0 or wrapped around.
Slow on purpose; never imported by the package.
"""

from __future__ import annotations

import math

import numpy as np

from cosfire.filter import CosfireFilter
from cosfire.input_filters import threshold_response


def matlab_round(value: float) -> int:
    """Round half away from zero after snapping to 1e-9 (the engine's documented rule)."""
    value = round(value, 9)
    return int(math.floor(abs(value) + 0.5)) * (1 if value >= 0 else -1)


def matlab_fix(value: float) -> int:
    """Truncate toward zero after snapping to 1e-9 (the engine's documented rule)."""
    return int(math.trunc(round(value, 9)))


def reference_blur(
    response: np.ndarray, rho: float, sigma0: float, alpha: float, kind: str, rule: str = "radius"
):
    if rule == "radius":
        radius = max(0, matlab_round((sigma0 + alpha * rho) / 2.0))
        sigma = radius / 3.0
    else:  # B-COSFIRE: sigma (sigma0 + alpha rho) / 6 on fspecial's round(6 sigma) px, centred
        radius = max(0, matlab_round(sigma0 + alpha * rho)) // 2
        sigma = (sigma0 + alpha * rho) / 6.0
    if radius == 0:
        return response.astype(np.float64)
    weights = {
        (dy, dx): math.exp(-(dy * dy + dx * dx) / (2 * sigma * sigma))
        for dy in range(-radius, radius + 1)
        for dx in range(-radius, radius + 1)
    }
    total = sum(weights.values())
    height, width = response.shape
    out = np.zeros((height, width))
    for y in range(height):
        for x in range(width):
            best = 0.0
            acc = 0.0
            for (dy, dx), weight in weights.items():
                yy, xx = y - dy, x - dx
                value = float(response[yy, xx]) if 0 <= yy < height and 0 <= xx < width else 0.0
                if kind == "max":
                    if weight >= 1e-12:
                        best = max(best, value * weight)
                else:
                    acc += value * weight / total
            out[y, x] = best if kind == "max" else acc
    return out


def reference_apply(
    cosfire_filter: CosfireFilter, image: np.ndarray, rotations_deg=(0.0,)
) -> np.ndarray:
    """Return the filter's rotation-invariant response map, computed with plain loops."""
    params = cosfire_filter.params
    height, width = image.shape
    rhos = [part.rho for part in cosfire_filter.tuples]
    largest = max(rhos)
    if not params.weighted or largest == 0:
        weights = [1.0] * len(rhos)
    else:
        if params.weight_rule == "radio":
            width_sigma = largest / 3.0
        else:
            width_sigma = math.sqrt(-(largest**2) / (2 * math.log(0.5)))
        weights = [math.exp(-(rho**2) / (2 * width_sigma**2)) for rho in rhos]
    blurred = []
    for part in cosfire_filter.tuples:
        response = threshold_response(part.channel.response(image), params.t1)
        blurred.append(
            reference_blur(
                response, part.rho, params.sigma0, params.alpha, params.blur, params.blur_rule
            )
        )

    def read(values: np.ndarray, row: float, col: float) -> float:
        """Value at a (possibly fractional) position: bilinear; 0 outside the image, or read
        from the opposite edge with border "wrap"."""
        row, col = round(row, 9), round(col, 9)
        top, left = math.floor(row), math.floor(col)
        total = 0.0
        for yy, wy in ((top, 1 - (row - top)), (top + 1, row - top)):
            for xx, wx in ((left, 1 - (col - left)), (left + 1, col - left)):
                if wy * wx > 0 and params.border == "wrap":
                    total += wy * wx * values[yy % height, xx % width]
                elif wy * wx > 0 and 0 <= yy < height and 0 <= xx < width:
                    total += wy * wx * values[yy, xx]
        return total

    out = np.zeros((height, width))
    for psi_deg in rotations_deg:
        psi = math.radians(psi_deg)
        shifts = [
            (-part.rho * math.sin(part.phi + psi), part.rho * math.cos(part.phi + psi))
            for part in cosfire_filter.tuples
        ]
        if params.shift != "bilinear":  # whole pixels: the offset is rounded, not the position
            to_pixels = matlab_round if params.shift == "round" else matlab_fix
            shifts = [(to_pixels(dy), to_pixels(dx)) for dy, dx in shifts]
        for y in range(height):
            for x in range(width):
                product = 1.0
                for (dy, dx), weight, values in zip(shifts, weights, blurred, strict=True):
                    value = read(values, y + dy, x + dx)
                    product *= value**weight
                    if product == 0.0:
                        break
                response_value = product ** (1.0 / sum(weights))
                out[y, x] = max(out[y, x], response_value)
    return out
