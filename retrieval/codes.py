"""Binary codes: packing to bytes and Hamming distances.

Codes of ``bits`` bits are packed most-significant-bit first into ``ceil(bits / 8)`` bytes
(as ``np.packbits``); the unused low bits of the last byte are 0, so Hamming distances between
packed codes equal those between the unpacked ones.
"""

from __future__ import annotations

import numpy as np

__all__ = ["as_packed", "hamming_distances", "n_bytes", "pack_codes", "unpack_codes"]

_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def n_bytes(bits: int) -> int:
    """Return the bytes needed for ``bits`` bits.

    Examples
    --------
    >>> n_bytes(36), n_bytes(64)
    (5, 8)
    """
    if bits <= 0:
        raise ValueError(f"bits must be a positive integer, got {bits}")
    return (bits + 7) // 8


def pack_codes(codes: np.ndarray) -> np.ndarray:
    """Return ``(n, bits)`` binary codes (bool or 0/1) packed to uint8 ``(n, ceil(bits/8))``.

    Examples
    --------
    >>> pack_codes(np.array([[1, 0, 1]])).tolist()
    [[160]]
    """
    values = np.asarray(codes)
    if values.ndim != 2:
        raise ValueError(f"codes must be 2-D (n, bits), got shape {values.shape}")
    if values.dtype != bool:
        if not np.all((values == 0) | (values == 1)):
            raise ValueError("codes must be binary (bool or 0/1 values)")
        values = values.astype(bool)
    return np.packbits(values, axis=1)


def unpack_codes(packed: np.ndarray, bits: int) -> np.ndarray:
    """Return packed codes as bool ``(n, bits)``.

    Examples
    --------
    >>> unpack_codes(np.array([[160]], np.uint8), 3).astype(int).tolist()
    [[1, 0, 1]]
    """
    values = np.asarray(packed, dtype=np.uint8)
    if values.ndim != 2 or values.shape[1] != n_bytes(bits):
        raise ValueError(
            f"packed {bits}-bit codes need shape (n, {n_bytes(bits)}), got {values.shape}"
        )
    return np.unpackbits(values, axis=1, count=bits).astype(bool)


def as_packed(codes: np.ndarray, bits: int) -> np.ndarray:
    """Return ``codes`` packed: bool/0-1 ``(n, bits)`` are packed, uint8 ``(n, bytes)`` checked.

    Examples
    --------
    >>> as_packed(np.array([[True] * 9]), 9).tolist()
    [[255, 128]]
    """
    values = np.asarray(codes)
    if values.ndim != 2:
        raise ValueError(f"codes must be 2-D, got shape {values.shape}")
    width = n_bytes(bits)
    if values.dtype == np.uint8 and values.shape[1] == width and (bits % 8 == 0 or width != bits):
        if bits % 8 and np.any(values[:, -1] & np.uint8((1 << (8 - bits % 8)) - 1)):
            raise ValueError(f"packed {bits}-bit codes have bits set beyond bit {bits}")
        return np.ascontiguousarray(values)
    if values.shape[1] != bits:
        raise ValueError(
            f"expected {bits}-bit codes as (n, {bits}) bool/0-1 or (n, {width}) packed uint8, "
            f"got shape {values.shape} of {values.dtype}"
        )
    return pack_codes(values)


def hamming_distances(queries_packed: np.ndarray, database_packed: np.ndarray) -> np.ndarray:
    """Return the Hamming distance of every query to every database code (int32, (nq, nd)).

    Examples
    --------
    >>> a = pack_codes(np.array([[1, 1, 0, 0]]))
    >>> b = pack_codes(np.array([[1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 0, 0]]))
    >>> hamming_distances(a, b).tolist()
    [[0, 4, 1]]
    """
    queries = np.asarray(queries_packed, dtype=np.uint8)
    database = np.asarray(database_packed, dtype=np.uint8)
    if queries.shape[1] != database.shape[1]:
        raise ValueError(
            f"queries have {queries.shape[1]} bytes per code, the database {database.shape[1]}"
        )
    out = np.empty((queries.shape[0], database.shape[0]), dtype=np.int32)
    rows_per_block = max(1, 2**22 // max(1, database.size))
    for start in range(0, queries.shape[0], rows_per_block):
        block = queries[start : start + rows_per_block, None, :] ^ database[None, :, :]
        out[start : start + rows_per_block] = _POPCOUNT[block].sum(axis=2, dtype=np.int32)
    return out
