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
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Draw every query beside its top-k galaxies into this PNG.",
)
@click.option(
    "--explain",
    "explain_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Draw why the first query matched one result (the filters that respond most "
    "strongly to both) into this PNG.",
)
@click.option(
    "--explain-rank",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Which result of the first query --explain draws.",
)
@click.option(
    "--bank",
    "bank_override",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The archive's filter bank, if it moved.",
)
@click.option(
    "--model",
    "model_override",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The archive's hashing model, if it moved.",
)
def search(
    archive_path: Path,
    queries: tuple[str, ...],
    k: int,
    as_json: bool,
    plot: Path | None,
    explain_path: Path | None,
    explain_rank: int,
    bank_override: Path | None,
    model_override: Path | None,
) -> None:
    """Find the galaxies of ARCHIVE most similar to each QUERY.

    QUERY is an image file (described with the archive's bank and hashed with its model; a CNN
    model hashes it directly), a descriptor .npz, or the path or file name of one of the
    archive's own galaxies (its stored code is the query). An archive indexed without --bank
    is searched by descriptor files and by its own galaxies only. Results are ordered by
    Hamming distance, ties by archive order.

    Every result also gets the angle (degrees, counter-clockwise) by which it is turned
    against its query, `angle_deg`, estimated from the rotations at which the bank's filters
    responded to both (null when no filter responded to both). Archives and descriptor files
    written without these angles give no angle; the command says so once.
    """
    from cli.evaluating import UnsuitableQueries
    from cli.searching import MissingBank, search_archive

    if explain_path is not None and explain_rank > k:
        raise click.BadParameter(f"there are only {k} results (-k)", param_hint="--explain-rank")
    try:
        found = search_archive(
            archive_path,
            queries,
            k=k,
            bank_path=bank_override,
            model_path=model_override,
            require_bank=explain_path is not None,
        )
    except MissingBank as error:
        raise click.UsageError(f"--explain draws COSFIRE filters, but {error}") from error
    except UnsuitableQueries as error:
        raise click.UsageError(str(error)) from error
    results, bank, model, archive = found.results, found.bank, found.model, found.archive
    for note in found.notes:
        click.echo(note, err=True)
    if as_json:
        click.echo(json.dumps(results, indent=1))
    else:
        for entry in results:
            click.echo(
                f"query {entry['query']}"
                + (f" ({entry['label']})" if entry["label"] != "?" else "")
            )
            with_angle = any("angle_deg" in hit for hit in entry["results"])
            angle_header = f"  {'angle':>5}" if with_angle else ""
            click.echo(f"  {'rank':>4}  {'distance':>8}{angle_header}  {'label':<10} path")
            for hit in entry["results"]:
                angle_text = ""
                if with_angle:
                    angle = hit.get("angle_deg")
                    angle_text = f"  {'?' if angle is None else f'{angle:.0f}':>5}"
                click.echo(
                    f"  {hit['rank']:>4}  {hit['distance']:>8}{angle_text}  {hit['label']:<10} "
                    f"{hit['path']}"
                )
    if explain_path is not None:
        _explain(
            bank,
            archive,
            queries[0],
            results[0]["query"],
            int(found.ids[0][explain_rank - 1]),
            explain_path,
        )
        if not as_json:
            click.echo(f"wrote {explain_path}")
    if plot is not None:
        from cli._plots import plot_search_results

        # the thumbnails fit the sources, within the crop the model saw (if it crops)
        seen_px = (
            bank.preprocessing.crop_px
            if bank is not None
            else getattr(getattr(model, "config", None), "crop_px", None)
        )
        plot_search_results(
            [(e["query"], e["label"], e["results"]) for e in results], plot, crop_px=seen_px
        )
        if not as_json:
            click.echo(f"wrote {plot}")


def _explain(bank, archive, query: str, query_name: str, match_id: int, output: Path) -> None:
    """Draw why ``query`` matched archive item ``match_id`` into ``output``."""
    from cosfire.datasets import read_source
    from cosfire.explain import explain_match
    from cosfire.images import load_image

    def read(source: str, what: str):
        try:
            return read_source(source)
        except (OSError, ValueError):
            raise click.UsageError(
                f"--explain cannot read the {what} image '{source}'; it has moved or is not a "
                "readable image"
            ) from None

    # an image file is read as given; a descriptor file's row or an archive item from its path
    is_file = Path(query).is_file() and not query.lower().endswith(".npz")
    query_image = load_image(query) if is_file else read(query_name, "query")
    match_path = archive.paths[match_id]
    explain_match(
        bank,
        query_image,
        read(match_path, "matching"),
        path=output,
        query_name=Path(query_name).name,
        match_name=Path(match_path).name,
    )
