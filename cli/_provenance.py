"""Loading the filter bank and hashing model an archive was built with, verified by SHA-256."""

from __future__ import annotations

from pathlib import Path

from cli.errors import ArchiveFileMismatch

__all__ = ["file_sha256", "archive_bank_and_model"]


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of a file's bytes (pooch's, which checks the FIRST download too)."""
    import pooch

    return pooch.file_hash(str(path), alg="sha256")


def _verified(
    recorded_path: str, recorded_sha: str, override: Path | None, what: str, option: str
) -> Path:
    path = override if override is not None else Path(recorded_path)
    if not path.is_file():
        raise ArchiveFileMismatch(
            f"the archive's {what} '{recorded_path}' is not there; pass its current location "
            f"with {option} (in Python: {option[2:]}_path=)",
            option,
        )
    if recorded_sha and file_sha256(path) != recorded_sha:
        raise ArchiveFileMismatch(
            f"{what} '{path}' is not the one this archive was built with (SHA-256 differs); "
            f"pass the right file with {option} (in Python: {option[2:]}_path=) or rebuild "
            "the archive",
            option,
        )
    return path


def archive_bank_and_model(archive, bank_override: Path | None, model_override: Path | None):
    """Return (FilterBank or None, model) of ``archive``, checking both files' SHA-256.

    The bank is None for archives of CNN models, which hash images directly, and for archives
    indexed from descriptors without a bank (searched by descriptors and their own items).
    """
    from cosfire.bank import load_bank
    from hashing.model import load_model

    model_path = _verified(
        archive.model_path, archive.model_sha256, model_override, "hashing model", "--model"
    )
    if not archive.bank_path:  # a CNN archive, or one of descriptors made without a bank
        return None, load_model(model_path)
    bank_path = _verified(
        archive.bank_path, archive.bank_sha256, bank_override, "filter bank", "--bank"
    )
    return load_bank(bank_path), load_model(model_path)
