"""The README's Python examples run as written, on the embedded synthetic set."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_api_block() -> str:
    """Return the first ``python`` code block of the README's "Python API" section."""
    section = README.read_text().split("### Python API", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_python_api_block_uses_the_synthetic_set():
    code = python_api_block()
    assert 'dataset="synthetic"' in code and "run_pipeline(" in code


@pytest.mark.slow
def test_readme_python_api_block_runs(tmp_path, monkeypatch, capsys):
    from cli.pipeline import PipelineResults

    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(python_api_block(), "README.md (Python API)", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "[configure]" in printed and "mAP@100 at 16 bits" in printed
    results = namespace["results"]
    assert results == PipelineResults.from_json(tmp_path / "runs/api-demo/results.json")
    assert sorted(results.map_at_100) == [8, 16] and (tmp_path / "runs/api-demo/report.md").exists()


def engine_block() -> str:
    """Return the ``python`` code block of the README's COSFIRE engine section."""
    section = README.read_text().split("## The COSFIRE engine", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_engine_block_runs():
    import numpy as np

    namespace: dict = {}
    exec(compile(engine_block(), "README.md (COSFIRE engine)", "exec"), namespace)
    assert namespace["response"].shape == namespace["image"].shape
    assert namespace["descriptors"].shape == (8, namespace["bank"].n_filters) == (8, 12)
    assert namespace["descriptors"].dtype == np.float32
