"""``cosfire-hash search``: the galaxies of an archive most similar to query galaxies."""

from __future__ import annotations

import json
from pathlib import Path

import click

__all__ = ["search"]


@click.command()
@click.argument(
    "archive_path",
    metavar="ARCHIVE.chx",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.argument("queries", metavar="QUERY...", nargs=-1, required=True)
@click.option(
    "-k", "k", type=click.IntRange(min=1), default=10, show_default=True, help="Results per query."
)
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable list.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path),
              help="Draw every query beside its top-k galaxies into this PNG.")  # fmt: skip
@click.option("--bank", "bank_override", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The archive's filter bank, if it moved.")  # fmt: skip
@click.option("--model", "model_override", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The archive's hashing model, if it moved.")  # fmt: skip
def search(
    archive_path: Path,
    queries: tuple[str, ...],
    k: int,
    as_json: bool,
    plot: Path | None,
    bank_override: Path | None,
    model_override: Path | None,
) -> None:
    """Find the galaxies of ARCHIVE most similar to each QUERY.

    QUERY is an image file (described with the archive's bank and hashed with its model; a CNN
    model hashes it directly) or a descriptor .npz. Results are ordered by Hamming distance,
    ties by archive order.
    """
    from cli._encoding import encode_queries
    from cli._provenance import archive_bank_and_model
    from retrieval.archive import load_archive

    archive = load_archive(archive_path)
    if k > len(archive):
        raise click.BadParameter(f"the archive holds {len(archive)} galaxies", param_hint="-k")
    bank, model = archive_bank_and_model(archive, bank_override, model_override)
    encoded = encode_queries(queries, bank, model)
    names, labels, codes = encoded.names, encoded.labels, encoded.codes
    distances, ids = archive.index.search(codes, k)
    results = []
    for name, label, row_distances, row_ids in zip(names, labels, distances, ids, strict=True):
        found = [
            {"rank": rank + 1, "path": path, "label": found_label, "distance": int(distance)}
            for rank, ((path, found_label), distance) in enumerate(
                zip(archive.lookup(row_ids), row_distances, strict=True)
            )
        ]
        results.append({"query": name, "label": label, "results": found})
    if as_json:
        click.echo(json.dumps(results, indent=1))
    else:
        for entry in results:
            click.echo(
                f"query {entry['query']}"
                + (f" ({entry['label']})" if entry["label"] != "?" else "")
            )
            click.echo(f"  {'rank':>4}  {'distance':>8}  {'label':<10} path")
            for hit in entry["results"]:
                click.echo(
                    f"  {hit['rank']:>4}  {hit['distance']:>8}  {hit['label']:<10} {hit['path']}"
                )
    if plot is not None:
        from cli._plots import plot_search_results

        plot_search_results(
            [(e["query"], e["label"], e["results"]) for e in results], plot,
            crop_px=bank.preprocessing.crop_px if bank is not None else model.config.crop_px,
        )  # fmt: skip
        if not as_json:
            click.echo(f"wrote {plot}")
