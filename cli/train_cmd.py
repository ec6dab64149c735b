"""``cosfire-hash train``: train a hashing model on descriptor files."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["train"]


@click.command()
@click.argument(
    "train_path", metavar="TRAIN.npz", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--valid", "valid_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Validation descriptors (default: a stratified 20% of TRAIN).")  # fmt: skip
@click.option(
    "--bits", type=click.IntRange(min=1), default=36, show_default=True, help="Code length."
)
@click.option("--epochs", type=click.IntRange(min=1), default=300, show_default=True)
@click.option("--lr", type=float, default=0.01, show_default=True, help="Learning rate.")
@click.option("--batch-size", type=click.IntRange(min=2), default=48, show_default=True)
@click.option("--margin", type=float, default=None, help="Loss margin (default: 2 x bits for DSH).")
@click.option("--alpha", type=float, default=1e-5, show_default=True, help="Quantisation weight.")
@click.option(
    "--optimizer", type=click.Choice(["rmsprop", "adam"]), default="rmsprop", show_default=True
)
@click.option("--loss", type=click.Choice(["dsh", "triplet"]), default="dsh", show_default=True)
@click.option("--normalisation", type=click.Choice(["l2", "standard", "l2+standard", "none"]),
              default="l2", show_default=True, help="Input normalisation inside the model.")  # fmt: skip
@click.option("--dropout", type=float, default=0.0, show_default=True)
@click.option("--patience", type=click.IntRange(min=1), default=60, show_default=True,
              help="Stop after this many epochs without a better validation mAP.")  # fmt: skip
@click.option("--threshold", type=click.Choice(["sign", "sweep"]), default="sign", show_default=True,
              help="Binarise at 0, or at the threshold in -1..1 that maximises validation mAP.")  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="cpu", show_default=True, help="torch device, e.g. cuda.")
@click.option("--curve", type=click.Path(dir_okay=False, path_type=Path),
              help="Loss/mAP curve PNG (default: next to the model).")  # fmt: skip
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Model file to write (.pt).")  # fmt: skip
@click.option("--quiet", is_flag=True, help="No progress bar.")
def train(
    train_path: Path,
    valid_path: Path | None,
    output: Path,
    curve: Path | None,
    quiet: bool,
    **options,
) -> None:
    """Train a hashing network on TRAIN descriptors and save it.

    The epoch with the best validation mAP@100 (validation descriptors as queries, training
    descriptors as database) is kept; training stops after --patience epochs without progress.
    """
    import numpy as np
    from tqdm import tqdm

    from cosfire.descriptor_file import load_descriptors
    from hashing.curves import plot_training_curves
    from hashing.training import TrainingConfig, stratified_split, train_hashing

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
    config = TrainingConfig(**options)
    with tqdm(total=config.epochs, desc="train", unit="epoch", disable=quiet) as bar:

        def report(state: dict) -> None:
            bar.update(1)
            bar.set_postfix(loss=f"{state['loss']:.3g}", map=f"{state['valid_map']:.3f}",
                            best=f"{state['best']:.3f}")  # fmt: skip

        model, history = train_hashing(
            training.descriptors, training.labels, validation.descriptors, validation.labels,
            config=config, bank_sha256=training.bank_sha256, progress=report,
        )  # fmt: skip
    model.metadata["class_names"] = list(training.class_names)
    model.save(output)
    curve_path = curve or output.with_suffix(".curve.png")
    plot_training_curves(history, curve_path)
    click.echo(
        f"validation mAP@100 {history.best_valid_map:.4f} (epoch {history.best_epoch} of "
        f"{history.epochs[-1]}, threshold {model.threshold:+.1f}, {history.seconds:.1f} s)"
    )
    click.echo(f"wrote {output} and {curve_path}")
