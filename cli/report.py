"""The pipeline's report: figures and ``report.md`` from a finished run folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cosfire import atomic_write

if TYPE_CHECKING:
    from cli.pipeline import PipelineResults

__all__ = ["write_report"]


def _map_vs_bits(results: PipelineResults, path: Path) -> Path:
    from matplotlib.figure import Figure

    bits = sorted(results.bits)
    # a Figure outside pyplot: no backend is chosen for the user's session
    figure = Figure(figsize=(5.5, 3.8), layout="constrained")
    axis = figure.subplots()
    axis.plot(bits, [results.bits[b].map_at_100 for b in bits], "o-", label="mAP@100")
    axis.plot(bits, [results.bits[b].map_at_r for b in bits], "o-", label="mAP@R")
    axis.set_xlabel("code length (bits)")
    axis.set_ylabel("test split")
    axis.set_ylim(0, 1)
    axis.grid(alpha=0.3)
    axis.legend()
    with atomic_write(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=100)
    return path


def _example_queries(
    run_folder: Path, main_bits: int, seed: int
) -> list[tuple[str, str, list[dict]]]:
    from cosfire.descriptor_file import load_descriptors
    from hashing.model import load_model
    from retrieval.archive import load_archive

    archive = load_archive(run_folder / f"archive-{main_bits}.chx")
    model = load_model(run_folder / f"model-{main_bits}.pt")
    test = load_descriptors(run_folder / "test.npz")
    rng = np.random.default_rng(seed)
    chosen = [
        int(rng.choice(np.flatnonzero(test.labels == c)))
        for c in range(len(test.class_names))
        for _ in range(2)
        if np.any(test.labels == c)
    ]
    distances, ids = archive.index.search(model.encode(test.descriptors[chosen]), 10)
    queries = []
    for row, index in enumerate(chosen):
        results = [
            {"rank": r + 1, "path": path, "label": label, "distance": int(distances[row, r])}
            for r, (path, label) in enumerate(archive.lookup(ids[row]))
        ]
        queries.append((test.paths[index], test.class_names[test.labels[index]], results))
    return queries


def _explain_filters(run_folder: Path, count_per_class: int = 1) -> list[Path]:
    from cosfire.bank import load_bank
    from cosfire.datasets import read_source
    from cosfire.explain import explain
    from cosfire.preprocess import preprocess

    bank = load_bank(run_folder / "bank.json")
    written = []
    for class_index, name in enumerate(bank.class_names):
        members = [i for i, c in enumerate(bank.filter_class) if c == class_index][:count_per_class]
        for number in members:
            bank_filter = bank.filters[number]
            try:
                prototype = preprocess(read_source(bank_filter.source), bank.preprocessing)
            except (OSError, ValueError):
                continue
            path = run_folder / f"filter-{name}-{number}.png"
            explain(bank_filter, prototype, rotations=bank.rotations_deg, path=path)
            written.append(path)
    return written


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def write_report(run_folder: Path, results: PipelineResults) -> Path:
    """Draw the figures and write ``report.md`` for a finished run; return its path.

    Examples
    --------
    >>> from cli.pipeline import PipelineResults
    >>> results = PipelineResults.from_json("runs/demo/results.json")  # doctest: +SKIP
    >>> write_report(Path("runs/demo"), results)  # doctest: +SKIP
    PosixPath('runs/demo/report.md')
    """
    from cli._plots import plot_search_results

    config = results.config
    main_bits = config.evaluation.main_bits
    _map_vs_bits(results, run_folder / "map_vs_bits.png")
    plot_search_results(
        _example_queries(run_folder, main_bits, config.seed),
        run_folder / "queries.png",
        crop_px=config.preprocessing.crop_px,
    )
    filters = _explain_filters(run_folder)
    main = results.main
    lines = [
        f"# cosfire-hash run: {config.dataset}",
        "",
        f"Filter bank: {results.bank_filters} filters ({config.per_class} per class, seed "
        f"{config.seed}), {config.bank.rotations} rotations. Database = train split, queries = "
        "test split, relevant = same class; Hamming ties in seeded random order (the "
        "expected value over all tie orders is given as mAP@100 (avg ties)).",
        "",
        "## Retrieval by code length (test split)",
        "",
        _row(["bits", "mAP@100", "mAP@100 (avg ties)", "mAP@R", "P@10"]),
        _row(["---"] * 5),
    ]
    for bits in sorted(results.bits):
        r = results.bits[bits]
        lines.append(
            _row(
                [
                    bits,
                    _percent(r.map_at_100),
                    _percent(r.ties_average_map_at_k),
                    _percent(r.map_at_r),
                    _percent(r.precision_at[10]),
                ]
            )
        )
    lines += [
        "",
        "![mAP vs bits](map_vs_bits.png)",
        "",
        f"### Per class at {main_bits} bits",
        "",
        _row(["class", "queries", "mAP@100", "P@10"]),
        _row(["---"] * 4),
    ]
    for name, scores in main.per_class.items():
        lines.append(
            _row(
                [name, scores.queries, _percent(scores.map_at_k), _percent(scores.precision_at[10])]
            )
        )
    svm = results.svm
    lines += [
        "",
        "## Descriptor quality",
        "",
        f"SVM with a quadratic kernel on L2-normalised descriptors (C = {svm.c} chosen on "
        f"the valid split): test accuracy **{_percent(svm.test_accuracy)} %**.",
        "",
    ]
    if results.rotation is not None:
        rotated = results.rotation.map_at_100
        lines += [
            "## Robustness of the queries",
            "",
            _row(["queries", f"mAP@100 ({main_bits} bits)", "change"]),
            _row(["---"] * 3),
            _row(["as they are", _percent(main.map_at_100), ""]),
            _row(
                [
                    "each rotated by a random angle",
                    _percent(rotated),
                    f"{100 * (rotated - main.map_at_100):+.2f}",
                ]
            ),
        ]
        draws = np.asarray(results.rotation_draws)
        if draws.size > 1:
            lines.append(
                _row(
                    [
                        f"rotated, mean +- sd of {draws.size} draws of the angles",
                        f"{_percent(draws.mean())} +- {_percent(draws.std())}",
                        f"{100 * (draws.mean() - main.map_at_100):+.2f}",
                    ]
                )
            )
        for level, r in sorted(results.noise.items()):
            lines.append(
                _row(
                    [
                        f"Gaussian noise, sigma {level:g} x peak",
                        _percent(r.map_at_100),
                        f"{100 * (r.map_at_100 - main.map_at_100):+.2f}",
                    ]
                )
            )
        lines.append("")
    lines += [
        "## Example queries",
        "",
        "Two test galaxies per class and their 10 nearest training galaxies "
        f"({main_bits}-bit codes; green: same class).",
        "",
        "![queries](queries.png)",
        "",
    ]
    if filters:
        lines += [
            "## Filters",
            "",
            "One filter per class over its prototype, and its response.",
            "",
        ]
        lines += [f"![{p.stem}]({p.name})" for p in filters] + [""]
    lines += ["## Cost", "", _row(["stage", "seconds"]), _row(["---", "---"])]
    for stage, seconds in results.seconds.items():
        lines.append(_row([stage, f"{seconds:.1f}"]))
    lines += [_row(["**total**", f"**{results.total_seconds:.1f}**"]), ""]
    path = run_folder / "report.md"
    with atomic_write(path, "w") as handle:
        handle.write("\n".join(lines))
    return path
