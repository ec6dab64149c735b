"""Interrupted writes leave the previous file intact (index, train, describe outputs alike)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cosfire._atomic import atomic_write
from cosfire.descriptor_file import DescriptorSet, load_descriptors, save_descriptors
from hashing import TrainingConfig, load_model, train_hashing
from retrieval.archive import Archive, load_archive, save_archive
from retrieval.index import HammingIndex


class Interrupted(Exception):
    pass


def test_a_failing_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("old")
    with pytest.raises(Interrupted), atomic_write(target, "w") as handle:
        handle.write("half of the new cont")
        raise Interrupted
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]


def test_interrupted_saves_of_project_files_keep_the_old_ones(tmp_path: Path, monkeypatch) -> None:
    rng = np.random.default_rng(0)
    x = rng.random((20, 4)).astype(np.float32)
    labels = np.arange(20) % 2
    descriptors = save_descriptors(
        DescriptorSet(x, labels, ("a", "b"), list("abcdefghijklmnopqrst")), tmp_path / "d.npz"
    )
    model, _ = train_hashing(x, labels, x, labels, config=TrainingConfig(bits=4, epochs=1))
    model_path = model.save(tmp_path / "m.pt")
    index = HammingIndex(4)
    index.add(model.encode(x))
    archive_path = save_archive(
        Archive(index, tuple("abcdefghijklmnopqrst"), labels, ("a", "b")), tmp_path / "a.chx"
    )
    before = {p: p.read_bytes() for p in (descriptors, model_path, archive_path)}

    import numpy as _np
    import torch

    def crash(*args, **kwargs):
        raise Interrupted

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(Interrupted):
        model.save(model_path)
    monkeypatch.setattr(_np.lib.format, "write_array", crash)
    with pytest.raises(Interrupted):
        save_descriptors(
            DescriptorSet(x * 2, labels, ("a", "b"), list("abcdefghijklmnopqrst")), descriptors
        )
    monkeypatch.undo()
    assert {p: p.read_bytes() for p in before} == before
    assert load_model(model_path).bits == 4
    assert np.array_equal(load_descriptors(descriptors).descriptors, x)
    assert len(load_archive(archive_path)) == 20
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.chx", "d.npz", "m.pt"]


def test_written_files_get_ordinary_permissions(tmp_path: Path) -> None:
    import os

    reference = tmp_path / "plain.txt"
    reference.write_text("x")
    with atomic_write(tmp_path / "atomic.txt", "w") as handle:
        handle.write("x")
    assert os.stat(tmp_path / "atomic.txt").st_mode & 0o777 == os.stat(reference).st_mode & 0o777


def test_the_two_packages_share_one_atomic_write():
    """cosfire and retrieval import no other project package, so each carries the helper;
    the copies must stay the same, line for line."""
    root = Path(__file__).resolve().parents[1]
    assert (root / "cosfire" / "_atomic.py").read_text() == (
        root / "retrieval" / "_atomic.py"
    ).read_text()


def test_no_package_imports_another_packages_private_module():
    import re

    root = Path(__file__).resolve().parents[1]
    packages = ("cosfire", "hashing", "retrieval", "cli")
    offending = []
    # the packages, and the benchmarks and examples, which use the packages as users do
    for folder in (*packages, "benchmarks", "examples"):
        for path in (root / folder).rglob("*.py"):
            text = path.read_text()
            private = r"^\s*(?:from|import) (\w+)\._\w+|^\s*from (\w+) import \(?\s*_\w+"
            for match in re.finditer(private, text, re.M):
                imported = match.group(1) or match.group(2)
                if imported in packages and imported != folder:
                    offending.append(f"{path.relative_to(root)}: {match.group(0).strip()}")
    assert offending == []
