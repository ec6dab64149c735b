"""``cosfire-hash train``: train a hashing model on descriptor files, or a CNN baseline on images."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

__all__ = ["train"]


@click.command()
@click.argument(
    "train_path",
    metavar="[TRAIN.npz]",
    required=False,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--valid",
    "valid_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Validation descriptors (default: a stratified 20% of TRAIN).",
)
@click.option(
    "--bits", type=click.IntRange(min=1), default=36, show_default=True, help="Code length."
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=None,
    help="Most epochs [recipe's; CNN: 10; compact: 40].",
)
@click.option(
    "--lr", type=float, default=None, help="Learning rate [recipe's; CNN: 1e-4; compact: 2e-3]."
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=2),
    default=None,
    help="[recipe's; CNN: 32; compact: 64]",
)
@click.option("--margin", type=float, default=None, help="Loss margin (default: 2 x bits for DSH).")
@click.option("--alpha", type=float, default=None, help="DSH quantisation weight [recipe's].")
@click.option(
    "--recipe",
    type=click.Choice(["papers", "dsh", "csq"]),
    default="dsh",
    show_default=True,
    help="MLP training recipe (hashing.RECIPES, as pipeline --recipe); the options "
    "below override it.",
)
@click.option(
    "--optimizer", type=click.Choice(["rmsprop", "adam"]), default=None, help="[recipe's]"
)
@click.option(
    "--loss",
    type=click.Choice(["dsh", "triplet", "csq"]),
    default=None,
    help="[recipe's; densenet161: triplet]",
)
@click.option(
    "--normalisation",
    type=click.Choice(["l2", "standard", "l2+standard", "none"]),
    default=None,
    help="Input normalisation inside the model [recipe's].",
)
@click.option("--dropout", type=float, default=None, help="[recipe's]")
@click.option(
    "--patience",
    type=click.IntRange(min=1),
    default=None,
    help="Stop after this many epochs without a better validation mAP [60; CNN: 5; compact: 40].",
)
@click.option(
    "--threshold",
    type=click.Choice(["sign", "sweep"]),
    default=None,
    help="Binarise at 0, or at the threshold in -1..1 that maximises validation mAP [recipe's].",
)
@click.option(
    "--backbone",
    type=click.Choice(["compact", "densenet161", "hrnet_w18"]),
    help="Train a CNN baseline on images (needs --dataset) instead of an MLP; "
    "compact: a 245k-parameter CNN from scratch, the recipe of "
    "hashing.cnn.compact_config.",
)
@click.option("--dataset", help="CNN: labelled images ('first', 'synthetic', a zip or folder).")
@click.option("--split", default="train", show_default=True, help="CNN: training split.")
@click.option("--valid-split", default="valid", show_default=True, help="CNN: validation split.")
@click.option(
    "--weights",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CNN: pretrained ImageNet weights (a state_dict file).",
)
@click.option("--pretrained", is_flag=True, help="CNN: download ImageNet weights (needs network).")
@click.option(
    "--input-px",
    type=click.IntRange(min=32),
    default=None,
    help="CNN: input size in pixels [224; compact: 96].",
)
@click.option(
    "--crop-px",
    type=click.IntRange(min=8),
    default=None,
    help="CNN: centre crop in pixels before resizing [150].",
)
@click.option(
    "--frozen-epochs",
    type=click.IntRange(min=0),
    default=None,
    help="CNN: epochs with a frozen backbone before fine-tuning [1; compact: 0].",
)
@click.option(
    "--train-limit",
    type=click.IntRange(min=2),
    default=None,
    help="CNN: use at most this many training images per class (reduced schedules).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="cpu", show_default=True, help="torch device, e.g. cuda.")
@click.option(
    "--curve",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Loss/mAP curve PNG (default: next to the model).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Model file to write (.pt).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def train(
    train_path: Path | None,
    valid_path: Path | None,
    output: Path,
    curve: Path | None,
    quiet: bool,
    **options,
) -> None:
    """Train a hashing network on TRAIN descriptors and save it.

    The epoch with the best validation mAP@100 (validation descriptors as queries, training
    descriptors as database) is kept; training stops after --patience epochs without progress.
    With --backbone, a CNN baseline is trained on the images of --dataset instead.

    Examples:

    \b
      cosfire-hash train train.npz --bits 36 -o model.pt
      cosfire-hash train train.npz --recipe csq --bits 64 -o csq64.pt
      cosfire-hash train --backbone compact --dataset first --bits 36 -o compact.pt
    """
    from tqdm import tqdm

    from cli.training import train_cnn_on_dataset, train_from_descriptor_files
    from hashing.curves import plot_training_curves

    backbone = options.pop("backbone")
    if backbone:
        if train_path is not None or options["dataset"] is None:
            raise click.UsageError("--backbone trains on images: give --dataset, not TRAIN.npz")
        config = _cnn_config(backbone, options)
    else:
        if train_path is None:
            raise click.UsageError("give TRAIN.npz (from `cosfire-hash describe`), or --backbone")
        config = _mlp_config(options)
    with tqdm(total=config.epochs, desc="train", unit="epoch", disable=quiet) as bar:

        def report(state: dict) -> None:
            bar.update(1)
            bar.set_postfix(
                loss=f"{state['loss']:.3g}",
                map=f"{state['valid_map']:.3f}",
                best=f"{state['best']:.3f}",
            )

        if backbone:
            model, history = train_cnn_on_dataset(
                options["dataset"],
                config,
                split=options["split"],
                valid_split=options["valid_split"],
                train_limit=options["train_limit"],
                progress=report,
            )
        else:
            model, history = train_from_descriptor_files(
                train_path, valid_path, config, progress=report
            )
    model.save(output)
    curve_path = curve or output.with_suffix(".curve.png")
    plot_training_curves(history, curve_path)
    click.echo(
        f"validation mAP@100 {history.best_valid_map:.4f} (epoch {history.best_epoch} of "
        f"{history.epochs[-1]}, threshold {model.threshold:+.1f}, {history.seconds:.1f} s)"
    )
    click.echo(f"wrote {output} and {curve_path}")


#: MLP options that override the recipe's value when given
MLP_OVERRIDES = (
    "margin",
    "alpha",
    "optimizer",
    "normalisation",
    "dropout",
    "threshold",
    "epochs",
    "lr",
    "batch_size",
    "patience",
    "loss",
)
#: CNN options that override the backbone recipe's value when given
CNN_OVERRIDES = (
    "margin",
    "alpha",
    "input_px",
    "crop_px",
    "lr",
    "batch_size",
    "epochs",
    "frozen_epochs",
    "patience",
    "loss",
)


def _mlp_config(options: dict):
    """The recipe's TrainingConfig with the options given on the command line."""
    from hashing.training import RECIPES

    # every default is the recipe's (hashing.RECIPES), so train and pipeline train alike
    given = {name: options[name] for name in MLP_OVERRIDES if options[name] is not None}
    return dataclasses.replace(
        RECIPES[options["recipe"]],
        bits=options["bits"],
        seed=options["seed"],
        device=options["device"],
        **given,
    )


def _cnn_config(backbone: str, options: dict):
    """The backbone's recipe (hashing.cnn.backbone_config) with the options given."""
    try:
        from hashing.cnn import backbone_config
    except ImportError:
        raise click.UsageError(
            "CNN baselines need the extra: pip install 'cosfire-hash[cnn]'"
        ) from None
    given = {name: options[name] for name in CNN_OVERRIDES if options[name] is not None}
    given.update(bits=options["bits"], seed=options["seed"], device=options["device"])
    if backbone == "compact":
        if options["weights"] or options["pretrained"]:
            raise click.UsageError(
                "--backbone compact trains from scratch; drop --weights/--pretrained"
            )
    else:
        given.update(
            weights=str(options["weights"]) if options["weights"] else None,
            pretrained=options["pretrained"],
        )
    return backbone_config(backbone, **given)
