"""``cosfire-hash index``: hash described galaxies into a searchable archive."""

from __future__ import annotations

from pathlib import Path

import click

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
    """
    from cli._encoding import encode_dataset_split, is_cnn
    from cli._provenance import file_sha256
    from hashing.model import load_model
    from retrieval.archive import Archive, save_archive
    from retrieval.index import HammingIndex

    model = load_model(model_path)
    if is_cnn(model):
        if dataset is None or descriptors_path is not None or bank_path is not None:
            raise click.UsageError(
                "a CNN model indexes images: give --dataset (and --split), no bank"
            )
        encoded, class_names, labels = encode_dataset_split(dataset, split, None, model)
        codes, paths, bank_record, extra, descriptors, angles = (
            encoded.codes,
            encoded.names,
            ("", ""),
            {"dataset": dataset, "split": split},
            None,
            None,
        )
    else:
        if descriptors_path is None:
            raise click.UsageError(
                "give DESCRIPTORS.npz (from `cosfire-hash describe` or `data import-mat`) and "
                "the --bank it was described with"
            )
        codes, paths, class_names, labels, descriptors, angles, bank_sha256 = _cosfire_codes(
            bank_path, model, model_path, descriptors_path
        )
        bank_record = (
            (str(bank_path.resolve()), file_sha256(bank_path))
            if bank_path is not None
            else ("", bank_sha256)  # what the descriptor file records ("" if nothing)
        )
        extra = {"descriptors": str(descriptors_path)}
    hamming_index = HammingIndex(model.bits, kind=kind)  # type: ignore[arg-type]
    hamming_index.add(codes)
    archive = Archive(
        index=hamming_index,
        paths=tuple(paths),
        labels=labels,
        class_names=class_names,
        bank_path=bank_record[0],
        bank_sha256=bank_record[1],
        model_path=str(model_path.resolve()),
        model_sha256=file_sha256(model_path),
        extra=extra,
        descriptors=descriptors,
        angles_deg=angles,
    )
    save_archive(archive, output)
    distinct = len({row.tobytes() for row in codes})
    click.echo(
        f"wrote {output}: {len(archive)} galaxies, {model.bits}-bit codes ({distinct} distinct), "
        f"{kind} index"
    )
    if not archive.has_bank and not is_cnn(model):
        click.echo(
            "no --bank: search this archive with descriptor files or by its items' names; "
            "image queries need an archive indexed with --bank"
        )


def _cosfire_codes(bank_path: Path | None, model, model_path: Path, descriptors_path: Path):
    from cosfire.bank import load_bank
    from cosfire.descriptor_file import load_descriptors

    described = load_descriptors(descriptors_path, mmap=True)
    # without a bank file the descriptors' own record stands for it
    bank_sha256 = load_bank(bank_path).sha256 if bank_path is not None else described.bank_sha256
    source = bank_path if bank_path is not None else f"the bank of {descriptors_path}"
    if described.bank_sha256 not in ("", bank_sha256):
        raise ValueError(
            f"{descriptors_path} was described with another filter bank than {bank_path}; "
            "describe the images again with this bank"
        )
    if model.bank_sha256 and bank_sha256 and model.bank_sha256 != bank_sha256:
        raise ValueError(
            f"{model_path} was trained on descriptors of another filter bank than {source}"
        )
    codes = model.encode(described.descriptors)
    # stored beside the codes: `cosfire-hash anomalies` ranks the items by their descriptors,
    # `cosfire-hash search` turns the angles into the rotation of a match
    return (
        codes,
        described.paths,
        described.class_names,
        described.labels,
        described.descriptors,
        described.angles_deg,
        bank_sha256,
    )
