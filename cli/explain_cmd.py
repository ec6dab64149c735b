"""``cosfire-hash explain``: a picture of one filter over its prototype and its response."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["explain"]


@click.command()
@click.option(
    "--bank",
    "bank_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="Filter bank JSON.",
)
@click.option(
    "--filter",
    "filter_number",
    type=int,
    default=0,
    show_default=True,
    help="Index of the filter in the bank.",
)
@click.option(
    "--prototype",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The prototype image, if the bank's recorded source cannot be read.",
)
@click.argument(
    "image", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="PNG to write.",
)
def explain(
    bank_path: Path, filter_number: int, prototype: Path | None, image: Path | None, output: Path
) -> None:
    """Draw filter --filter of a bank over its prototype, and its response to IMAGE.

    Examples:

    \b
      cosfire-hash explain --bank bank.json --filter 0 my_cutout.png -o filter0.png
    """
    from cosfire.bank import load_bank
    from cosfire.explain import explain as draw
    from cosfire.images import load_image
    from cosfire.preprocess import preprocess

    bank = load_bank(bank_path)
    if not 0 <= filter_number < bank.n_filters:
        raise click.BadParameter(
            f"the bank has filters 0..{bank.n_filters - 1}", param_hint="--filter"
        )
    chosen = bank.filters[filter_number]
    if prototype is not None:
        prototype_image = load_image(prototype)
    else:
        prototype_image = _recorded_prototype(bank, chosen.source)
    prepared = preprocess(prototype_image, bank.preprocessing)
    target = None if image is None else preprocess(load_image(image), bank.preprocessing)
    draw(chosen, prepared, target, rotations=bank.rotations_deg, path=output)
    click.echo(f"wrote {output}")


def _recorded_prototype(bank, source: str | None):
    from cosfire.datasets import read_source

    try:
        return read_source(source or "")
    except (FileNotFoundError, ValueError):
        raise click.UsageError(
            f"cannot read the prototype {source!r} of this filter; pass it with --prototype"
        ) from None
