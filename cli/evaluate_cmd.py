"""``cosfire-hash evaluate``: the papers' retrieval metrics of an archive."""

from __future__ import annotations

import json
from pathlib import Path

import click

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
    """
    import numpy as np

    from cli._encoding import encode_dataset_split, is_cnn
    from cli._provenance import archive_bank_and_model
    from cosfire.descriptor_file import load_descriptors
    from retrieval.archive import load_archive
    from retrieval.codes import pack_codes
    from retrieval.metrics import (
        hamming_distances,
        precision_recall_curve,
        relevance,
        retrieval_report,
    )

    archive = load_archive(archive_path)
    if k > len(archive):
        raise click.BadParameter(f"the archive holds {len(archive)} galaxies", param_hint="--k")
    bank, model = archive_bank_and_model(archive, bank_override, model_override)
    if (queries_path is None) == (dataset is None):
        raise click.UsageError("give a QUERIES.npz file or --dataset (with --split), not both")
    if queries_path is not None:
        if is_cnn(model):
            raise click.UsageError(
                "this archive's model is a CNN: evaluate it with --dataset/--split"
            )
        described = load_descriptors(queries_path)
        # without a bank file, the bank the archive's descriptors recorded (if any)
        archive_bank = bank.sha256 if bank is not None else archive.bank_sha256
        if archive_bank and described.bank_sha256 not in ("", archive_bank):
            raise ValueError(
                f"{queries_path} was described with another filter bank than the archive's"
            )
        class_names, labels = described.class_names, described.labels
        codes = model.encode(described.descriptors)
    else:
        if bank is None and not is_cnn(model):
            raise click.UsageError(
                "this archive was indexed from descriptors without a filter bank, so --dataset "
                "images cannot be described: give a QUERIES.npz descriptor file"
            )
        encoded, class_names, labels = encode_dataset_split(dataset, split, bank, model)
        codes = encoded.codes
    if np.any(labels < 0):
        raise ValueError("the queries include unlabelled ones; evaluation needs labels")
    unknown = set(np.asarray(class_names)[np.unique(labels)]) - set(archive.class_names)
    if unknown:
        raise ValueError(
            f"query classes {sorted(unknown)} do not occur in the archive (classes "
            f"{', '.join(archive.class_names)})"
        )
    # compare labels by class name: the two may order their classes differently
    query_labels = np.array([archive.class_names.index(class_names[i]) for i in labels])
    codes = pack_codes(codes)
    distances = hamming_distances(codes, archive.index.codes)
    report = retrieval_report(
        distances,
        query_labels,
        archive.labels,
        k=k,
        precision_ks=(10, 50, 100),
        class_names=archive.class_names,
        ties=ties,
        seed=seed,  # type: ignore[arg-type]
    )
    report["bits"] = model.bits
    if as_json:
        click.echo(json.dumps(report, indent=1))
    else:
        keys = [f"map_at_{k}", "map_at_r", "precision_at_10", "precision_at_50", "precision_at_100"]
        click.echo(
            f"{report['queries']} queries against {report['database']} galaxies, "
            f"{model.bits}-bit codes, ties {ties}"
        )
        click.echo(f"{'':12s}" + "".join(f"{key:>18s}" for key in keys))
        click.echo(f"{'all':12s}" + "".join(f"{report[key]:18.4f}" for key in keys))
        for name, values in report["per_class"].items():
            click.echo(f"{name:12s}" + "".join(f"{values[key]:18.4f}" for key in keys))
    if plot_dir is not None:
        from cli._plots import plot_per_class, plot_pr_curve

        plot_dir.mkdir(parents=True, exist_ok=True)
        _, precision, recall = precision_recall_curve(
            distances, relevance(query_labels, archive.labels)
        )
        plot_pr_curve(
            recall,
            precision,
            plot_dir / "pr_curve.png",
            title=f"{model.bits}-bit codes: mAP@{k} {report[f'map_at_{k}']:.3f}",
        )
        plot_per_class(report, plot_dir / "per_class.png", keys=(f"map_at_{k}", "precision_at_10"))
        if not as_json:
            click.echo(f"wrote {plot_dir / 'pr_curve.png'} and {plot_dir / 'per_class.png'}")
