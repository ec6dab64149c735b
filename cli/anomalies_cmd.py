"""``cosfire-hash anomalies``: the most unusual galaxies of an archive, or of queries against it."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cli._parsing import usage_errors
from retrieval.anomalies import AnomalyConfig

__all__ = ["anomalies"]

_DEFAULTS = AnomalyConfig()


@click.command()
@click.argument(
    "archive_path",
    metavar="ARCHIVE.chx",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.argument("queries", metavar="[QUERY...]", nargs=-1)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="How many of the most unusual to show.",
)
@click.option(
    "--method",
    type=click.Choice(["lof", "iforest"]),
    default=_DEFAULTS.method,
    show_default=True,
    help="Local Outlier Factor or isolation forest.",
)
@click.option(
    "--on",
    "features",
    type=click.Choice(["descriptors", "codes"]),
    default=_DEFAULTS.features,
    show_default=True,
    help="Score the COSFIRE descriptors or the binary codes (Hamming).",
)
@click.option(
    "--neighbors",
    "n_neighbors",
    type=click.IntRange(min=1),
    default=_DEFAULTS.n_neighbors,
    show_default=True,
    help="Neighbours of LOF.",
)
@click.option(
    "--seed",
    type=int,
    default=_DEFAULTS.seed,
    show_default=True,
    help="Random state of the isolation forest.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable list.")
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Draw the top galaxies with their scores into this PNG.",
)
@click.option(
    "--bank",
    "bank_override",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The archive's filter bank, if it moved (for QUERY images).",
)
@click.option(
    "--model",
    "model_override",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The archive's hashing model, if it moved (for QUERY images).",
)
@usage_errors
def anomalies(
    archive_path: Path,
    queries: tuple[str, ...],
    top: int,
    method: str,
    features: str,
    n_neighbors: int,
    seed: int,
    as_json: bool,
    plot: Path | None,
    bank_override: Path | None,
    model_override: Path | None,
) -> None:
    """Rank the galaxies of ARCHIVE by how unusual they are, most unusual first.

    Without QUERY the archive's own galaxies are ranked among themselves. With QUERY (image
    files, described with the archive's bank, or descriptor .npz files) the queries are ranked
    with the archive's galaxies as the usual ones. Scores: higher = more unusual (LOF about 1
    for a usual galaxy); ties by order.

    Examples:

    \b
      cosfire-hash anomalies archive.chx --top 20 --plot unusual.png
      cosfire-hash anomalies archive.chx new_cutouts/*.png --method iforest --json
    """
    from cli.anomaly_ranking import rank_anomalies

    ranking = rank_anomalies(
        archive_path,
        queries,
        config=AnomalyConfig(
            method=method,  # type: ignore[arg-type]  (click.Choice checked it)
            features=features,  # type: ignore[arg-type]
            n_neighbors=n_neighbors,
            seed=seed,
        ),
        top=top,
        bank_path=bank_override,
        model_path=model_override,
    )
    results = ranking.results
    if as_json:
        click.echo(json.dumps(results, indent=1))
    else:
        click.echo(f"the {len(results)} most unusual of {ranking.scored} ({ranking.method})")
        click.echo(f"  {'rank':>4}  {'score':>8}  {'label':<10} path")
        for hit in results:
            click.echo(
                f"  {hit['rank']:>4}  {hit['score']:>8.4g}  {hit['label']:<10} {hit['path']}"
            )
    if plot is not None:
        from cli._plots import plot_anomalies

        plot_anomalies(results, plot, title=f"most unusual, {ranking.method}")
        if not as_json:
            click.echo(f"wrote {plot}")
