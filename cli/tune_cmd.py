"""``cosfire-hash tune``: search COSFIRE bank parameters on the validation split."""

from __future__ import annotations

import json
from pathlib import Path

import click

__all__ = ["tune"]


@click.command()
@click.option(
    "--dataset",
    default="first",
    show_default=True,
    help="Labelled data set with train and valid splits.",
)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for tune.json (every score) and best.json (for pipeline --params).")  # fmt: skip
@click.option("--grid", "grid_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSON {option: [values]} (default: the papers' grid, 72 settings).")  # fmt: skip
@click.option("--per-class", type=click.IntRange(min=1), default=25, show_default=True,
              help="Filters per class of each trial bank.")  # fmt: skip
@click.option("--train-per-class", type=click.IntRange(min=2), default=100, show_default=True,
              help="Training images per class used to fit the SVM of each trial.")  # fmt: skip
@click.option("--jobs", type=int, default=2, show_default=True, help="Settings scored in parallel.")
@click.option("--seed", type=int, default=0, show_default=True)
def tune(dataset: str, out: Path, grid_path: Path | None, per_class: int, train_per_class: int,
         jobs: int, seed: int) -> None:  # fmt: skip
    """Score filter settings by SVM (quadratic kernel) accuracy on the valid split."""
    from tqdm import tqdm

    from cli.tuning import PAPER_GRID, grid_settings
    from cli.tuning import tune as run_tune
    from cosfire.datasets import open_dataset

    grid = json.loads(grid_path.read_text()) if grid_path else PAPER_GRID
    opened = open_dataset(dataset)
    with tqdm(total=len(grid_settings(grid)), desc="tune", unit="setting") as bar:
        summary = run_tune(opened, out, grid=grid, per_class=per_class, train_per_class=train_per_class,
                           seed=seed, n_jobs=jobs, progress=bar.update)  # fmt: skip
    ranked = sorted((r for r in summary["results"] if r["valid_accuracy"] is not None),
                    key=lambda r: -r["valid_accuracy"])  # fmt: skip
    keys = sorted(grid)
    click.echo("  ".join(f"{k:>8s}" for k in keys) + "  valid acc")
    for row in ranked[:10]:
        click.echo("  ".join(f"{row[k]!s:>8s}" for k in keys) + f"  {row['valid_accuracy']:.3f}")
    click.echo(f"wrote {out / 'tune.json'} and {out / 'best.json'}")
