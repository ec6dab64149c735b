"""``cosfire-hash train``: train a hashing model on descriptor files, or a CNN baseline on images."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

__all__ = ["train"]


@click.command()
@click.argument("train_path", metavar="[TRAIN.npz]", required=False,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))  # fmt: skip
@click.option("--valid", "valid_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Validation descriptors (default: a stratified 20% of TRAIN).")  # fmt: skip
@click.option(
    "--bits", type=click.IntRange(min=1), default=36, show_default=True, help="Code length."
)
@click.option("--epochs", type=click.IntRange(min=1), default=None,
              help="Most epochs [recipe's; CNN: 10; compact: 40].")  # fmt: skip
@click.option("--lr", type=float, default=None,
              help="Learning rate [recipe's; CNN: 1e-4; compact: 2e-3].")  # fmt: skip
@click.option("--batch-size", type=click.IntRange(min=2), default=None,
              help="[recipe's; CNN: 32; compact: 64]")  # fmt: skip
@click.option("--margin", type=float, default=None, help="Loss margin (default: 2 x bits for DSH).")
@click.option("--alpha", type=float, default=None, help="DSH quantisation weight [recipe's].")
@click.option("--recipe", type=click.Choice(["papers", "dsh", "csq"]), default="dsh",
              show_default=True,
              help="MLP training recipe (hashing.RECIPES, as pipeline --recipe); the options "
                   "below override it.")  # fmt: skip
@click.option("--optimizer", type=click.Choice(["rmsprop", "adam"]), default=None,
              help="[recipe's]")  # fmt: skip
@click.option("--loss", type=click.Choice(["dsh", "triplet", "csq"]), default=None,
              help="[recipe's; densenet161: triplet]")  # fmt: skip
@click.option("--normalisation", type=click.Choice(["l2", "standard", "l2+standard", "none"]),
              default=None, help="Input normalisation inside the model [recipe's].")  # fmt: skip
@click.option("--dropout", type=float, default=None, help="[recipe's]")
@click.option("--patience", type=click.IntRange(min=1), default=None,
              help="Stop after this many epochs without a better validation mAP "
                   "[60; CNN: 5; compact: 40].")  # fmt: skip
@click.option("--threshold", type=click.Choice(["sign", "sweep"]), default=None,
              help="Binarise at 0, or at the threshold in -1..1 that maximises validation mAP "
                   "[recipe's].")  # fmt: skip
@click.option("--backbone", type=click.Choice(["compact", "densenet161", "hrnet_w18"]),
              help="Train a CNN baseline on images (needs --dataset) instead of an MLP; "
                   "compact: a 245k-parameter CNN from scratch, the recipe of "
                   "hashing.cnn.compact_config.")  # fmt: skip
@click.option("--dataset", help="CNN: labelled images ('first', 'synthetic', a zip or folder).")
@click.option("--split", default="train", show_default=True, help="CNN: training split.")
@click.option("--valid-split", default="valid", show_default=True, help="CNN: validation split.")
@click.option("--weights", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CNN: pretrained ImageNet weights (a state_dict file).")  # fmt: skip
@click.option("--pretrained", is_flag=True, help="CNN: download ImageNet weights (needs network).")
@click.option("--input-px", type=click.IntRange(min=32), default=None,
              help="CNN: input size in pixels [224; compact: 96].")  # fmt: skip
@click.option("--crop-px", type=click.IntRange(min=8), default=None,
              help="CNN: centre crop in pixels before resizing [150].")  # fmt: skip
@click.option("--frozen-epochs", type=click.IntRange(min=0), default=None,
              help="CNN: epochs with a frozen backbone before fine-tuning [1; compact: 0].")  # fmt: skip
@click.option("--train-limit", type=click.IntRange(min=2), default=None,
              help="CNN: use at most this many training images per class (reduced schedules).")  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="cpu", show_default=True, help="torch device, e.g. cuda.")
@click.option("--curve", type=click.Path(dir_okay=False, path_type=Path),
              help="Loss/mAP curve PNG (default: next to the model).")  # fmt: skip
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Model file to write (.pt).")  # fmt: skip
@click.option("--quiet", is_flag=True, help="No progress bar.")
def train(train_path: Path | None, valid_path: Path | None, output: Path, curve: Path | None,
          quiet: bool, **options) -> None:  # fmt: skip
    """Train a hashing network on TRAIN descriptors and save it.

    The epoch with the best validation mAP@100 (validation descriptors as queries, training
    descriptors as database) is kept; training stops after --patience epochs without progress.
    With --backbone, a CNN baseline is trained on the images of --dataset instead.
    """
    from tqdm import tqdm

    from hashing.curves import plot_training_curves

    backbone = options.pop("backbone")
    total = options["epochs"] or {None: 300, "compact": 40}.get(backbone, 10)
    with tqdm(total=total, desc="train", unit="epoch", disable=quiet) as bar:

        def report(state: dict) -> None:
            bar.update(1)
            bar.set_postfix(loss=f"{state['loss']:.3g}", map=f"{state['valid_map']:.3f}",
                            best=f"{state['best']:.3f}")  # fmt: skip

        if backbone:
            if train_path is not None or options["dataset"] is None:
                raise click.UsageError("--backbone trains on images: give --dataset, not TRAIN.npz")
            model, history = _train_cnn(backbone, options, report)
        else:
            if train_path is None:
                raise click.UsageError(
                    "give TRAIN.npz (from `cosfire-hash describe`), or --backbone"
                )
            model, history = _train_mlp(train_path, valid_path, options, report)
    model.save(output)
    curve_path = curve or output.with_suffix(".curve.png")
    plot_training_curves(history, curve_path)
    click.echo(
        f"validation mAP@100 {history.best_valid_map:.4f} (epoch {history.best_epoch} of "
        f"{history.epochs[-1]}, threshold {model.threshold:+.1f}, {history.seconds:.1f} s)"
    )
    click.echo(f"wrote {output} and {curve_path}")


def _train_mlp(train_path: Path, valid_path: Path | None, options: dict, report):
    import numpy as np

    from cosfire.descriptor_file import load_descriptors
    from hashing.training import RECIPES, stratified_split, train_hashing

    training = load_descriptors(train_path)
    if valid_path is not None:
        validation = load_descriptors(valid_path)
        if validation.n_filters != training.n_filters:
            raise ValueError(
                f"{valid_path} has {validation.n_filters} values per image but {train_path} has "
                f"{training.n_filters}; describe both with the same filter bank"
            )
        if validation.bank_sha256 != training.bank_sha256:
            click.echo(
                "warning: the two descriptor files come from different filter banks", err=True
            )
    else:
        kept, held = stratified_split(training.labels, 0.2, seed=options["seed"])
        training, validation = training.select(kept), training.select(held)
    if np.any(training.labels < 0) or np.any(validation.labels < 0):
        raise ValueError("training needs labelled descriptors (some labels are -1, unknown)")
    if validation.class_names != training.class_names:
        raise ValueError("the training and validation files have different class names")
    overridable = ("margin", "alpha", "optimizer", "normalisation", "dropout", "threshold",
                   "epochs", "lr", "batch_size", "patience", "loss")  # fmt: skip
    # every default is the recipe's (hashing.RECIPES), so train and pipeline train alike
    settings = {name: options[name] for name in overridable if options[name] is not None}
    config = dataclasses.replace(
        RECIPES[options["recipe"]], bits=options["bits"], seed=options["seed"],
        device=options["device"], **settings,
    )  # fmt: skip
    model, history = train_hashing(
        training.descriptors, training.labels, validation.descriptors, validation.labels,
        config=config, bank_sha256=training.bank_sha256, progress=report,
    )  # fmt: skip
    model.metadata["class_names"] = list(training.class_names)
    return model, history


def _train_cnn(backbone: str, options: dict, report):
    from cosfire.datasets import open_dataset, stratified_subset

    try:
        from hashing.cnn import CNNConfig, compact_config, train_cnn_hashing
    except ImportError:
        raise click.UsageError(
            "CNN baselines need the extra: pip install 'cosfire-hash[cnn]'"
        ) from None
    dataset = open_dataset(options["dataset"])
    train_items = dataset.items(options["split"])
    if options["train_limit"]:
        train_items = stratified_subset(train_items, options["train_limit"], seed=options["seed"])
    valid_items = dataset.items(options["valid_split"])
    given = {name: options[name] for name in ("margin", "input_px", "crop_px", "lr", "batch_size",
                                              "epochs", "frozen_epochs", "patience", "loss")
             if options[name] is not None}  # fmt: skip
    common = dict(bits=options["bits"], seed=options["seed"], device=options["device"])
    if options["alpha"] is not None:
        common["alpha"] = options["alpha"]
    if backbone == "compact":
        if options["weights"] or options["pretrained"]:
            raise click.UsageError(
                "--backbone compact trains from scratch; drop --weights/--pretrained"
            )
        config = compact_config(**common, **given)
    else:
        config = CNNConfig(**{
            "backbone": backbone, "loss": "triplet" if backbone == "densenet161" else "dsh",
            "input_px": 224, "lr": 1e-4, "batch_size": 32, "epochs": 10, "frozen_epochs": 1,
            "patience": 5, **common, **given,
            "weights": str(options["weights"]) if options["weights"] else None,
            "pretrained": options["pretrained"],
        })  # fmt: skip
    model, history = train_cnn_hashing(
        dataset.read_many(train_items), [i.label for i in train_items],
        dataset.read_many(valid_items), [i.label for i in valid_items], config=config, progress=report,
    )  # fmt: skip
    model.metadata.update(class_names=list(dataset.class_names), dataset=dataset.source,
                          train_images=len(train_items))  # fmt: skip
    return model, history
