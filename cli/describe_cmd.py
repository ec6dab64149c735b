"""``cosfire-hash describe``: COSFIRE descriptors of images with a saved filter bank."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["describe", "resolve_inputs"]


def resolve_inputs(inputs: tuple[str, ...], split: str | None):
    """Return (items, read, class_names, labels, paths) for the INPUT arguments.

    One argument that is a dataset (zip, ``<split>/<class>/`` or ``<class>/`` folder, 'first',
    'synthetic') gives labelled items; otherwise every argument is an image file or a folder of
    image files, unlabelled.
    """
    from cosfire.datasets import open_dataset
    from cosfire.images import iter_image_files, load_image

    if len(inputs) == 1:
        source = inputs[0]
        path = Path(source)
        is_dataset = source in ("first", "synthetic") or path.suffix.lower() == ".zip"
        if path.is_dir() and not iter_image_files(path):
            is_dataset = True
        if is_dataset:
            dataset = open_dataset(source)
            if split is None:
                if len(dataset.splits) == 1:
                    split = dataset.splits[0]
                else:
                    raise click.UsageError(
                        f"{source} has splits {', '.join(dataset.splits)}; choose one with --split"
                    )
            items = dataset.items(split)
            return (
                items,
                dataset.read,
                dataset.class_names,
                [item.label for item in items],
                [dataset.name(item) for item in items],
            )
    if split is not None:
        raise click.UsageError("--split applies to a dataset zip or folder only")
    files: list[Path] = []
    for source in inputs:
        path = Path(source)
        if path.is_dir():
            files.extend(iter_image_files(path))
        elif path.exists():
            files.append(path)
        else:
            raise click.BadParameter(f"{source} does not exist", param_hint="INPUT")
    if not files:
        raise click.UsageError("no image files found in INPUT")
    return files, load_image, (), [-1] * len(files), [str(f) for f in files]


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

    from cli.describing import describe_to_file
    from cosfire.bank import load_bank
    from cosfire.descriptor_file import load_descriptors

    bank = load_bank(bank_path)
    items, read, class_names, labels, paths = resolve_inputs(inputs, split)
    if backend == "dask":
        _connect_dask()
    with tqdm(total=len(items), desc="describe", unit="img", disable=quiet) as bar:
        report = describe_to_file(
            bank,
            items,
            read=read,
            names=paths,
            labels=labels,
            class_names=class_names,
            output=output,
            n_jobs=jobs,
            backend=backend,
            chunk_size=chunk_size,
            on_error="skip" if on_error == "skip" else "raise",
            progress=bar.update,
            angles=angles,
        )
    if report.resumed:
        click.echo(f"resumed {report.resumed} images from an earlier interrupted run")
    if report.failed:
        skipped = output.with_name(output.stem + ".skipped.tsv")
        click.echo(f"skipped {len(report.failed)} images that could not be described: {skipped}")
    written = load_descriptors(output, mmap=True)
    silent = sum(int((block.max(axis=1) == 0).sum()) for block in _row_blocks(written.descriptors))
    click.echo(
        f"wrote {output}: {written.n_images} images x {written.n_filters} filters"
        + (f" ({silent} images with no filter response)" if silent else "")
    )


def _row_blocks(rows, step: int = 65536):
    for start in range(0, len(rows), step):
        yield rows[start : start + step]


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
