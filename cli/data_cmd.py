"""``cosfire-hash data``: get, generate and inspect data sets."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["data"]


@click.group()
def data() -> None:
    """Get, generate and inspect labelled galaxy data sets."""


@data.command()
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to download into (default: the cache, or $COSFIRE_HASH_CACHE).",
)
@click.option(
    "--check",
    "check_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Only verify the SHA-256 of a local galaxy_data.zip.",
)
def fetch(dest: Path | None, check_path: Path | None) -> None:
    """Download the FIRST radio-galaxy set (Zenodo 7689127) and verify its SHA-256.

    Griese et al. 2023, MIT licence; FIRST images are for non-commercial scholarly use.

    Examples:

    \b
      cosfire-hash data fetch
      cosfire-hash data fetch --check galaxy_data.zip
    """
    from cosfire.datasets import fetch_first, first_checksum

    if check_path is not None:
        from cli._provenance import file_sha256

        digest = file_sha256(check_path)
        if digest != first_checksum():
            raise click.ClickException(
                f"{check_path} has SHA-256 {digest}, expected {first_checksum()}; download it again"
            )
        click.echo(f"{check_path}: checksum OK")
        return
    path = fetch_first(dest)
    click.echo(str(path))


@data.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write <output>/galaxy_data/<split>/<class>/ into.",
)
@click.option(
    "--per-class",
    type=click.IntRange(min=1),
    default=None,
    help="Images per class in train (valid and test get a third of it).",
)
@click.option("--size", type=click.IntRange(min=32), default=300, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
def synth(output: Path, per_class: int | None, size: int, seed: int) -> None:
    """Write the procedural synthetic radio galaxies (Compact, FRI, FRII, Bent).

    Examples:

    \b
      cosfire-hash data synth -o synthetic-set --per-class 20
    """
    from cosfire.synthetic import write_synthetic_dataset

    counts = None
    if per_class is not None:
        counts = {
            "train": per_class,
            "valid": max(1, per_class // 3),
            "test": max(1, per_class // 3),
        }
    folder = write_synthetic_dataset(output, n_per_class=counts, size=size, seed=seed)
    click.echo(str(folder))


def _register_import_mat() -> None:
    from cli.import_mat_cmd import import_mat

    data.add_command(import_mat)


_register_import_mat()


@data.command()
@click.argument("source")
def info(source: str) -> None:
    """Show the splits, classes and image counts of SOURCE (zip, folder, first, synthetic).

    Examples:

    \b
      cosfire-hash data info first
    """
    from cosfire.datasets import open_dataset

    dataset = open_dataset(source)
    width = max(len(name) for name in dataset.class_names) + 2
    click.echo(f"{dataset.source}")
    click.echo(
        "split".ljust(8) + "".join(n.rjust(width) for n in dataset.class_names) + "total".rjust(8)
    )
    for split in dataset.splits:
        counts = dataset.counts(split)
        click.echo(
            split.ljust(8)
            + "".join(str(counts[n]).rjust(width) for n in dataset.class_names)
            + str(sum(counts.values())).rjust(8)
        )
