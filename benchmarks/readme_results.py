"""Write the README's "Measured here" table from the benchmarks' saved results.

    python benchmarks/readme_results.py           # rewrite the table in README.md
    python benchmarks/readme_results.py --check   # exit 1 when README.md differs

Every row reads one JSON file under ``benchmarks/results/``, which the command in the row's
last column writes; no number of the table is typed by hand. A result whose file is not in
this checkout is listed below the table with its command instead of a number. The test
command checks that the README holds what this script writes
(``tests/test_readme_results.py``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).with_name("results")
README = ROOT / "README.md"
BEGIN = "<!-- results:begin (written by benchmarks/readme_results.py) -->"
END = "<!-- results:end -->"


def _json(path: Path) -> Any:
    return json.loads(path.read_text())


@dataclass(frozen=True)
class Row:
    """One line of the table: what was measured, from which file, by which command.

    ``what`` names the row (and the result when it is missing); ``describe``, when given,
    words it from the result instead. ``read`` turns the saved file into the result.
    """

    what: str
    file: str
    numbers: Callable[[Any], str]
    command: str
    describe: Callable[[Any], str] | None = None
    read: Callable[[Path], Any] = _json


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def _mean_sd(summary: dict[str, float]) -> str:
    return f"{100 * summary['mean']:.1f} +- {100 * summary['sd']:.1f}"


def describe_numbers(result: dict[str, Any]) -> str:
    reference = result["reference"]
    return (
        f"{result['describe_seconds']:.1f} s with {result['jobs']} {result['backend']} workers "
        f"(target 120 s), {result['peak_memory_mb']:.0f} MB peak; "
        f"{result['speedup_vs_reference']:.0f}x the plain-loop reference per filter and image, "
        f"which it equals (max. rel. difference {reference['max_relative_difference']:.1e} on "
        f"{reference['pairs']} pairs)"
    )


def describe_what(result: dict[str, Any]) -> str:
    return (
        f"describe {result['images']:,} FIRST galaxies, {result['filters']} filters x "
        f"{result['rotations']} rotations"
    )


def exact_search_numbers(result: dict[str, Any]) -> str:
    rows = {row["method"]: row for row in result["rows"]}
    ours, numpy = rows["HammingIndex (exact)"], rows["NumPy brute force"]
    return (
        f"{ours['queries_per_s']:,.0f} queries/s = {ours['speed_vs_faiss']:.2f}x raw faiss "
        f"IndexBinaryFlat ({ours['g_comparisons_per_s']:.1f} G code comparisons/s); NumPy "
        f"brute force {numpy['queries_per_s']:,.0f} queries/s"
    )


def exact_search_what(result: dict[str, Any]) -> str:
    database = result["rows"][0]["database"]
    return (
        f"exact Hamming search, {database / 1e6:g}M {result['bits']}-bit codes, "
        f"top-{result['k']}, {result['threads']} threads"
    )


def _times(value: float) -> str:
    """A speed ratio: whole numbers from 10 up, one decimal below (0.4x is slower)."""
    return f"{value:.0f}x" if value >= 10 else f"{value:.1f}x"


def approximate_search_numbers(result: dict[str, Any]) -> str:
    rows = {row["method"]: row for row in result["rows"]}
    parts = []
    for kind, name in (("ivf", "IVF"), ("hnsw", "HNSW"), ("multihash", "multi-hash")):
        clustered, uniform = rows.get(f"{kind}, clustered"), rows.get(f"{kind}, uniform")
        if clustered is None or uniform is None:
            continue
        parts.append(
            f"{name} ({clustered['database'] / 1e6:g}M codes) "
            f"{_times(clustered['speedup_vs_exact'])} the speed of exact search at recall@"
            f"{result['k']} {clustered['recall_at_k']:.2f} on clustered codes "
            f"({_times(uniform['speedup_vs_exact'])}, recall {uniform['recall_at_k']:.2f} on "
            "uniform random codes, the worst case)"
        )
    if not parts:
        raise KeyError("no approximate rows (run without --approx-n 0)")
    return "; ".join(parts)


def approximate_search_what(result: dict[str, Any]) -> str:
    return f"approximate search, {result['bits']}-bit codes, top-{result['k']}"


#: the data set of bench_hashing.py's output that the README row reports
AUTHORS_DESCRIPTORS = "authors' descriptors (their FIRST selection)"


def hashing_numbers(result: dict[str, Any]) -> str:
    dataset = next(d for d in result["datasets"] if d["name"] == AUTHORS_DESCRIPTORS)
    rows = {(row["recipe"], row["bits"]): row for row in dataset["rows"]}
    bits = 36 if any(b == 36 for _, b in rows) else max(b for _, b in rows)
    recipes = [recipe for recipe, b in rows if b == bits]
    scores = "; ".join(
        f"{recipe} recipe {_mean_sd(rows[recipe, bits]['test_map'])}" for recipe in recipes
    )
    seconds = max(rows[recipe, bits]["seconds"]["mean"] for recipe in recipes)
    return (
        f"mAP@100 at {bits} bits over {len(result['seeds'])} seeds: {scores}; an SVM on the same "
        f"descriptors: {_mean_sd(dataset['svm']['test'])} % accuracy; up to {seconds:.0f} s "
        "to train one model"
    )


def pipeline_numbers(results) -> str:
    main = results.config.evaluation.main_bits
    parts = [
        f"mAP@100 {_pct(results.map_at_100[main])} at {main} bits",
        f"SVM accuracy {_pct(results.svm.test_accuracy)}",
    ]
    if results.rotation_draws:
        draws = results.rotation_draws
        mean = sum(draws) / len(draws)
        parts.append(
            f"rotated queries {100 * (mean - results.map_at_100[main]):+.1f} points "
            f"({len(draws)} draws of the angles)"
        )
    if results.noise:
        level = max(results.noise)
        parts.append(f"noisy queries ({level:g} x peak) {_pct(results.noise[level].map_at_k)}")
    parts.append(f"{results.total_seconds / 60:.0f} min for every stage")
    others = ", ".join(
        f"{_pct(value)} at {bits}" for bits, value in sorted(results.map_at_100.items())
    )
    return "; ".join(parts) + f" (mAP@100 by code length: {others})"


def _pipeline(path: Path):
    sys.path.insert(0, str(ROOT))
    from cli.pipeline import PipelineResults

    return PipelineResults.from_json(path)


def cnn_numbers(result: dict[str, Any]) -> str:
    mean, sd = result["mean"], result["sd"]

    def pct(key: str) -> str:
        return f"{100 * mean[key]:.1f} +- {100 * sd[key]:.1f} %"

    lengths = sorted(int(key.split("/")[1]) for key in mean if key.startswith("map_at_100/"))
    maps = ", ".join(f"{pct(f'map_at_100/{bits}')} at {bits}" for bits in lengths)
    levels = sorted(float(key.split("/")[1]) for key in mean if key.startswith("noise_map_at_100/"))
    noisy = (
        f", noisy queries ({levels[-1]:g} x peak) {pct(f'noise_map_at_100/{levels[-1]:g}')}"
        if levels
        else ""
    )
    return (
        f"{len(result['seeds'])} seeds, {result['parameters']:,} parameters: test accuracy "
        f"{pct('test_accuracy')}, mAP@100 {maps} bits, rotated queries "
        f"{pct('rotated_map_at_100')}{noisy}, {mean['train_seconds']:.0f} s to train"
    )


def scale_numbers(result: dict[str, Any]) -> str:
    peak = result["peak"]
    speeds = ", ".join(
        f"{row['method']} {row['images_per_s']:.0f} images/s" for row in result["throughput"]
    )
    return (
        f"{peak['images']:,} images in {peak['seconds']:.0f} s ({peak['images_per_s']:.0f} "
        f"images/s), {peak['peak_rss_mb']:.0f} MB peak memory, all processes; {speeds} "
        f"({result['filters']} filters)"
    )


ROWS: tuple[Row, ...] = (
    Row(
        "describe",
        "describe.json",
        describe_numbers,
        "python benchmarks/bench_describe.py --json > benchmarks/results/describe.json",
        describe=describe_what,
    ),
    Row(
        "exact search",
        "search.json",
        exact_search_numbers,
        "python benchmarks/bench_search.py --json > benchmarks/results/search.json",
        describe=exact_search_what,
    ),
    Row(
        "approximate search",
        "search.json",
        approximate_search_numbers,
        "python benchmarks/bench_search.py --json > benchmarks/results/search.json",
        describe=approximate_search_what,
    ),
    Row(
        "hashing the authors' own descriptors (their FIRST selection)",
        "hashing-authors.json",
        hashing_numbers,
        "python benchmarks/bench_hashing.py --bits 36 --json benchmarks/results/hashing-authors.json",
    ),
    Row(
        "FIRST end to end, the papers' settings (test split)",
        "first-papers.json",
        pipeline_numbers,
        "cosfire-hash pipeline --dataset first --out runs/first && "
        "cp runs/first/results.json benchmarks/results/first-papers.json",
        read=_pipeline,
    ),
    Row(
        "FIRST end to end, the recommended preset (test split)",
        "first-recommended.json",
        pipeline_numbers,
        "cosfire-hash pipeline --dataset first --preset recommended --out runs/first-recommended && "
        "cp runs/first-recommended/results.json benchmarks/results/first-recommended.json",
        read=_pipeline,
    ),
    Row(
        "compact CNN trained from scratch on FIRST",
        "cnn-compact.json",
        cnn_numbers,
        "python benchmarks/bench_cnn.py --backbone compact --seeds 0 1 2 "
        "--json benchmarks/results/cnn-compact.json",
    ),
    Row(
        "describe 100,000 synthetic galaxies into one streamed file",
        "scale.json",
        scale_numbers,
        "python benchmarks/bench_scale.py --json > benchmarks/results/scale.json",
    ),
)


def load(row: Row, folder: Path) -> Any | None:
    """The saved result of ``row`` in ``folder``, or None when it is not there."""
    path = folder / row.file
    return row.read(path) if path.is_file() else None


def render(folder: Path = RESULTS) -> str:
    """Return the markdown the README holds between its results markers."""
    lines = [
        "| what | measured | command |",
        "|---|---|---|",
    ]
    missing = []
    for row in ROWS:
        result = load(row, folder)
        try:
            if result is None:
                raise FileNotFoundError(row.file)
            what = row.describe(result) if row.describe is not None else row.what
            numbers = row.numbers(result)
        except (FileNotFoundError, IndexError, KeyError, StopIteration, TypeError, ValueError):
            missing.append(row)  # no saved result, or one without what the row reports
            continue
        lines.append(f"| {what} | {numbers} | `{row.command}` |")
    if missing:
        lines += ["", "Not measured in this checkout (no saved result); run to add the row:", ""]
        lines += [f"* {row.what}: `{row.command}`" for row in missing]
    return "\n".join(lines)


def updated_readme(text: str, table: str) -> str:
    """Return ``text`` with the block between the markers replaced by ``table``."""
    if BEGIN not in text or END not in text:
        raise SystemExit(f"README.md lacks the markers {BEGIN} ... {END}")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table}\n{END}{tail}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md is stale")
    args = parser.parse_args()
    text = README.read_text()
    wanted = updated_readme(text, render())
    if args.check:
        if wanted != text:
            print("README.md is stale: run python benchmarks/readme_results.py", file=sys.stderr)
            raise SystemExit(1)
        return
    if wanted != text:
        README.write_text(wanted)
        print(f"rewrote the results table of {README}")


if __name__ == "__main__":
    main()
