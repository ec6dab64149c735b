"""``cosfire-hash data import-mat``: the authors' MATLAB descriptors as descriptor files."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["import_mat"]


@click.command("import-mat")
@click.argument(
    "mat_path", metavar="FILE.mat", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "-o",
    "--output",
    "prefix",
    required=True,
    help="Prefix: writes PREFIX-training.npz and PREFIX-testing.npz.",
)
def import_mat(mat_path: Path, prefix: str) -> None:
    """Convert COSFIREdescriptor.training|testing.{FRI,FRII,Bent,Compact} to .npz files.

    Examples:

    \b
      cosfire-hash data import-mat COSFIREdescriptor_train_valid.mat -o runs/authors
    """
    from cosfire.descriptor_file import save_descriptors
    from cosfire.reference_mat import import_reference_mat

    for part, descriptor_set in import_reference_mat(mat_path).items():
        target = save_descriptors(descriptor_set, f"{prefix}-{part}.npz")
        click.echo(f"wrote {target}: {descriptor_set.n_images} x {descriptor_set.n_filters}")
