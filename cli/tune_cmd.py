"""``cosfire-hash tune``: choose COSFIRE bank parameters by cross-validation on train + valid.

A thin command over :func:`cli.tuning.tune`; its defaults are :class:`cli.tuning.TuneConfig`'s.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from cli.tuning import TuneConfig

__all__ = ["tune"]


@click.command()
@click.option(
    "--dataset",
    default="first",
    show_default=True,
    help="Labelled data set with train and valid splits (and test, reported once).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for tune.json (every score) and best.json (for pipeline --params).",
)
@click.option(
    "--grid",
    "grid_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON {option: [values]} (default: the papers' grid, 72 settings).",
)
@click.option(
    "--per-class",
    type=click.IntRange(min=1),
    default=TuneConfig.per_class,
    show_default=True,
    help="Filters per class of the scored banks.",
)
@click.option(
    "--pool-per-class",
    type=click.IntRange(min=1),
    default=TuneConfig.pool_per_class,
    show_default=True,
    help="Prototypes per class of each setting's pool bank; every fold draws --per-class "
    "among those in its training rows.",
)
@click.option(
    "--development-per-class",
    type=click.IntRange(min=2),
    default=TuneConfig.development_per_class,
    show_default=True,
    help="Images per class drawn from train + valid for the cross-validation.",
)
@click.option("--folds", type=click.IntRange(min=2), default=TuneConfig.folds, show_default=True)
@click.option(
    "--repeats", type=click.IntRange(min=1), default=TuneConfig.repeats, show_default=True
)
@click.option("--jobs", type=int, default=2, show_default=True, help="Settings scored in parallel.")
@click.option("--seed", type=int, default=TuneConfig.seed, show_default=True)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def tune(
    dataset: str,
    out: Path,
    grid_path: Path | None,
    per_class: int,
    pool_per_class: int,
    development_per_class: int,
    folds: int,
    repeats: int,
    jobs: int,
    seed: int,
    quiet: bool,
) -> None:
    """Score filter settings by cross-validated SVM accuracy; test the best once.

    Every setting is scored by repeated stratified cross-validation on train + valid (a
    quadratic-kernel SVM; the filters of each fold have their prototypes in its training
    rows) and compared with the best on the same folds (corrected paired t-test). The test
    split is used once, for the chosen setting, with its 95 % interval.

    Examples:

    \b
      cosfire-hash tune --dataset first --out runs/tune
    """
    from tqdm import tqdm

    from cli.tuning import PAPER_GRID
    from cli.tuning import tune as run_tune
    from cosfire.datasets import open_dataset

    config = TuneConfig(
        grid=json.loads(grid_path.read_text()) if grid_path else PAPER_GRID,
        per_class=per_class,
        pool_per_class=pool_per_class,
        development_per_class=development_per_class,
        folds=folds,
        repeats=repeats,
        seed=seed,
    )
    with tqdm(total=len(config.settings()), desc="tune", unit="setting", disable=quiet) as bar:
        results = run_tune(open_dataset(dataset), out, config, n_jobs=jobs, progress=bar.update)
    keys = sorted(config.grid)
    click.echo("  ".join(f"{k:>8s}" for k in keys) + "  CV acc (sd)     vs best (p)")
    for score, against in results.ranked()[:10]:
        versus = (
            "best"
            if against is None
            else f"{100 * against['mean_difference']:+.1f} (p {against['p_value']:.2f})"
        )
        click.echo(
            "  ".join(f"{score.setting[k]!s:>8s}" for k in keys)
            + f"  {100 * score.cv.mean:5.1f} ({100 * score.cv.sd:4.1f})  {versus}"
        )
    if results.test_accuracy is not None:
        low, high = results.test_interval
        click.echo(
            f"chosen setting on the test split (once): {100 * results.test_accuracy:.1f} % "
            f"(95 % interval {100 * low:.1f}-{100 * high:.1f}, {results.test_images} images)"
        )
    click.echo(f"wrote {out / 'tune.json'} and {out / 'best.json'}")
