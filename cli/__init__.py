"""Command-line interface of cosfire-hash (``cosfire-hash --help``)."""

from cli.main import main

__all__ = ["main"]
