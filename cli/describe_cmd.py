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
                [item.path for item in items],
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
@click.option("--quiet", is_flag=True, help="No progress bar.")
def describe(
    bank_path: Path,
    inputs: tuple[str, ...],
    split: str | None,
    output: Path,
    jobs: int,
    backend: str,
    quiet: bool,
) -> None:
    """Describe INPUT images with the bank's filters and write a descriptor file.

    INPUT is image files, a folder of images, a folder with one sub-folder per class, or a
    dataset zip/folder with --split.
    """
    from tqdm import tqdm

    from cosfire.bank import load_bank
    from cosfire.descriptor import describe as describe_images
    from cosfire.descriptor_file import DescriptorSet, save_descriptors

    bank = load_bank(bank_path)
    items, read, class_names, labels, paths = resolve_inputs(inputs, split)
    with tqdm(total=len(items), desc="describe", unit="img", disable=quiet) as bar:
        descriptors = describe_images(
            bank, items, read=read, n_jobs=jobs, backend=backend, progress=bar.update
        )
    descriptor_set = DescriptorSet(
        descriptors=descriptors,
        labels=labels,
        class_names=class_names,
        paths=paths,
        bank_sha256=bank.sha256,
        filter_class=bank.filter_class,
        filter_index=bank.filter_index,
    )
    save_descriptors(descriptor_set, output)
    silent = int((descriptors.max(axis=1) == 0).sum()) if len(descriptors) else 0
    click.echo(
        f"wrote {output}: {descriptor_set.n_images} images x {descriptor_set.n_filters} filters"
        + (f" ({silent} images with no filter response)" if silent else "")
    )
