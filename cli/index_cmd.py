"""``cosfire-hash index``: hash described galaxies into a searchable archive."""

from __future__ import annotations

from pathlib import Path

import click

from cli._parsing import usage_errors

__all__ = ["index"]


@click.command()
@click.option(
    "--bank",
    "bank_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Filter bank the descriptors were made with, so the archive can be searched "
    "by images (without it: by descriptors and by its own items).",
)
@click.option(
    "--model",
    "model_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="Hashing model from `cosfire-hash train`.",
)
@click.argument(
    "descriptors_path",
    metavar="[DESCRIPTORS.npz]",
    required=False,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option("--dataset", help="For CNN models: the data set whose images to index.")
@click.option("--split", default="train", show_default=True, help="Split of --dataset.")
@click.option(
    "--kind",
    type=click.Choice(["exact", "ivf", "hnsw", "multihash"]),
    default="exact",
    show_default=True,
    help="Exact search, or an approximate index for huge archives.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Archive to write (.chx).",
)
@usage_errors
def index(
    bank_path: Path | None,
    model_path: Path,
    descriptors_path: Path | None,
    dataset: str | None,
    split: str,
    kind: str,
    output: Path,
) -> None:
    """Hash DESCRIPTORS with the model and write a searchable archive of them.

    The archive keeps the descriptors beside the codes (for `cosfire-hash anomalies`), and the
    angles of the filters' maxima when the descriptor file has them (for the angle of a match
    in `cosfire-hash search`).

    Without --bank (descriptors made elsewhere, e.g. the authors' from `cosfire-hash data
    import-mat`) the archive is searched and evaluated with descriptor files and by the names
    of its own items; image queries need an archive indexed with --bank.

    For a CNN model, give --dataset/--split instead: the images are hashed directly.

    Examples:

    \b
      cosfire-hash index --bank bank.json --model model.pt train.npz -o archive.chx
      cosfire-hash index --model compact.pt --dataset first --split train -o compact.chx
    """
    from cli.indexing import index_archive

    written = index_archive(
        model_path,
        output,
        descriptors_path=descriptors_path,
        bank_path=bank_path,
        dataset=dataset,
        split=split,
        kind=kind,  # type: ignore[arg-type]  (click.Choice checked it)
    )
    click.echo(
        f"wrote {output}: {len(written.archive)} galaxies, {written.archive.index.bits}-bit codes "
        f"({written.distinct_codes} distinct), {kind} index"
    )
    if not written.searchable_by_images:
        click.echo(
            "no --bank: search this archive with descriptor files or by its items' names; "
            "image queries need an archive indexed with --bank"
        )
