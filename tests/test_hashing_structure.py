"""How hashing is put together: one model file format (version checked before the kind), one
encode interface for MLP and CNN models, and packages whose modules import without cycles."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from hashing import Encoder, load_model
from hashing.model import HashingModel
from hashing.model_file import MODEL_FORMAT_VERSION, read_model_file, write_model_file
from hashing.network import HashingNetwork, NetworkConfig

ROOT = Path(__file__).resolve().parents[1]


def mlp_model(bits: int = 3) -> HashingModel:
    return HashingModel(HashingNetwork(NetworkConfig(input_dim=5, bits=bits)), bank_sha256="ab")


def cnn_model(bits: int = 4):
    from hashing.cnn import CNNHashingModel, CNNHashingNetwork, compact_config

    config = compact_config(bits=bits, joint_bits=(2,), input_px=32, crop_px=None)
    return CNNHashingModel(CNNHashingNetwork(config, n_classes=2))


def with_header(source: Path, target: Path, **changes) -> Path:
    """Copy a model file with header fields replaced (``None`` removes a field)."""
    payload = torch.load(source, weights_only=True)
    header = json.loads(payload["header"])
    for key, value in changes.items():
        if value is None:
            header.pop(key, None)
        else:
            header[key] = value
    payload["header"] = json.dumps(header, sort_keys=True)
    torch.save(payload, target)
    return target


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_a_newer_format_version_is_refused_before_the_kind_is_read(kind, tmp_path: Path) -> None:
    model = mlp_model() if kind == "mlp" else cnn_model()
    saved = model.save(tmp_path / "model.pt")
    # the network settings are nonsense: building the model would fail with another error
    field = "network" if kind == "mlp" else "cnn"
    newer = with_header(
        saved, tmp_path / "newer.pt", format_version=MODEL_FORMAT_VERSION + 1, **{field: {}}
    )
    message = f"format version {MODEL_FORMAT_VERSION + 1}, newer than this cosfire-hash reads"
    with pytest.raises(ValueError, match=message) as refused:
        load_model(newer)
    assert "upgrade cosfire-hash" in str(refused.value)
    with pytest.raises(ValueError, match=message):
        read_model_file(newer)


def test_an_unknown_kind_is_named_in_the_error(tmp_path: Path) -> None:
    saved = mlp_model().save(tmp_path / "model.pt")
    other = with_header(saved, tmp_path / "other.pt", kind="transformer")
    with pytest.raises(ValueError, match=r"kind 'transformer'.*reads mlp, cnn\); upgrade"):
        load_model(other)


def test_files_without_kind_are_mlp_models_and_cnn_files_say_cnn(tmp_path: Path) -> None:
    # MLP files have never carried "kind" (files written before CNNs existed must still load)
    mlp_path = mlp_model().save(tmp_path / "mlp.pt")
    assert "kind" not in json.loads(torch.load(mlp_path, weights_only=True)["header"])
    assert read_model_file(mlp_path).kind == "mlp"
    cnn_path = cnn_model().save(tmp_path / "cnn.pt")
    assert read_model_file(cnn_path).kind == "cnn"
    with pytest.raises(ValueError, match="kind must be one of"):
        write_model_file(tmp_path / "x.pt", kind="svm", fields={}, state_dict={})


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_files_as_earlier_releases_wrote_them_still_load(kind, tmp_path: Path) -> None:
    # the payload exactly as HashingModel.save / CNNHashingModel.save wrote it before
    # hashing.model_file existed (format version 1; MLP headers without "kind")
    model = mlp_model() if kind == "mlp" else cnn_model()
    header = {"format": "cosfire-hash hashing model", "format_version": 1, "metadata": {}}
    if kind == "mlp":
        header |= {"network": model.config.to_dict(), "threshold": 0.0, "bank_sha256": "ab"}
    else:
        header |= {"kind": "cnn", "cnn": model.config.to_dict(), "n_classes": 2}
    state = {k: v.detach().cpu() for k, v in model.network.state_dict().items()}
    torch.save(
        {"header": json.dumps(header, sort_keys=True), "state_dict": state}, tmp_path / "old.pt"
    )
    loaded = load_model(tmp_path / "old.pt")
    assert type(loaded) is type(model) and loaded.config == model.config
    for key, value in model.network.state_dict().items():
        assert torch.equal(loaded.network.state_dict()[key], value), key
    # and what this release writes is that same header
    written = json.loads(torch.load(model.save(tmp_path / "new.pt"), weights_only=True)["header"])
    assert written == header


def test_both_model_kinds_are_encoders_and_round_trip(tmp_path: Path) -> None:
    descriptors = np.random.default_rng(0).random((6, 5), dtype=np.float32)
    images = [np.pad(np.ones((4 + 8 * (i % 2), 4), np.float32), 14) for i in range(6)]
    cases = [(mlp_model(), descriptors, "descriptors"), (cnn_model(), images, "images")]
    for model, inputs, kind in cases:
        assert isinstance(model, Encoder) and model.inputs == kind
        codes = model.encode(inputs)
        assert codes.shape == (6, model.bits) and codes.dtype == bool
        loaded = load_model(model.save(tmp_path / f"{kind}.pt"))
        assert type(loaded) is type(model) and isinstance(loaded, Encoder)
        assert loaded.inputs == kind and loaded.bits == model.bits
        assert loaded.threshold == model.threshold and loaded.metadata == model.metadata
        np.testing.assert_array_equal(loaded.encode(inputs), codes)
    # a CNN's encode is its main head's encode_images
    cnn = cnn_model()
    np.testing.assert_array_equal(cnn.encode(images), cnn.encode_images(images))


def test_the_command_line_asks_the_model_what_it_hashes() -> None:
    from cli._encoding import is_cnn

    assert not is_cnn(mlp_model()) and is_cnn(cnn_model())
    sources = [*(ROOT / "cli").glob("*.py"), *(ROOT / "hashing").glob("*.py")]
    probing = [p.name for p in sources if "hasattr(model" in p.read_text()]
    assert probing == []


def import_graph(package: str) -> dict[str, set[str]]:
    """Modules of ``package`` -> the modules of ``package`` they import, anywhere in the file
    (inside functions and ``TYPE_CHECKING`` blocks too)."""
    graph: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).glob("*.py")):
        if path.stem == "__init__":
            continue
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module]
                if isinstance(node, ast.ImportFrom) and node.module and not node.level
                else [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            imported |= {n for n in names if n.startswith(f"{package}.")}
        graph[f"{package}.{path.stem}"] = imported - {f"{package}.{path.stem}"}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every module from which an import path leads back to itself, with that path."""
    found = []
    for start in graph:
        paths = [[start]]
        seen = set()
        while paths:
            path = paths.pop()
            for nxt in graph.get(path[-1], ()):
                if nxt == start:
                    found.append([*path, start])
                elif nxt not in seen:
                    seen.add(nxt)
                    paths.append([*path, nxt])
    return found


def test_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})[0] == ["a", "b", "c", "a"]
    assert cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("package", ["cosfire", "hashing", "retrieval"])
def test_no_module_imports_itself_through_others(package: str) -> None:
    graph = import_graph(package)
    assert len(graph) > 5
    assert cycles(graph) == []


def test_bank_and_descriptor_do_not_import_each_other() -> None:
    graph = import_graph("cosfire")
    assert "cosfire.bank" in graph["cosfire.descriptor"]
    assert "cosfire.descriptor" not in graph["cosfire.bank"]


@pytest.mark.parametrize(
    "module", ["hashing.cnn", "hashing.model", "hashing.training", "cosfire.descriptor"]
)
def test_modules_import_alone_in_a_fresh_interpreter(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_torch_thread_counts_change_only_inside_the_context_managers() -> None:
    """``torch.set_num_threads`` is global: only ``deterministic`` and ``torch_threads`` call it
    (and restore the count); everything else, benchmarks included, goes through them."""
    callers = []
    for folder in ("cosfire", "hashing", "retrieval", "cli", "benchmarks", "examples"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text())
            owner = {}  # node -> name of the function it sits in ("<module>" outside any)
            for function in [tree, *ast.walk(tree)]:
                if function is tree or isinstance(function, ast.FunctionDef):
                    for node in ast.walk(function):
                        owner[node] = getattr(function, "name", "<module>")
            for node, name in owner.items():
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr == "set_num_threads"
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "torch"
                ):
                    callers.append(f"{path.relative_to(ROOT)}:{name}")
    assert sorted(set(callers)) == [
        "hashing/loop.py:deterministic",
        "hashing/training.py:torch_threads",
    ]
