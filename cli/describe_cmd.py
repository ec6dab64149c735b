"""``cosfire-hash describe``: COSFIRE descriptors of images with a saved filter bank."""

from __future__ import annotations

from pathlib import Path

import click

from cli._parsing import usage_errors

__all__ = ["describe"]


@click.command()
@click.option(
    "--bank",
    "bank_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="Filter bank JSON from `cosfire-hash configure`.",
)
@click.argument("inputs", nargs=-1, required=True)
@click.option("--split", help="Split of a dataset INPUT (train, valid, test, all).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Descriptor .npz to write.",
)
@click.option("--jobs", type=int, default=1, show_default=True, help="Parallel workers (-1: all).")
@click.option(
    "--backend",
    type=click.Choice(["loky", "threading", "multiprocessing", "dask"]),
    default="loky",
    show_default=True,
)
@click.option(
    "--on-error",
    type=click.Choice(["fail", "skip"]),
    default="fail",
    show_default=True,
    help="Stop at the first bad image, or skip bad images and list them in <output>.skipped.tsv.",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=32,
    show_default=True,
    help="Images per task and per checkpoint.",
)
@click.option(
    "--angles/--no-angles",
    default=True,
    show_default=True,
    help="Also keep the rotation at which every filter responded (for the angle of "
    "matches in `cosfire-hash search`).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@usage_errors
def describe(
    bank_path: Path,
    inputs: tuple[str, ...],
    split: str | None,
    output: Path,
    jobs: int,
    backend: str,
    on_error: str,
    chunk_size: int,
    angles: bool,
    quiet: bool,
) -> None:
    """Describe INPUT images with the bank's filters and write a descriptor file.

    INPUT is image files, a folder of images, a folder with one sub-folder per class, or a
    dataset zip/folder with --split. Finished chunks are kept in <output>.partial/ until the
    file is written, so an interrupted run started again resumes where it stopped.

    Examples:

    \b
      cosfire-hash describe --bank bank.json first --split train -o train.npz
      cosfire-hash describe --bank bank.json first --split test -o test.npz --jobs 2
      cosfire-hash describe --bank bank.json new_cutouts -o new.npz
    """
    from tqdm import tqdm

    from cli.describing import describe_into
    from cosfire.bank import load_bank

    if backend == "dask":
        _connect_dask()
    with tqdm(desc="describe", unit="img", disable=quiet) as bar:
        written = describe_into(
            load_bank(bank_path),
            inputs,
            output,
            split=split,
            n_jobs=jobs,
            backend=backend,
            chunk_size=chunk_size,
            on_error="skip" if on_error == "skip" else "raise",
            angles=angles,
            progress=bar.update,
            on_start=bar.reset,
        )
    if written.resumed:
        click.echo(f"resumed {written.resumed} images from an earlier interrupted run")
    if written.skipped:
        click.echo(
            f"skipped {written.skipped} images that could not be described: {written.skipped_list}"
        )
    click.echo(
        f"wrote {output}: {written.n_images} images x {written.n_filters} filters"
        + (f" ({written.silent} images with no filter response)" if written.silent else "")
    )


def _connect_dask() -> None:
    """Use the dask cluster named by DASK_SCHEDULER_ADDRESS, or start a local one."""
    import os

    try:
        from dask.distributed import Client
    except ImportError:
        raise click.UsageError(
            "--backend dask needs dask.distributed: pip install 'cosfire-hash[dask]'"
        ) from None
    global _DASK_CLIENT
    address = os.environ.get("DASK_SCHEDULER_ADDRESS")
    _DASK_CLIENT = Client(address) if address else Client(processes=True, dashboard_address=None)


_DASK_CLIENT = None  # kept alive while the command runs; joblib finds it as the default client
