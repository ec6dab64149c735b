"""Evaluating an archive: the papers' retrieval metrics of labelled queries against it.

Click-free, so that a notebook can do what ``cosfire-hash evaluate`` does; the command parses
its options and calls :func:`evaluate_archive`. It lives in ``cli`` because it joins
``cosfire`` (descriptor files, banks, data sets), ``hashing`` (the archive's model) and
``retrieval`` (the archive and the metrics).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from cli.errors import UnsuitableQueries

if TYPE_CHECKING:
    from retrieval.scores import RetrievalScores

__all__ = ["ArchiveEvaluation", "UnsuitableQueries", "evaluate_archive", "plot_evaluation"]


@dataclass(frozen=True)
class ArchiveEvaluation:
    """What :func:`evaluate_archive` measured.

    Attributes
    ----------
    report : dict
        :func:`retrieval.metrics.retrieval_report` (mAP@k, mAP@R, precision@10/50/100, overall
        and per query class) with ``bits`` added.
    distances : ndarray of int, shape (queries, archive items)
        Hamming distances of the query codes to the archive's codes.
    query_labels : ndarray of int
        Query classes as indices into the archive's class names.
    database_labels : ndarray of int
        The archive's labels.
    bits : int
        Code length of the archive's model.
    """

    report: dict[str, Any]
    distances: np.ndarray
    query_labels: np.ndarray
    database_labels: np.ndarray
    bits: int

    @property
    def scores(self) -> RetrievalScores:
        """The report as typed scores (overall and per class).

        Examples
        --------
        >>> evaluation = evaluate_archive(Path("archive.chx"), Path("test.npz"))  # doctest: +SKIP
        >>> evaluation.scores.per_class["FRII"].map_at_k  # doctest: +SKIP
        0.83...
        """
        from retrieval.scores import RetrievalScores

        return RetrievalScores.from_report(self.report)

    def precision_recall(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (recall, precision) over the Hamming radii, pooled over the queries.

        Examples
        --------
        >>> evaluation = evaluate_archive(Path("archive.chx"), Path("test.npz"))  # doctest: +SKIP
        >>> recall, precision = evaluation.precision_recall()  # doctest: +SKIP
        """
        from retrieval.metrics import precision_recall_curve, relevance

        _, precision, recall = precision_recall_curve(
            self.distances, relevance(self.query_labels, self.database_labels)
        )
        return recall, precision


def plot_evaluation(evaluation: ArchiveEvaluation, folder: Path) -> tuple[Path, Path]:
    """Draw the precision-recall curve and the per-class scores into ``folder``.

    Returns
    -------
    tuple of Path
        ``pr_curve.png`` and ``per_class.png`` in ``folder`` (created if needed).

    Examples
    --------
    >>> evaluation = evaluate_archive(Path("archive.chx"), Path("test.npz"))  # doctest: +SKIP
    >>> plot_evaluation(evaluation, Path("plots"))  # doctest: +SKIP
    (PosixPath('plots/pr_curve.png'), PosixPath('plots/per_class.png'))
    """
    from cli._plots import plot_per_class, plot_pr_curve

    folder.mkdir(parents=True, exist_ok=True)
    k = evaluation.scores.k
    recall, precision = evaluation.precision_recall()
    curve, per_class = folder / "pr_curve.png", folder / "per_class.png"
    plot_pr_curve(
        recall,
        precision,
        curve,
        title=f"{evaluation.bits}-bit codes: mAP@{k} {evaluation.report[f'map_at_{k}']:.3f}",
    )
    plot_per_class(evaluation.report, per_class, keys=(f"map_at_{k}", "precision_at_10"))
    return curve, per_class


def evaluate_archive(
    archive_path: Path,
    queries_path: Path | None = None,
    *,
    dataset: str | None = None,
    split: str = "test",
    k: int = 100,
    ties: Literal["random", "average", "stable"] = "random",
    seed: int = 0,
    bank_path: Path | None = None,
    model_path: Path | None = None,
) -> ArchiveEvaluation:
    """Return the retrieval metrics of labelled queries against an archive (relevant = same class).

    Parameters
    ----------
    archive_path : Path
        The archive (``cosfire-hash index``).
    queries_path : Path, optional
        A descriptor file of labelled queries; or give ``dataset`` (and ``split``) instead:
        images described with the archive's bank, or hashed directly by a CNN model.
    dataset, split : str
        Labelled images as queries (``"first"``, ``"synthetic"``, a zip or folder).
    k : int
        The mAP@k cut-off.
    ties, seed
        How equal Hamming distances are ordered (see :func:`retrieval.metrics.retrieval_report`).
    bank_path, model_path : Path, optional
        Files to use instead of those the archive records (checked against its checksums).

    Returns
    -------
    ArchiveEvaluation

    Raises
    ------
    UnsuitableQueries
        If both or neither query source is given, ``k`` exceeds the archive, or the queries
        cannot be encoded (a CNN archive with descriptor queries, a bankless archive with image
        queries).
    ValueError
        If the queries do not fit the archive (another bank, unknown classes, unlabelled).

    Examples
    --------
    >>> evaluation = evaluate_archive(Path("archive.chx"), Path("test.npz"))  # doctest: +SKIP
    >>> round(evaluation.report["map_at_100"], 3)  # doctest: +SKIP
    0.853
    """
    from cli._encoding import encode_dataset_split, is_cnn
    from cli._provenance import archive_bank_and_model
    from cosfire.descriptor_file import load_descriptors
    from retrieval.archive import load_archive
    from retrieval.codes import pack_codes
    from retrieval.metrics import hamming_distances, retrieval_report

    archive = load_archive(archive_path)
    if k > len(archive):
        raise UnsuitableQueries(
            f"--k {k} is larger than the archive: it holds {len(archive)} galaxies"
        )
    bank, model = archive_bank_and_model(archive, bank_path, model_path)
    if (queries_path is None) == (dataset is None):
        raise UnsuitableQueries("give a QUERIES.npz file or --dataset (with --split), not both")
    if queries_path is not None:
        if is_cnn(model):
            raise UnsuitableQueries(
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
            raise UnsuitableQueries(
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
    distances = hamming_distances(pack_codes(codes), archive.index.codes)
    report = retrieval_report(
        distances,
        query_labels,
        archive.labels,
        k=k,
        precision_ks=(10, 50, 100),
        class_names=archive.class_names,
        ties=ties,
        seed=seed,
    )
    report["bits"] = model.bits
    return ArchiveEvaluation(
        report, distances, query_labels, np.asarray(archive.labels), model.bits
    )
