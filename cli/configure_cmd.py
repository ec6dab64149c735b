"""``cosfire-hash configure``: build a COSFIRE filter bank from prototypes."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import click

from cli._parsing import parse_number_list, parse_point

__all__ = ["PRESET_NAMES", "configure", "filter_options", "preset_options", "resolve_preset"]

#: names of cosfire.presets.BANK_PRESETS (kept here so that --help imports no numpy; a test
#: checks they agree)
PRESET_NAMES: tuple[str, ...] = ("papers", "recommended")


def preset_options(function):
    """Attach --preset and --extras (bank recipes) to a configure-like command."""
    function = click.option(
        "--extras",
        help="Morphology measurements appended to every descriptor (not COSFIRE responses): "
        "comma-separated groups of radial, angular, moments, lbp, or 'none' [from --preset].",
    )(function)
    return click.option(
        "--preset",
        type=click.Choice(PRESET_NAMES),
        default="papers",
        show_default=True,
        help="Bank recipe: DoG sigmas, smoothing, filters per class and extras; options given "
        "explicitly override it. recommended: the bank chosen on FIRST (see the README).",
    )(function)


def resolve_preset(
    ctx: click.Context,
    preset: str,
    *,
    dataset: str | None,
    per_class: int | None,
    bank_sigmas: str | None,
    smooth_px: float,
    extras: str | None,
) -> dict:
    """Return per_class, sigmas, smooth_px and extras: explicit options, else the preset's
    (filters per class: ``cosfire.presets.default_per_class`` of ``dataset`` when given)."""
    from cosfire.morphology import MORPHOLOGY_GROUPS
    from cosfire.presets import bank_preset, default_per_class

    recipe = bank_preset(preset)
    explicit_smooth = (
        ctx.get_parameter_source("smooth_px") == click.core.ParameterSource.COMMANDLINE
    )
    if extras is None:
        groups = recipe.extras
    elif extras.strip().lower() == "none":
        groups = ()
    else:
        groups = tuple(g.strip() for g in extras.split(",") if g.strip())
        unknown = [g for g in groups if g not in MORPHOLOGY_GROUPS]
        if unknown or not groups:
            raise click.BadParameter(
                f"{extras!r}: give groups of {', '.join(MORPHOLOGY_GROUPS)}, or none",
                param_hint="--extras",
            )
    if per_class is None:
        per_class = recipe.per_class if dataset is None else default_per_class(dataset, preset)
    return {
        "per_class": per_class,
        "sigmas": parse_number_list(bank_sigmas, name="bank-sigmas")
        if bank_sigmas
        else recipe.sigmas,
        "smooth_px": (smooth_px or None) if explicit_smooth else recipe.smooth_px,
        "extras": groups,
    }


def filter_options(function):
    """Attach the filter and preprocessing options shared by configure-like commands."""
    options = [
        click.option(
            "--input-filter",
            type=click.Choice(["dog", "gabor"]),
            default="dog",
            show_default=True,
            help="Input filter kind.",
        ),
        click.option(
            "--sigma",
            default="5",
            show_default=True,
            help="DoG outer sigma(s), px (e.g. 5 or 4,6).",
        ),
        click.option(
            "--polarity",
            type=click.Choice(["on", "off", "both"]),
            default="on",
            show_default=True,
            help="DoG polarity.",
        ),
        click.option("--sigma-ratio", type=float, default=0.5, show_default=True),
        click.option(
            "--wavelengths", default="8", show_default=True, help="Gabor wavelength(s), px."
        ),
        click.option(
            "--orientations", type=int, default=12, show_default=True, help="Gabor angles."
        ),
        click.option(
            "--rhos",
            default="0:5:30",
            show_default=True,
            help="Circle radii, px (start:step:stop).",
        ),
        click.option("--t1", type=float, default=0.05, show_default=True, help="Input threshold."),
        click.option("--t2", type=float, default=0.75, show_default=True, help="Tuple threshold."),
        click.option(
            "--eta-deg", type=float, default=22.5, show_default=True, help="Peak merge angle."
        ),
        click.option("--sigma0", type=float, default=0.5, show_default=True, help="Blur base."),
        click.option("--alpha", type=float, default=0.10, show_default=True, help="Blur growth."),
        click.option("--blur", type=click.Choice(["max", "sum"]), default="max", show_default=True),
        click.option("--weighted/--unweighted", default=True, show_default=True),
        click.option(
            "--weight-rule",
            type=click.Choice(["radio", "half"]),
            default="radio",
            show_default=True,
        ),
        click.option(
            "--shift",
            type=click.Choice(["bilinear", "round"]),
            default="bilinear",
            show_default=True,
            help="Sub-pixel or whole-pixel (reference code) tuple shifts.",
        ),
        click.option(
            "--rotations",
            type=click.IntRange(min=1),
            default=24,
            show_default=True,
            help="Number of equally spaced rotations over 360 degrees.",
        ),
        click.option(
            "--crop",
            type=int,
            default=150,
            show_default=True,
            help="Centre crop in px (0 = none).",
        ),
        click.option(
            "--noise-clip",
            type=float,
            default=3.0,
            show_default=True,
            help="Zero pixels below this many background rms (0 = off).",
        ),
        click.option(
            "--smooth-px",
            type=float,
            default=0.0,
            show_default=True,
            help="Gaussian smoothing (sigma, px) before the clipping, against noise spikes (0 = off).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def build_filter_config(options: dict):
    """Return (FilterConfig, Preprocessing, rotations) from parsed filter options."""
    from cosfire.configure import FilterConfig
    from cosfire.preprocess import Preprocessing

    config = FilterConfig(
        input_filter=options["input_filter"],
        sigma=parse_number_list(options["sigma"], name="sigma"),
        polarity=options["polarity"],
        sigma_ratio=options["sigma_ratio"],
        wavelengths=parse_number_list(options["wavelengths"], name="wavelengths"),
        orientations=options["orientations"],
        rhos=parse_number_list(options["rhos"], name="rhos"),
        t1=options["t1"],
        t2=options["t2"],
        eta=math.radians(options["eta_deg"]),
        sigma0=options["sigma0"],
        alpha=options["alpha"],
        blur=options["blur"],
        weighted=options["weighted"],
        weight_rule=options["weight_rule"],
        shift=options["shift"],
    )
    if len(config.sigma) == 1:  # type: ignore[arg-type]
        config = FilterConfig.from_dict({**config.to_dict(), "sigma": config.sigma[0]})  # type: ignore[index]
    preprocessing = Preprocessing(
        crop_px=options["crop"] or None,
        noise_clip=options["noise_clip"] or None,
        smooth_px=options["smooth_px"] or None,
    )
    rotations = tuple(360.0 * i / options["rotations"] for i in range(options["rotations"]))
    return config, preprocessing, rotations


@click.command()
@click.option(
    "--dataset",
    "dataset_source",
    help="Labelled images: the FIRST zip/folder, a <split>/<class>/ folder, 'first' or 'synthetic'.",
)
@click.option("--split", default="train", show_default=True, help="Split to draw prototypes from.")
@click.option(
    "--per-class",
    type=click.IntRange(min=1),
    default=None,
    help="Filters per class [from --preset: 93 for papers; 10 on the synthetic set].",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the prototype draw.")
@click.option(
    "--prototype",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Configure one filter on this image instead of a dataset.",
)
@click.option("--center", help="Point of interest X,Y in px (default: image centre).")
@click.option(
    "--bank-sigmas",
    help="With --dataset: a mixed bank whose filters take these DoG sigmas (px) in turn, "
    "e.g. 2,3,5 (replaces --sigma).",
)
@click.option("--label", help="Class name of the prototype.")
@preset_options
@filter_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Bank JSON to write.",
)
def configure(
    dataset_source: str | None,
    split: str,
    per_class: int,
    seed: int,
    prototype: Path | None,
    center: str | None,
    bank_sigmas: str | None,
    label: str | None,
    output: Path,
    preset: str,
    extras: str | None,
    **options,
) -> None:
    """Configure a COSFIRE filter bank from prototype galaxies and save it as JSON.

    With --dataset, draws --per-class prototypes of every class from --split (reproducibly,
    with --seed) and configures one filter on each at its image centre. With --prototype,
    configures one filter on one image.

    Examples:

    \b
      cosfire-hash configure --dataset first --preset recommended -o bank.json
      cosfire-hash configure --prototype my_cutout.png --label FRII -o one.json
    """
    from tqdm import tqdm

    from cli.configuring import configure_from_dataset, configure_from_prototype

    if (dataset_source is None) == (prototype is None):
        raise click.UsageError("give exactly one of --dataset or --prototype")
    config, preprocessing, rotations = build_filter_config(options)
    recipe = resolve_preset(
        click.get_current_context(),
        preset,
        dataset=dataset_source,
        per_class=per_class,
        bank_sigmas=bank_sigmas,
        smooth_px=options["smooth_px"],
        extras=extras,
    )
    per_class = recipe["per_class"]
    preprocessing = dataclasses.replace(preprocessing, smooth_px=recipe["smooth_px"])
    sigma_given = (
        click.get_current_context().get_parameter_source("sigma")
        == click.core.ParameterSource.COMMANDLINE
    )
    mixed_sigmas = (
        recipe["sigmas"] if bank_sigmas or (len(recipe["sigmas"]) > 1 and not sigma_given) else ()
    )
    if prototype is not None:
        if bank_sigmas:
            raise click.UsageError("--bank-sigmas applies to --dataset only")
        bank = configure_from_prototype(
            prototype,
            config=config,
            preprocessing=preprocessing,
            rotations_deg=rotations,
            point=parse_point(center, name="center") if center else None,
            label=label,
            extras=recipe["extras"],
        )
    else:
        if center:
            raise click.UsageError("--center applies to --prototype only")
        configs = [config]
        if mixed_sigmas:
            if not all(math.isfinite(sigma) and sigma > 0 for sigma in mixed_sigmas):
                raise click.BadParameter("sigmas must be > 0 px", param_hint="--bank-sigmas")
            configs = [dataclasses.replace(config, sigma=sigma) for sigma in mixed_sigmas]
        from cosfire.datasets import open_dataset

        dataset = open_dataset(dataset_source)
        total = per_class * len(dataset.class_names)
        with tqdm(total=total, desc="configure", unit="filter") as bar:
            bank = configure_from_dataset(
                dataset,
                split,
                per_class=per_class,
                seed=seed,
                config=configs,
                preprocessing=preprocessing,
                rotations_deg=rotations,
                progress=bar.update,
                extras=recipe["extras"],
            )
        bank.metadata.update({"dataset": str(dataset.source), "split": split})
    bank.save(output)
    tuples = [len(f.tuples) for f in bank.filters]
    click.echo(
        f"wrote {output}: {bank.n_filters} filters "
        f"({min(tuples)}-{max(tuples)} tuples, mean {sum(tuples) / len(tuples):.1f}), "
        f"{len(rotations)} rotations, sha256 {bank.sha256[:12]}"
    )
