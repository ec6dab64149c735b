"""The pipeline's report: figures and ``report.md`` from a finished run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cosfire import atomic_write

__all__ = ["write_report"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _map_vs_bits(results: dict, path: Path) -> Path:
    plt = _pyplot()
    bits = sorted(int(b) for b in results["bits"])
    figure, axis = plt.subplots(figsize=(5.5, 3.8), constrained_layout=True)
    for key, label in (("map_at_100", "mAP@100"), ("map_at_r", "mAP@R")):
        axis.plot(bits, [results["bits"][b][key] for b in bits], "o-", label=label)
    axis.set_xlabel("code length (bits)")
    axis.set_ylabel("test split")
    axis.set_ylim(0, 1)
    axis.grid(alpha=0.3)
    axis.legend()
    with atomic_write(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=100)
    plt.close(figure)
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
    chosen = [int(rng.choice(np.flatnonzero(test.labels == c))) for c in range(len(test.class_names))
              for _ in range(2) if np.any(test.labels == c)]  # fmt: skip
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


def write_report(run_folder: Path, results: dict) -> Path:
    """Draw the figures and write ``report.md`` for a finished run; return its path."""
    from cli._plots import plot_search_results

    config = results["config"]
    main_bits = config["main_bits"]
    _map_vs_bits(results, run_folder / "map_vs_bits.png")
    plot_search_results(_example_queries(run_folder, main_bits, config["seed"]),
                        run_folder / "queries.png", crop_px=config["crop_px"])  # fmt: skip
    filters = _explain_filters(run_folder)
    main = (
        results["bits"][str(main_bits)]
        if str(main_bits) in results["bits"]
        else results["bits"][main_bits]
    )
    lines = [
        f"# cosfire-hash run: {config['dataset']}",
        "",
        f"Filter bank: {results['bank']['filters']} filters ({config['per_class']} per class, seed "
        f"{config['seed']}), {config['rotations']} rotations. Database = train split, queries = "
        "test split, relevant = same class; Hamming ties in seeded random order (the "
        "expected value over all tie orders is given as mAP@100 (avg ties)).",
        "",
        "## Retrieval by code length (test split)",
        "",
        _row(["bits", "mAP@100", "mAP@100 (avg ties)", "mAP@R", "P@10"]),
        _row(["---"] * 5),
    ]
    for bits in sorted(results["bits"], key=int):
        r = results["bits"][bits]
        lines.append(_row([bits, f"{100 * r['map_at_100']:.2f}", f"{100 * r['ties_average_map_at_100']:.2f}",
                           f"{100 * r['map_at_r']:.2f}", f"{100 * r['precision_at_10']:.2f}"]))  # fmt: skip
    lines += ["", "![mAP vs bits](map_vs_bits.png)", "", f"### Per class at {main_bits} bits", "",
              _row(["class", "queries", "mAP@100", "P@10"]), _row(["---"] * 4)]  # fmt: skip
    for name, r in main["per_class"].items():
        lines.append(
            _row(
                [
                    name,
                    r["queries"],
                    f"{100 * r['map_at_100']:.2f}",
                    f"{100 * r['precision_at_10']:.2f}",
                ]
            )
        )
    svm = results["svm"]
    lines += ["", "## Descriptor quality", "",
              f"SVM with a quadratic kernel on L2-normalised descriptors (C = {svm['C']} chosen on "
              f"the valid split): test accuracy **{100 * svm['test_accuracy']:.2f} %**.", ""]  # fmt: skip
    if "rotation" in results:
        drop = 100 * (main["map_at_100"] - results["rotation"]["map_at_100"])
        lines += ["## Robustness of the queries", "",
                  _row(["queries", f"mAP@100 ({main_bits} bits)", "change"]), _row(["---"] * 3),
                  _row(["as they are", f"{100 * main['map_at_100']:.2f}", ""]),
                  _row(["each rotated by a random angle", f"{100 * results['rotation']['map_at_100']:.2f}",
                        f"{-drop:+.2f}"])]  # fmt: skip
        draws = results.get("rotation_draws", {})
        if len(draws.get("map_at_100", [])) > 1:
            change = 100 * (draws["mean"] - main["map_at_100"])
            lines.append(_row([f"rotated, mean +- sd of {len(draws['map_at_100'])} draws of the angles",
                               f"{100 * draws['mean']:.2f} +- {100 * draws['sd']:.2f}",
                               f"{change:+.2f}"]))  # fmt: skip
        for level, r in sorted(results["noise"].items(), key=lambda kv: float(kv[0])):
            change = 100 * (r["map_at_100"] - main["map_at_100"])
            lines.append(_row([f"Gaussian noise, sigma {float(level):g} x peak", f"{100 * r['map_at_100']:.2f}",
                               f"{change:+.2f}"]))  # fmt: skip
        lines.append("")
    lines += ["## Example queries", "", f"Two test galaxies per class and their 10 nearest training galaxies "
              f"({main_bits}-bit codes; green: same class).", "", "![queries](queries.png)", ""]  # fmt: skip
    if filters:
        lines += ["## Filters", "", "One filter per class over its prototype, and its response."
                  , ""] + [f"![{p.stem}]({p.name})" for p in filters] + [""]  # fmt: skip
    lines += ["## Cost", "", _row(["stage", "seconds"]), _row(["---", "---"])]
    total = 0.0
    for stage, seconds in results["seconds"].items():
        lines.append(_row([stage, f"{seconds:.1f}"]))
        total += seconds
    lines += [_row(["**total**", f"**{total:.1f}**"]), ""]
    path = run_folder / "report.md"
    with atomic_write(path, "w") as handle:
        handle.write("\n".join(lines))
    return path
