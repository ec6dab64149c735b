"""``cosfire-hash pipeline``: the whole job, resumable, with a report.

A thin command over :func:`cli.pipeline.run_pipeline`: it parses the options into a
:class:`cli.pipeline.PipelineConfig`, runs it, and prints the headline numbers. Its defaults
are the library's (``EvaluationSettings``, ``BankSettings``, ``RunOptions``,
``cosfire.preprocess.Preprocessing``, ``hashing.RECIPES``); ``tests/test_cli_defaults.py``
checks every one.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from cli._parsing import parse_number_list
from cli.configure_cmd import preset_options, resolve_preset
from cli.pipeline import BankSettings, EvaluationSettings, PipelineConfig, RunOptions
from cosfire.presets import SYNTHETIC_PER_CLASS

__all__ = ["pipeline"]

_EVALUATION = EvaluationSettings()
_BANK = BankSettings()


@click.command()
@click.option(
    "--dataset",
    default=PipelineConfig.dataset,
    show_default=True,
    help="'synthetic' (embedded), 'first' (COSFIRE_HASH_DATA or download), or a zip/folder.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Run folder (created; an existing one with the same settings is continued).",
)
@click.option(
    "--per-class",
    type=click.IntRange(min=1),
    default=None,
    help=f"Filters per class (default: the preset's, or {SYNTHETIC_PER_CLASS} on the synthetic "
    "set, whose classes hold 30 training galaxies).",
)
@preset_options
@click.option(
    "--bits",
    default=",".join(str(b) for b in _EVALUATION.bits),
    show_default=True,
    help="Code lengths.",
)
@click.option(
    "--main-bits",
    type=int,
    default=_EVALUATION.main_bits,
    show_default=True,
    help="Code length of the archive and the robustness checks.",
)
@click.option(
    "--params",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON of filter options (e.g. best.json from `cosfire-hash tune`).",
)
@click.option(
    "--bank-sigmas",
    help="A mixed bank: DoG sigmas (px) the filters of each class take in turn, e.g. 2,3,5 "
    "(default: one sigma, from --params or 5).",
)
@click.option(
    "--noise-clip",
    type=float,
    default=3.0,
    show_default=True,
    help="Zero pixels below this many background rms (0 = off; a no-op on clean FIRST PNGs).",
)
@click.option(
    "--smooth-px",
    type=float,
    default=0.0,
    show_default=True,
    help="Gaussian smoothing (sigma, px) before the clipping, against noise spikes; "
    "1 suits FIRST (beam sigma 1.3 px); 0 = off.",
)
@click.option(
    "--train-rotations",
    type=click.IntRange(min=0),
    default=PipelineConfig.train_rotations,
    show_default=True,
    help="Rotated copies of the training galaxies (a random angle each) added to the "
    "hashing network's training set.",
)
@click.option("--rotations", type=click.IntRange(min=1), default=_BANK.rotations, show_default=True)
@click.option(
    "--rotation-draws",
    type=click.IntRange(min=1),
    default=_EVALUATION.rotation_draws,
    show_default=True,
    help="How many times the rotated-query check draws fresh random angles (its "
    "mAP@100 is reported per draw and as their mean).",
)
@click.option(
    "--recipe",
    type=click.Choice(["papers", "dsh", "csq"]),
    default="dsh",
    show_default=True,
    help="Hashing recipe (hashing.RECIPES): papers = DSH with RMSprop 0.01; dsh = DSH "
    "+ class loss, Adam; csq = class hash centres, retrained on train + valid.",
)
@click.option("--no-robustness", is_flag=True, help="Skip the rotated and noisy query runs.")
@click.option("--jobs", type=int, default=RunOptions.jobs, show_default=True)
@click.option("--seed", type=int, default=PipelineConfig.seed, show_default=True)
@click.option("--quiet", is_flag=True, help="No progress bars (stage names are still printed).")
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
    not redone when the same command runs again. In Python: cli.pipeline.run_pipeline.

    Examples:

    \b
      cosfire-hash pipeline --dataset first --preset recommended --out runs/first
      cosfire-hash pipeline --dataset first --params runs/tune/best.json --out runs/tuned
    """
    from cli.pipeline import run_pipeline
    from cosfire.configure import FilterConfig
    from cosfire.preprocess import Preprocessing
    from hashing.training import RECIPES

    filter_config = None
    if params is not None:
        spec = json.loads(params.read_text())
        spec = spec.get("filter_config", spec)
        filter_config = FilterConfig.from_dict(spec) if spec else None
    bank = resolve_preset(
        click.get_current_context(),
        preset,
        dataset=dataset,
        per_class=per_class,
        bank_sigmas=bank_sigmas,
        smooth_px=smooth_px,
        extras=extras,
    )
    config = PipelineConfig(
        dataset=dataset,
        seed=seed,
        bank=BankSettings(
            per_class=bank["per_class"],
            filter_config=filter_config,
            sigmas=bank["sigmas"] if len(bank["sigmas"]) > 1 or bank_sigmas else (),
            rotations=rotations,
            extras=bank["extras"],
        ),
        preprocessing=Preprocessing(noise_clip=noise_clip or None, smooth_px=bank["smooth_px"]),
        training=RECIPES[recipe],
        train_rotations=train_rotations,
        evaluation=EvaluationSettings(
            bits=tuple(int(b) for b in parse_number_list(bits, name="bits")),
            main_bits=main_bits,
            robustness=not no_robustness,
            rotation_draws=rotation_draws,
        ),
    )
    results = run_pipeline(
        config, out, RunOptions(jobs=jobs, echo=click.echo, progress_bars=not quiet)
    )
    click.echo(
        f"test mAP@100 at {main_bits} bits: {100 * results.main.map_at_100:.2f} %; SVM test "
        f"accuracy {100 * results.svm.test_accuracy:.2f} %; total {results.total_seconds:.0f} s"
    )
    click.echo(f"wrote {out / 'report.md'}")
