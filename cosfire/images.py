"""Reading cutouts: PNG/JPEG/TIFF/BMP through OpenCV, FITS through astropy.

Every reader returns a 2-D float32 array. Integer images are scaled to [0, 1] by their type's
range (8-bit / 255, 16-bit / 65535); float images (TIFF, FITS) keep their values. Colour
images are converted to grey with an :class:`ImageWarning`. FITS data are squeezed to 2-D
(length-1 axes dropped) and NaN/inf become 0 with a warning. Anything that cannot be read
raises :class:`ImageReadError`, whose message names the file and says what to do.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import cv2
import numpy as np

__all__ = [
    "FITS_SUFFIXES",
    "IMAGE_SUFFIXES",
    "ImageReadError",
    "ImageWarning",
    "iter_image_files",
    "load_image",
]

RASTER_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz")
IMAGE_SUFFIXES = RASTER_SUFFIXES + FITS_SUFFIXES


class ImageReadError(ValueError):
    """An input image could not be read; the message names the file and the fix."""


class ImageWarning(UserWarning):
    """An image was read but changed on the way (colour to grey, NaN to 0)."""


def _suffix(name: str) -> str:
    lowered = name.lower()
    for suffix in FITS_SUFFIXES:
        if lowered.endswith(suffix):
            return suffix
    return os.path.splitext(lowered)[1]


def _decode_raster(data: bytes, name: str) -> np.ndarray:
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if decoded is None:
        raise ImageReadError(
            f"'{name}' is not a readable image (corrupt, truncated, or not really "
            f"{_suffix(name) or 'an image'}); re-export it or leave it out"
        )
    if decoded.ndim == 3:
        channels = decoded.shape[2]
        warnings.warn(
            f"'{name}' has {channels} colour channels; converted to grey",
            ImageWarning,
            stacklevel=3,
        )
        if channels == 4:
            decoded = cv2.cvtColor(decoded, cv2.COLOR_BGRA2GRAY)
        elif channels == 3:
            decoded = cv2.cvtColor(decoded, cv2.COLOR_BGR2GRAY)
        else:
            decoded = decoded[..., 0]
    if decoded.dtype == np.uint8:
        return decoded.astype(np.float32) / 255.0
    if decoded.dtype == np.uint16:
        return decoded.astype(np.float32) / 65535.0
    return _finite(decoded.astype(np.float32), name)


def _finite(image: np.ndarray, name: str) -> np.ndarray:
    bad = ~np.isfinite(image)
    if bad.any():
        warnings.warn(
            f"'{name}' has {int(bad.sum())} NaN/inf pixels; set to 0", ImageWarning, stacklevel=4
        )
        image = np.where(bad, 0.0, image).astype(np.float32)
    return image


def _decode_fits(data: bytes, name: str) -> np.ndarray:
    from astropy.io import fits

    try:
        with fits.open(io.BytesIO(data), memmap=False) as hdus:
            arrays = [hdu.data for hdu in hdus if getattr(hdu, "data", None) is not None]
            arrays = [a for a in arrays if isinstance(a, np.ndarray) and a.ndim >= 2]
            if not arrays:
                raise ImageReadError(f"'{name}' holds no image data in any HDU")
            image = np.squeeze(np.asarray(arrays[0], dtype=np.float64))
    except ImageReadError:
        raise
    except Exception as error:  # astropy raises many types for broken files
        raise ImageReadError(
            f"'{name}' is not a readable FITS file ({error}); check the download or leave it out"
        ) from error
    if image.ndim != 2:
        raise ImageReadError(
            f"'{name}' has image axes of shape {image.shape} after dropping length-1 axes; "
            "cosfire-hash needs one 2-D plane: slice the cube (e.g. take one frequency plane) "
            "and save that"
        )
    return _finite(image.astype(np.float32), name)


def load_image(source: str | os.PathLike[str] | bytes, *, name: str | None = None) -> np.ndarray:
    """Return the image in ``source`` as a 2-D float32 array.

    Parameters
    ----------
    source : path or bytes
        An image file, or its bytes (then ``name`` gives the format by its extension).
    name : str, optional
        Name used in messages and for the format of ``bytes``.

    Raises
    ------
    ImageReadError
        Missing, empty, corrupt, unsupported or non-2-D images.

    Examples
    --------
    >>> import cv2, numpy as np
    >>> ok, png = cv2.imencode(".png", np.full((4, 4), 255, np.uint8))
    >>> load_image(png.tobytes(), name="white.png").max()
    np.float32(1.0)
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        label = name or "<bytes>"
    else:
        path = Path(source)
        label = name or str(path)
        if not path.exists():
            raise ImageReadError(f"'{label}' does not exist; check the path")
        if path.is_dir():
            raise ImageReadError(f"'{label}' is a folder, not an image")
        data = path.read_bytes()
    if not data:
        raise ImageReadError(f"'{label}' is empty (0 bytes); remove it or download it again")
    suffix = _suffix(label)
    if suffix in FITS_SUFFIXES:
        return _decode_fits(data, label)
    if suffix in RASTER_SUFFIXES or not suffix:
        image = _decode_raster(data, label)
        if image.ndim != 2:
            raise ImageReadError(f"'{label}' is not a 2-D image (shape {image.shape})")
        return image
    raise ImageReadError(
        f"'{label}' has an unsupported extension {suffix!r}; use one of {', '.join(IMAGE_SUFFIXES)}"
    )


def iter_image_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Return the supported image files directly inside ``folder``, sorted, hidden ones skipped.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("b.png", "a.fits", ".hidden.png", "notes.txt"):
    ...     _ = (root / name).write_bytes(b"x")
    >>> [p.name for p in iter_image_files(root)]
    ['a.fits', 'b.png']
    """
    root = Path(folder)
    return sorted(
        path
        for path in root.iterdir()
        if path.is_file() and not path.name.startswith(".") and _suffix(path.name) in IMAGE_SUFFIXES
    )
