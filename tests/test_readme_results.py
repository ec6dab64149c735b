"""The README's "Measured here" table is what ``benchmarks/readme_results.py`` writes from the
saved benchmark results, so no number in it is typed by hand."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_results():
    spec = importlib.util.spec_from_file_location(
        "readme_results", ROOT / "benchmarks" / "readme_results.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_readme_table_is_the_one_written_from_the_saved_results():
    module = readme_results()
    text = (ROOT / "README.md").read_text()
    assert module.updated_readme(text, module.render()) == text, (
        "README.md is stale: run python benchmarks/readme_results.py"
    )


def test_a_row_reads_its_numbers_from_the_saved_file(tmp_path: Path):
    module = readme_results()
    empty = module.render(tmp_path)
    assert "| what |" in empty and empty.count("\n* ") == len(module.ROWS)
    result = {
        "images": 2158,
        "filters": 372,
        "rotations": 24,
        "jobs": 2,
        "backend": "loky",
        "describe_seconds": 81.25,
        "peak_memory_mb": 273.4,
        "speedup_vs_reference": 612.0,
        "reference": {"max_relative_difference": 3.8e-8, "pairs": 8},
    }
    (tmp_path / "describe.json").write_text(json.dumps(result))
    table = module.render(tmp_path)
    assert "describe 2,158 FIRST galaxies, 372 filters x 24 rotations" in table
    assert "81.2 s with 2 loky workers" in table and "612x" in table
    assert table.count("\n* ") == len(module.ROWS) - 1


def test_the_check_refuses_a_readme_without_markers():
    module = readme_results()
    with pytest.raises(SystemExit, match="markers"):
        module.updated_readme("# no table here\n", "| what |")


def _summary(mean: float, sd: float = 0.01) -> dict:
    return {"mean": mean, "sd": sd}


#: one saved result per row, shaped as its benchmark writes it, and a phrase the row must show
SAVED = {
    "search.json": (
        {
            "bits": 64,
            "k": 100,
            "threads": 2,
            "rows": [
                {
                    "method": "HammingIndex (exact)",
                    "database": 1_000_000,
                    "queries_per_s": 3221.0,
                    "g_comparisons_per_s": 3.2,
                    "speed_vs_faiss": 1.22,
                },
                {"method": "NumPy brute force", "database": 1_000_000, "queries_per_s": 25.0},
                {
                    "method": "ivf, uniform",
                    "database": 10**7,
                    "speedup_vs_exact": 58.0,
                    "recall_at_k": 0.23,
                },
                {
                    "method": "ivf, clustered",
                    "database": 10**7,
                    "speedup_vs_exact": 29.0,
                    "recall_at_k": 0.89,
                },
            ],
        },
        [
            "3,221 queries/s = 1.22x raw faiss",
            "IVF (10M codes) 29x the speed of exact search",
            "recall 0.23",
        ],
    ),
    "hashing-authors.json": (
        {
            "seeds": [0, 1, 2],
            "datasets": [
                {
                    "name": "authors' descriptors (their FIRST selection)",
                    "svm": {"test": _summary(0.832, 0.019)},
                    "rows": [
                        {
                            "recipe": "csq",
                            "bits": 36,
                            "test_map": _summary(0.865, 0.006),
                            "seconds": _summary(29.0),
                        },
                    ],
                }
            ],
        },
        ["csq recipe 86.5 +- 0.6", "83.2 +- 1.9 % accuracy"],
    ),
    "cnn-compact.json": (
        {
            "seeds": {"0": {}, "1": {}, "2": {}},
            "parameters": 245_000,
            "mean": {
                "test_accuracy": 0.775,
                "map_at_100/36": 0.592,
                "map_at_100/8": 0.566,
                "rotated_map_at_100": 0.59,
                "train_seconds": 539.0,
                "noise_map_at_100/0.05": 0.135,
                "noise_map_at_100/0.2": 0.125,
            },
            "sd": {
                "test_accuracy": 0.013,
                "map_at_100/36": 0.01,
                "map_at_100/8": 0.01,
                "rotated_map_at_100": 0.01,
                "train_seconds": 5.0,
                "noise_map_at_100/0.05": 0.01,
                "noise_map_at_100/0.2": 0.015,
            },
        },
        [
            "test accuracy 77.5 +- 1.3 %",
            "56.6 +- 1.0 % at 8, 59.2 +- 1.0 % at 36 bits",
            "noisy queries (0.2 x peak) 12.5 +- 1.5 %",
        ],
    ),
    "scale.json": (
        {
            "filters": 32,
            "throughput": [{"method": "loky, 1 worker", "images_per_s": 78.0}],
            "peak": {
                "images": 100_000,
                "seconds": 853.0,
                "images_per_s": 117.0,
                "peak_rss_mb": 734.0,
                "file_mb": 12.0,
            },
        },
        ["100,000 images in 853 s", "734 MB peak", "loky, 1 worker 78 images/s"],
    ),
}


@pytest.mark.parametrize("name", sorted(SAVED))
def test_every_row_renders_its_benchmarks_output(name: str, tmp_path: Path):
    module = readme_results()
    result, phrases = SAVED[name]
    (tmp_path / name).write_text(json.dumps(result))
    table = module.render(tmp_path).split("Not measured")[0]
    for phrase in phrases:
        assert phrase in table, table


def test_a_saved_result_without_the_rows_numbers_is_listed_as_not_measured(tmp_path: Path):
    module = readme_results()
    (tmp_path / "search.json").write_text(json.dumps({"bits": 64, "k": 100, "rows": []}))
    table = module.render(tmp_path)
    assert "exact search: `python benchmarks/bench_search.py" in table
