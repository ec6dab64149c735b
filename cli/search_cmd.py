"""``cosfire-hash search``: the galaxies of an archive most similar to query galaxies."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cli._parsing import usage_errors

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
@usage_errors
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

    Examples:

    \b
      cosfire-hash search archive.chx my_cutout.png -k 10 --plot results.png
      cosfire-hash search archive.chx new.npz -k 5 --json
      cosfire-hash search archive.chx my_cutout.png --explain why.png
    """
    from cli.searching import MissingBank, explain_result, search_archive

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
    results = found.results
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
        explain_result(found, explain_path, rank=explain_rank)
        if not as_json:
            click.echo(f"wrote {explain_path}")
    if plot is not None:
        from cli._plots import plot_search_results

        # the thumbnails fit the sources, within the crop the model saw (if it crops)
        plot_search_results(
            [(e["query"], e["label"], e["results"]) for e in results], plot, crop_px=found.crop_px
        )
        if not as_json:
            click.echo(f"wrote {plot}")
