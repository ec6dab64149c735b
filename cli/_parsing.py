"""Parsing of command-line values shared by several commands."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

import click
import numpy as np

from cli.errors import UsageProblem

__all__ = ["parse_number_list", "parse_point", "usage_errors"]

Result = TypeVar("Result")


def usage_errors(command: Callable[..., Result]) -> Callable[..., Result]:
    """Show the :class:`cli.errors.UsageProblem` errors of a command's library call as usage
    errors (``Usage: ...``, the message, exit status 2).

    Put it below ``@click.command()`` and the options, directly above the function.
    """

    @functools.wraps(command)
    def checked(*args, **kwargs) -> Result:
        try:
            return command(*args, **kwargs)
        except UsageProblem as error:
            raise click.UsageError(str(error)) from error

    return checked


def parse_number_list(text: str, *, name: str) -> tuple[float, ...]:
    """Parse ``"0:5:30"`` (MATLAB-style start:step:stop, inclusive) or ``"0,5,10"``.

    Examples
    --------
    >>> parse_number_list("0:5:30", name="rhos")
    (0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0)
    >>> parse_number_list("2.5, 5", name="sigma")
    (2.5, 5.0)
    """
    try:
        if ":" in text:
            parts = [float(p) for p in text.split(":")]
            if len(parts) == 2:
                start, stop, step = parts[0], parts[1], 1.0
            elif len(parts) == 3:
                start, step, stop = parts
            else:
                raise ValueError
            if step <= 0 or stop < start:
                raise ValueError
            count = int(np.floor((stop - start) / step + 1e-9)) + 1
            return tuple(float(start + i * step) for i in range(count))
        values = tuple(float(p) for p in text.split(",") if p.strip())
        if not values:
            raise ValueError
        return values
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a list of numbers; write start:step:stop (e.g. 0:5:30) or a "
            "comma-separated list (e.g. 0,5,10)",
            param_hint=f"--{name}",
        ) from None


def parse_point(text: str, *, name: str) -> tuple[int, int]:
    """Parse ``"X,Y"`` (column, row in pixels) into ``(row, col)``.

    Examples
    --------
    >>> parse_point("10,20", name="center")
    (20, 10)
    """
    try:
        x_text, y_text = text.split(",")
        return int(round(float(y_text))), int(round(float(x_text)))
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a point; write X,Y in pixels (column, row), e.g. 75,75",
            param_hint=f"--{name}",
        ) from None
