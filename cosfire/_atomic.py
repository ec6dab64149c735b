"""File safety: atomic writes (a crash leaves the old file or the new one, never half of one)
and the one format-version check every loader makes."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO]:
    """Yield a temporary file beside ``path`` that replaces ``path`` when the block ends.

    The temporary file lives in the same folder so that ``os.replace`` is atomic; on an
    exception it is removed and ``path`` is left untouched.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_write(target, "w") as fh:
    ...     _ = fh.write("hello")
    >>> target.read_text()
    'hello'
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        # mkstemp makes the file private (0600); give it the permissions a new file would get
        os.chmod(tmp_name, 0o666 & ~_umask())
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def check_format_version(version: int, supported: int, *, what: str, source: str) -> None:
    """Refuse a file written by a newer release: one message for every file format.

    Parameters
    ----------
    version : int
        The ``format_version`` the file says it has.
    supported : int
        The newest version this release reads.
    what : str
        What the file is, with its article, e.g. ``"a filter bank"``.
    source : str
        How to name the file in the message, e.g. its quoted path.

    Raises
    ------
    ValueError
        If ``version`` is newer than ``supported``; the message asks for an upgrade.

    Examples
    --------
    >>> check_format_version(1, 2, what="an archive", source="'a.chx'")
    >>> check_format_version(3, 2, what="an archive", source="'a.chx'")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: 'a.chx' is an archive of format version 3, newer than ...; upgrade cosfire-hash
    """
    if version > supported:
        raise ValueError(
            f"{source} is {what} of format version {version}, newer than this cosfire-hash "
            f"reads ({supported}); upgrade cosfire-hash"
        )
