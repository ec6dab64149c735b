"""``cosfire-hash index``: hash described galaxies into a searchable archive."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["index"]


@click.command()
@click.option("--bank", "bank_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              required=True, help="Filter bank the descriptors were made with.")  # fmt: skip
@click.option("--model", "model_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              required=True, help="Hashing model from `cosfire-hash train`.")  # fmt: skip
@click.argument("descriptors_path", metavar="DESCRIPTORS.npz",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))  # fmt: skip
@click.option("--kind", type=click.Choice(["exact", "ivf", "hnsw", "multihash"]), default="exact",
              show_default=True, help="Exact search, or an approximate index for huge archives.")  # fmt: skip
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Archive to write (.chx).")  # fmt: skip
def index(
    bank_path: Path, model_path: Path, descriptors_path: Path, kind: str, output: Path
) -> None:
    """Hash DESCRIPTORS with the model and write a searchable archive of them."""
    from cli._provenance import file_sha256
    from cosfire.bank import load_bank
    from cosfire.descriptor_file import load_descriptors
    from hashing.model import load_model
    from retrieval.archive import Archive, save_archive
    from retrieval.index import HammingIndex

    bank = load_bank(bank_path)
    model = load_model(model_path)
    described = load_descriptors(descriptors_path, mmap=True)
    if described.bank_sha256 and described.bank_sha256 != bank.sha256:
        raise ValueError(
            f"{descriptors_path} was described with another filter bank than {bank_path}; "
            "describe the images again with this bank"
        )
    if model.bank_sha256 and model.bank_sha256 != bank.sha256:
        raise ValueError(
            f"{model_path} was trained on descriptors of another filter bank than {bank_path}"
        )
    codes = model.encode(described.descriptors)
    hamming_index = HammingIndex(model.bits, kind=kind)  # type: ignore[arg-type]
    hamming_index.add(codes)
    archive = Archive(
        index=hamming_index,
        paths=described.paths,
        labels=described.labels,
        class_names=described.class_names,
        bank_path=str(bank_path.resolve()),
        bank_sha256=file_sha256(bank_path),
        model_path=str(model_path.resolve()),
        model_sha256=file_sha256(model_path),
        extra={"descriptors": str(descriptors_path)},
    )
    save_archive(archive, output)
    distinct = len({row.tobytes() for row in codes})
    click.echo(
        f"wrote {output}: {len(archive)} galaxies, {model.bits}-bit codes ({distinct} distinct), "
        f"{kind} index"
    )
