"""``cosfire-hash pipeline``: the whole job, resumable, with a report."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cli._parsing import parse_number_list
from cli.configure_cmd import preset_options, resolve_preset

__all__ = ["pipeline"]


@click.command()
@click.option("--dataset", default="synthetic", show_default=True,
              help="'synthetic' (embedded), 'first' (COSFIRE_HASH_DATA or download), or a zip/folder.")  # fmt: skip
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Run folder (created; an existing one with the same settings is continued).")  # fmt: skip
@click.option(
    "--per-class",
    type=click.IntRange(min=1),
    default=None,
    help="Filters per class (default: the preset's, or 10 on the synthetic set).",
)
@preset_options
@click.option("--bits", default="8,16,24,32,36,48,64,72", show_default=True, help="Code lengths.")
@click.option("--main-bits", type=int, default=36, show_default=True,
              help="Code length of the archive and the robustness checks.")  # fmt: skip
@click.option("--params", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSON of filter options (e.g. best.json from `cosfire-hash tune`).")  # fmt: skip
@click.option("--bank-sigmas",
              help="A mixed bank: DoG sigmas (px) the filters of each class take in turn, e.g. 2,3,5 "
                   "(default: one sigma, from --params or 5).")  # fmt: skip
@click.option("--noise-clip", type=float, default=3.0, show_default=True,
              help="Zero pixels below this many background rms (a no-op on clean FIRST PNGs).")  # fmt: skip
@click.option("--smooth-px", type=float, default=0.0, show_default=True,
              help="Gaussian smoothing (sigma, px) before the clipping, against noise spikes; "
                   "1 suits FIRST (beam sigma 1.3 px); 0 = off.")  # fmt: skip
@click.option("--train-rotations", type=click.IntRange(min=0), default=0, show_default=True,
              help="Rotated copies of the training galaxies (a random angle each) added to the "
                   "hashing network's training set.")  # fmt: skip
@click.option("--rotations", type=click.IntRange(min=1), default=24, show_default=True)
@click.option("--rotation-draws", type=click.IntRange(min=1), default=5, show_default=True,
              help="How many times the rotated-query check draws fresh random angles (its "
                   "mAP@100 is reported per draw and as their mean).")  # fmt: skip
@click.option(
    "--recipe",
    type=click.Choice(["papers", "dsh", "csq"]),
    default="dsh",
    show_default=True,
    help="Hashing recipe (hashing.RECIPES): papers = DSH with RMSprop 0.01; dsh = DSH "
    "+ class loss, Adam; csq = class hash centres, retrained on train + valid.",
)
@click.option("--no-robustness", is_flag=True, help="Skip the rotated and noisy query runs.")
@click.option("--jobs", type=int, default=2, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--quiet", is_flag=True)
def pipeline(
    dataset: str,
    out: Path,
    per_class: int | None,
    bits: str,
    main_bits: int,
    params: Path | None,
    bank_sigmas: str | None,
    noise_clip: float,
    smooth_px: float,
    train_rotations: int,
    rotations: int,
    rotation_draws: int,
    no_robustness: bool,
    jobs: int,
    seed: int,
    quiet: bool,
    preset: str,
    extras: str | None,
    recipe: str,
) -> None:
    """Configure, describe, train, index, evaluate and report, in one resumable run.

    Writes into --out: bank.json, {train,valid,test}.npz, model-<bits>.pt, archive-<bits>.chx,
    eval-<bits>.json, svm.json, results.json and report.md with its figures. Finished stages are
    not redone when the same command runs again.
    """
    from cli.pipeline import PipelineConfig, run_pipeline
    from cli.report import write_report
    from hashing.training import RECIPES

    filter_config = {}
    if params is not None:
        filter_config = json.loads(params.read_text())
        filter_config = filter_config.get("filter_config", filter_config)
    recipe_name = recipe
    recipe = resolve_preset(
        click.get_current_context(),
        preset,
        per_class=per_class,
        bank_sigmas=bank_sigmas,
        smooth_px=smooth_px,
        extras=extras,
    )
    if per_class is None and dataset == "synthetic":
        recipe["per_class"] = 10
    config = PipelineConfig(
        dataset=dataset,
        per_class=recipe["per_class"],
        seed=seed,
        filter_config=filter_config,
        bank_sigmas=recipe["sigmas"] if len(recipe["sigmas"]) > 1 or bank_sigmas else (),
        noise_clip=noise_clip,
        smooth_px=recipe["smooth_px"],
        extras=recipe["extras"],
        training=RECIPES[recipe_name].to_dict(),
        train_rotations=train_rotations,
        rotations=rotations,
        rotation_draws=rotation_draws,
        bits=tuple(int(b) for b in parse_number_list(bits, name="bits")),
        main_bits=main_bits,
        robustness=not no_robustness,
        jobs=jobs,
    )
    results = run_pipeline(out, config, quiet=quiet, echo=click.echo)
    report = write_report(out, results)
    main = results["bits"][main_bits]
    click.echo(
        f"test mAP@100 at {main_bits} bits: {100 * main['map_at_100']:.2f} %; SVM test accuracy "
        f"{100 * results['svm']['test_accuracy']:.2f} %; total {sum(results['seconds'].values()):.0f} s"
    )
    click.echo(f"wrote {report}")
