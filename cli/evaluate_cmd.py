"""``cosfire-hash evaluate``: the papers' retrieval metrics of an archive."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cli._parsing import usage_errors

__all__ = ["evaluate"]


@click.command()
@click.argument(
    "archive_path",
    metavar="ARCHIVE.chx",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.argument(
    "queries_path",
    metavar="[QUERIES.npz]",
    required=False,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option("--dataset", help="Queries from a data set split instead of a descriptor file.")
@click.option("--split", default="test", show_default=True, help="Split of --dataset.")
@click.option(
    "--k", "k", type=click.IntRange(min=1), default=100, show_default=True, help="mAP@k cut-off."
)
@click.option(
    "--ties",
    type=click.Choice(["random", "average", "stable"]),
    default="random",
    show_default=True,
    help="How equal Hamming distances are ordered.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of random tie order.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--plot-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write pr_curve.png and per_class.png here.",
)
@click.option(
    "--bank", "bank_override", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--model", "model_override", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@usage_errors
def evaluate(
    archive_path: Path,
    queries_path: Path | None,
    dataset: str | None,
    split: str,
    k: int,
    ties: str,
    seed: int,
    as_json: bool,
    plot_dir: Path | None,
    bank_override: Path | None,
    model_override: Path | None,
) -> None:
    """Evaluate retrieval of labelled QUERIES against ARCHIVE (relevant = same class).

    QUERIES is a descriptor file, or --dataset/--split names labelled images (described with
    the archive's bank, or hashed directly by a CNN model). An archive indexed without --bank
    (e.g. from the authors' descriptors, `data import-mat`) is evaluated with a descriptor
    file. Reports mAP@k, mAP@R and precision@10/50/100, overall and per query class.

    Examples:

    \b
      cosfire-hash evaluate archive.chx test.npz --plot-dir plots
      cosfire-hash evaluate compact.chx --dataset first --split test
    """
    from cli.evaluating import evaluate_archive, plot_evaluation

    evaluation = evaluate_archive(
        archive_path,
        queries_path,
        dataset=dataset,
        split=split,
        k=k,
        ties=ties,  # type: ignore[arg-type]  (click.Choice checked it)
        seed=seed,
        bank_path=bank_override,
        model_path=model_override,
    )
    report, bits = evaluation.report, evaluation.bits
    if as_json:
        click.echo(json.dumps(report, indent=1))
    else:
        keys = [f"map_at_{k}", "map_at_r", "precision_at_10", "precision_at_50", "precision_at_100"]
        click.echo(
            f"{report['queries']} queries against {report['database']} galaxies, "
            f"{bits}-bit codes, ties {ties}"
        )
        click.echo(f"{'':12s}" + "".join(f"{key:>18s}" for key in keys))
        click.echo(f"{'all':12s}" + "".join(f"{report[key]:18.4f}" for key in keys))
        for name, values in report["per_class"].items():
            click.echo(f"{name:12s}" + "".join(f"{values[key]:18.4f}" for key in keys))
    if plot_dir is not None:
        curve, per_class = plot_evaluation(evaluation, plot_dir)
        if not as_json:
            click.echo(f"wrote {curve} and {per_class}")
