"""Errors of the click-free run, search, evaluation and indexing functions of ``cli``.

Each is a :class:`ValueError` whose message tells the user what to change; the commands show
them as usage errors (``Usage: ...`` and exit status 2), a notebook sees the exception itself.
No click here: these reach Python users of :func:`cli.searching.search_archive` and friends.
"""

from __future__ import annotations

__all__ = ["ArchiveFileMismatch", "MissingBank", "UnsuitableQueries", "UsageProblem"]


class UsageProblem(ValueError):
    """What was asked cannot be done as asked (the commands show it as a usage error)."""


class UnsuitableQueries(UsageProblem):
    """The queries or arguments asked for cannot be used with this archive or model.

    Examples
    --------
    >>> isinstance(UnsuitableQueries("-k 50 is larger than the archive"), UsageProblem)
    True
    """


class MissingBank(UnsuitableQueries):
    """The archive has no filter bank, and what was asked needs one (an image query, say)."""


class ArchiveFileMismatch(UsageProblem):
    """A file an archive records (its filter bank or hashing model) moved or changed.

    Attributes
    ----------
    option : str
        The command-line option that passes the file's current location (``--bank`` or
        ``--model``); in Python, the matching ``bank_path`` / ``model_path`` argument.
    """

    def __init__(self, message: str, option: str) -> None:
        super().__init__(message)
        self.option = option
