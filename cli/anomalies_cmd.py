"""``cosfire-hash anomalies``: the most unusual galaxies of an archive, or of queries against it."""

from __future__ import annotations

import json
from pathlib import Path

import click

from retrieval.anomalies import AnomalyConfig

__all__ = ["anomalies"]

_DEFAULTS = AnomalyConfig()
_METHOD_NAMES = {"lof": "LOF", "iforest": "isolation forest"}


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
    """
    from retrieval.anomalies import archive_anomalies, archive_features
    from retrieval.archive import load_archive

    archive = load_archive(archive_path)
    archive_features(archive, features, name=str(archive_path))  # fails before any describing
    if method == "lof" and n_neighbors >= len(archive):
        raise click.BadParameter(
            f"the archive holds {len(archive)} galaxies; LOF needs fewer neighbours",
            param_hint="--neighbors",
        )
    config = AnomalyConfig(
        method=method,  # type: ignore[arg-type]  (click.Choice checked it)
        features=features,  # type: ignore[arg-type]
        n_neighbors=n_neighbors,
        seed=seed,
    )
    names, labels, query_features = None, None, None
    if queries:
        names, labels, query_features = _query_features(
            archive, queries, features, bank_override, model_override
        )
    scores, ids = archive_anomalies(
        archive, queries=query_features, config=config, k=top, name=str(archive_path)
    )
    if names is None:
        found = archive.lookup(ids)
    else:
        found = [(names[i], labels[i]) for i in ids]
    results = [
        {"rank": rank + 1, "score": float(score), "path": path, "label": label}
        for rank, (score, (path, label)) in enumerate(zip(scores, found, strict=True))
    ]
    what = (
        f"{_METHOD_NAMES[method]}"
        + (f", {n_neighbors} neighbours" if method == "lof" else "")
        + f", on {features}"
    )
    if as_json:
        click.echo(json.dumps(results, indent=1))
    else:
        scored = (
            f"{len(names)} queries, against the {len(archive)} galaxies of {archive_path}"
            if names is not None
            else f"the {len(archive)} galaxies of {archive_path}"
        )
        click.echo(f"the {len(results)} most unusual of {scored} ({what})")
        click.echo(f"  {'rank':>4}  {'score':>8}  {'label':<10} path")
        for hit in results:
            click.echo(
                f"  {hit['rank']:>4}  {hit['score']:>8.4g}  {hit['label']:<10} {hit['path']}"
            )
    if plot is not None:
        from cli._plots import plot_anomalies

        plot_anomalies(results, plot, title=f"most unusual, {what}")
        if not as_json:
            click.echo(f"wrote {plot}")


def _query_features(archive, queries, features, bank_override, model_override):
    """Names, labels and descriptors (or codes) of the QUERY arguments."""
    from cli._encoding import (
        describe_queries,
        encode_queries,
        is_cnn,
        require_bank_for_images,
    )
    from cli._provenance import archive_bank_and_model

    bank, model = archive_bank_and_model(archive, bank_override, model_override)
    require_bank_for_images(queries, bank, model)
    if features == "codes":
        encoded = encode_queries(queries, bank, model)
        return encoded.names, encoded.labels, encoded.codes
    if bank is None and is_cnn(model):
        raise click.UsageError(
            "this archive's model is a CNN, which has no COSFIRE descriptors; use --on codes"
        )
    # without a bank (descriptors made elsewhere) only descriptor files got this far
    described = describe_queries(queries, bank)
    return described.names, described.labels, described.descriptors
