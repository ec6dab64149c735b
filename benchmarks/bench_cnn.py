"""Benchmark: CNN hashing baselines against COSFIRE codes on the FIRST galaxies.

    python benchmarks/bench_cnn.py --backbone compact [--seeds 0 1 2] [--json PATH]
        [--save-models DIR] [--epochs 40]
    python benchmarks/bench_cnn.py --cosfire-run runs/first [--bits 8 16 36] [--json [PATH]]
        [--input-px 64] [--train-limit 100] [--epochs 6] [--weights-densenet PATH]
        [--weights-hrnet PATH] [--lr LR] [--frozen-epochs N] [--device cpu]

``--backbone compact`` (the CPU baseline): the compact CNN of :mod:`hashing.compact`, trained
from scratch on the full training split with the recipe of :func:`hashing.cnn.compact_config`
(one backbone with 8-, 16- and 36-bit hash heads and the classifier head trained jointly; epoch
chosen on validation mAP@100), once per seed. Per seed and as mean +- sd: test accuracy of the
classifier head; test mAP@100 at every code length (database = train split, ties in seeded
random order); 36-bit mAP@100 of rotated queries (each test image rotated by a random angle,
seed 0) and of noisy queries (the pipeline's ``TransformedReader``, seed 0); training seconds
and inference milliseconds per image. ``--json PATH`` merges seeds into PATH, so each seed can
run as its own command. :func:`report_section` renders the FIRST report's sections from it.

``--backbone pretrained`` (the default, for users with a GPU and pretrained weights):

for each code length: test-split mAP@100 (database = train split, ties in seeded random
order), training time, inference time per image, parameters and multiply-adds per image, for

* COSFIRE + DSH MLP: read from a finished ``cosfire-hash pipeline`` run folder (its training
  time is the MLP's; its inference time is describing one image plus the MLP);
* DenseNet161 + triplet loss (sigmoid codes, Ndung'u et al. 2023) and HRNet-W18 + DSH (tanh),
  trained here, also evaluated with the pipeline's noisy queries (same noise, same seeds).

The CNN schedule is reduced so that it runs on a 2-core CPU without pretrained weights (none
can be downloaded here): ``--input-px`` 64, ``--train-limit`` images per class, ``--epochs``;
from scratch the backbone trains from the first epoch with Adam lr 1e-3, with pretrained
weights the first epoch is frozen and the rate is 1e-4 (``--lr``, ``--frozen-epochs``).
Pass ImageNet weights (``--weights-*``) and a GPU (``--device cuda --input-px 224
--train-limit 0 --epochs 200``) for the papers' schedule.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from cosfire.datasets import open_dataset, stratified_subset
from cosfire.transforms import TransformedReader
from hashing.cnn import CNNConfig, compact_config, count_multiply_adds, train_cnn_hashing
from hashing.model import load_model
from hashing.training import codes_map, torch_threads
from retrieval import atomic_write

#: format of the ``--backbone compact`` JSON
COMPACT_FORMAT_VERSION = 1
COMPACT_BITS = (36, 8, 16)
NOISE_LEVELS = ("0.05", "0.1", "0.2")


def cosfire_rows(run: Path, bits_list: list[int]) -> list[dict]:
    results = json.loads((run / "results.json").read_text())
    seconds = results["seconds"]
    describe_seconds = sum(
        v for k, v in seconds.items() if k in ("describe-train", "describe-valid", "describe-test")
    )
    n_images = sum(
        json.loads((run / "stages" / f"describe-{s}.json").read_text())["images"]
        for s in ("train", "valid", "test")
    )
    rows = []
    for bits in bits_list:
        key = str(bits)
        if key not in results["bits"]:
            continue
        model = load_model(run / f"model-{bits}.pt")
        parameters = sum(p.numel() for p in model.network.parameters())
        macs = sum(
            m.in_features * m.out_features
            for m in model.network.modules()
            if isinstance(m, torch.nn.Linear)
        )
        rows.append(
            {
                "method": "COSFIRE + DSH MLP",
                "bits": bits,
                "map_at_100": results["bits"][key]["map_at_100"],
                "train_seconds": seconds.get(f"train-{bits}"),
                "inference_ms_per_image": 1e3 * describe_seconds / n_images,
                "parameters": parameters,
                "multiply_adds": macs,
                "schedule": f"{results['bank']['filters']} filters; MLP as the library default",
                "noise_map_at_100": (
                    {k: v["map_at_100"] for k, v in results.get("noise", {}).items()}
                    if key == str(results["config"]["main_bits"])
                    else {}
                ),
            }
        )
    return rows


def cnn_rows(args: argparse.Namespace) -> list[dict]:
    dataset = open_dataset(args.dataset)
    train_items = dataset.items("train")
    fit_items = (
        stratified_subset(train_items, args.train_limit, seed=0)
        if args.train_limit
        else train_items
    )
    valid_items, test_items = dataset.items("valid"), dataset.items("test")
    fit_images, database_images = dataset.read_many(fit_items), dataset.read_many(train_items)
    valid_images, test_images = dataset.read_many(valid_items), dataset.read_many(test_items)
    labels = lambda items: np.array([i.label for i in items])  # noqa: E731
    noisy_tests = {  # the same noisy queries as the pipeline's robustness stage
        level: [TransformedReader(dataset, noise=level, seed=0)(item) for item in test_items]
        for level in args.noise_levels
    }
    rows = []
    for backbone, loss, weights in (
        ("densenet161", "triplet", args.weights_densenet),
        ("hrnet_w18", "dsh", args.weights_hrnet),
    ):
        for bits in args.bits:
            # fine-tuning pretrained weights: a frozen first epoch and a small rate; from
            # scratch, the backbone trains from the start at a larger rate
            lr = args.lr if args.lr is not None else (1e-4 if weights else 1e-3)
            frozen = args.frozen_epochs if args.frozen_epochs is not None else (1 if weights else 0)
            config = CNNConfig(
                backbone=backbone,
                bits=bits,
                loss=loss,
                input_px=args.input_px,
                epochs=args.epochs,
                frozen_epochs=frozen,
                batch_size=16,
                lr=lr,
                weights=weights,
                device=args.device,
                seed=0,
            )
            start = time.perf_counter()
            model, _ = train_cnn_hashing(
                fit_images, labels(fit_items), valid_images, labels(valid_items), config=config
            )
            train_seconds = time.perf_counter() - start
            database = model.encode_images(database_images)
            start = time.perf_counter()
            queries = model.encode_images(test_images)
            inference = (time.perf_counter() - start) / len(test_images)
            noise_maps = {
                f"{level:g}": codes_map(
                    model.encode_images(images),
                    labels(test_items),
                    database,
                    labels(train_items),
                    100,
                    0,
                )
                for level, images in noisy_tests.items()
            }
            network = model.network.cpu()
            rows.append(
                {
                    "noise_map_at_100": noise_maps,
                    "method": f"{backbone} + {loss}",
                    "bits": bits,
                    "map_at_100": codes_map(
                        queries, labels(test_items), database, labels(train_items), 100, 0
                    ),
                    "train_seconds": train_seconds,
                    "inference_ms_per_image": 1e3 * inference,
                    "parameters": int(sum(p.numel() for p in network.parameters())),
                    "multiply_adds": count_multiply_adds(
                        network, (1, 3, args.input_px, args.input_px)
                    ),
                    "schedule": (
                        f"{args.input_px} px, {len(fit_items)} training images, {args.epochs} epochs, "
                        f"Adam lr {lr:g}, {frozen} frozen epochs, "
                        f"{'ImageNet weights' if weights else 'no pretrained weights'}, {args.device}"
                    ),
                }
            )
            if args.json is None:
                print(json.dumps(rows[-1]), flush=True)
    return rows


def compact_seed(dataset, seed: int, *, overrides: dict, save_dir: Path | None) -> dict:
    """Train the compact CNN with ``seed`` and return its test measurements."""
    train_items, valid_items = dataset.items("train"), dataset.items("valid")
    test_items = dataset.items("test")
    labels = lambda items: np.array([i.label for i in items])  # noqa: E731
    train_images, test_images = dataset.read_many(train_items), dataset.read_many(test_items)
    config = compact_config(
        bits=COMPACT_BITS[0], joint_bits=COMPACT_BITS[1:], seed=seed, **overrides
    )
    model, history = train_cnn_hashing(
        train_images,
        labels(train_items),
        dataset.read_many(valid_items),
        labels(valid_items),
        config=config,
        progress=lambda s: print(
            f"seed {seed} epoch {s['epoch']}: loss {s['loss']:.2f}, valid "
            f"mAP@100 {s['valid_map']:.4f}",
            flush=True,
        ),
    )
    if save_dir is not None:
        save_dir.mkdir(parents=True, exist_ok=True)
        model.save(save_dir / f"compact-seed{seed}.pt")
    test_y, train_y = labels(test_items), labels(train_items)
    with torch_threads(config.num_threads or torch.get_num_threads()):
        start = time.perf_counter()
        queries = model.encode_images(test_images)
        inference_ms = 1e3 * (time.perf_counter() - start) / len(test_images)
        test_map = {}
        for bits in COMPACT_BITS:
            database = model.encode_images(train_images, bits=bits)
            test_map[str(bits)] = codes_map(
                queries if bits == COMPACT_BITS[0] else model.encode_images(test_images, bits=bits),
                test_y,
                database,
                train_y,
                100,
                0,
            )
        database = model.encode_images(train_images)
        rotated = [TransformedReader(dataset, rotate=True, seed=0)(item) for item in test_items]
        rotated_map = codes_map(model.encode_images(rotated), test_y, database, train_y, 100, 0)
        noise_map = {}
        for level in NOISE_LEVELS:
            reader = TransformedReader(dataset, noise=float(level), seed=0)
            noisy = [reader(item) for item in test_items]
            noise_map[level] = codes_map(
                model.encode_images(noisy), test_y, database, train_y, 100, 0
            )
        accuracy = float((model.predict_classes(test_images) == test_y).mean())
    return {
        "test_accuracy": accuracy,
        "map_at_100": test_map,
        "rotated_map_at_100": rotated_map,
        "noise_map_at_100": noise_map,
        "train_seconds": history.seconds,
        "inference_ms_per_image": inference_ms,
        "best_epoch": history.best_epoch,
        "epochs_run": history.epochs[-1],
        "valid_map_at_100": history.best_valid_map,
    }


def _flatten(measured: dict) -> dict[str, float]:
    flat = {}
    for key, value in measured.items():
        if isinstance(value, dict):
            flat.update({f"{key}/{inner}": v for inner, v in value.items()})
        else:
            flat[key] = value
    return flat


def summarise(results: dict) -> dict:
    """Return ``results`` with ``mean`` and ``sd`` (sample sd, n - 1) over its seeds."""
    flats = [_flatten(m) for m in results["seeds"].values()]
    keys = flats[0].keys()
    mean = {k: float(np.mean([f[k] for f in flats])) for k in keys}
    sd = {k: float(np.std([f[k] for f in flats], ddof=1)) if len(flats) > 1 else 0.0 for k in keys}
    return {**results, "mean": mean, "sd": sd}


def compact_results(args: argparse.Namespace) -> dict:
    """Run the seeds of ``args`` and merge them with those already in ``args.json``."""
    dataset = open_dataset(args.dataset)
    overrides = {
        name: value
        for name, value in (("epochs", args.epochs), ("crop_px", args.crop_px))
        if value is not None
    }
    config = compact_config(bits=COMPACT_BITS[0], joint_bits=COMPACT_BITS[1:], **overrides)
    settings = {key: value for key, value in config.to_dict().items() if key != "seed"}
    results = {
        "format_version": COMPACT_FORMAT_VERSION,
        "method": "compact CNN + DSH",
        "config": settings,
        "dataset": dataset.source,
        "train_images": len(dataset.items("train")),
        "cpu_threads": config.num_threads,
        "seeds": {},
    }
    target = Path(args.json) if args.json not in (None, "-") else None
    if target is not None and target.exists():
        recorded = json.loads(target.read_text())
        if recorded.get("config") != settings:
            raise SystemExit(f"{target} holds results of other settings; use another --json path")
        results["seeds"] = recorded["seeds"]
    for seed in args.seeds:
        results["seeds"][str(seed)] = compact_seed(
            dataset, seed, overrides=overrides, save_dir=args.save_models
        )
        results = summarise(results)
        if target is not None:
            with atomic_write(target, "w") as handle:
                handle.write(json.dumps(results, indent=2, sort_keys=True))
    from hashing.cnn import CNNHashingNetwork

    network = CNNHashingNetwork(config, n_classes=len(dataset.class_names))
    network_spec = {
        "parameters": int(sum(p.numel() for p in network.parameters())),
        "multiply_adds": count_multiply_adds(network, (1, 3, config.input_px, config.input_px)),
    }
    results = summarise({**results, **network_spec})
    if target is not None:
        with atomic_write(target, "w") as handle:
            handle.write(json.dumps(results, indent=2, sort_keys=True))
    return results


def _measure(results: dict, key: str, scale: float = 100.0, digits: int = 1) -> str:
    mean, sd = results["mean"][key], results["sd"][key]
    return f"{scale * mean:.{digits}f} +- {scale * sd:.{digits}f}"


def compact_table(results: dict) -> list[str]:
    """Return the markdown rows (header first) of the compact CNN's measurements."""
    seeds = sorted(results["seeds"], key=int)
    lines = [
        "| measure | " + " | ".join(f"seed {s}" for s in seeds) + " | mean +- sd |",
        "| --- |" + " --- |" * (len(seeds) + 1),
    ]
    measures = [("test accuracy of the classifier head (%)", "test_accuracy", 100.0, 1)]
    measures += [
        (f"mAP@100, {bits} bits (%)", f"map_at_100/{bits}", 100.0, 1)
        for bits in sorted(int(b) for b in results["seeds"][seeds[0]]["map_at_100"])
    ]
    measures += [("mAP@100, 36 bits, rotated queries (%)", "rotated_map_at_100", 100.0, 1)]
    measures += [
        (f"mAP@100, 36 bits, noise {level} x peak (%)", f"noise_map_at_100/{level}", 100.0, 1)
        for level in NOISE_LEVELS
    ]
    measures += [
        ("epoch kept (on valid)", "best_epoch", 1.0, 1),
        ("train time (s)", "train_seconds", 1.0, 0),
        ("inference (ms / image)", "inference_ms_per_image", 1.0, 2),
    ]
    for label, key, scale, digits in measures:
        values = [_flatten(results["seeds"][s])[key] for s in seeds]
        lines.append(
            f"| {label} | "
            + " | ".join(f"{scale * v:.{digits}f}" for v in values)
            + f" | {_measure(results, key, scale, digits)} |"
        )
    return lines


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def report_section(results: dict) -> str:
    """Return the FIRST report's CNN sections (markdown) from ``--backbone compact`` JSON.

    ``results`` may also hold ``"pretrained_rows"``: rows of the ``--backbone pretrained`` mode
    (a list as its ``--json`` writes); those trained from scratch on the reduced CPU schedule are
    labelled as such.
    """
    config = results["config"]
    seeds = sorted(results["seeds"], key=int)
    minutes = results["mean"]["train_seconds"] / 60
    lines = [
        "## Against a CNN trained from scratch",
        "",
        f"A compact CNN ({results.get('parameters') or 0:,} parameters, "
        f"{(results.get('multiply_adds') or 0) / 1e6:.0f} M multiply-adds per image; five "
        f"3 x 3 convolution blocks with BatchNorm and max pooling, global average pooling) "
        f"trained from scratch on all {results['train_images']} training images: "
        f"{config['crop_px']} px centre crop resized to {config['input_px']} px, rotations "
        f"by any angle and flips, class-balanced batches of {config['batch_size']}, DSH "
        f"plus an auxiliary classification loss of weight {config['class_weight']:g} (as the "
        f"MLP), Adam {config['lr']:g} with cosine decay over {config['epochs']} epochs, one "
        f"backbone with {_and([f'{b}-' for b in sorted([config['bits'], *config['joint_bits']])])}"
        f"bit hash heads and the classifier head trained jointly, the epoch kept by "
        f"validation mAP@100 (validation queries against the training images). Budget: "
        f"{minutes:.1f} min of training per model on {results['cpu_threads']} CPU threads; "
        f"{len(seeds)} seed{'s' if len(seeds) > 1 else ''} (mean +- sd). Test queries against the training images; "
        "rotated queries turn each test image by a random angle (seed 0); noisy queries "
        "are the pipeline's.",
        "",
        *compact_table(results),
        "",
        "Reproduce: `python benchmarks/bench_cnn.py --backbone compact --seeds 0 1 2 "
        "--json runs/cnn/compact.json`.",
        "",
        "## With a GPU and pretrained weights",
        "",
        "DenseNet161 + triplet loss (Ndung'u et al. 2023) and HRNet-W18 + DSH need ImageNet "
        "weights and a GPU for the papers' schedule: `bench_cnn.py --weights-densenet PATH "
        "--weights-hrnet PATH --device cuda --input-px 224 --train-limit 0 --epochs 200`.",
    ]
    rows = results.get("pretrained_rows") or []
    if rows:
        lines += [
            "",
            "| method | bits | mAP@100 | train s | schedule |",
            "| --- | --- | --- | --- | --- |",
        ]
        for r in rows:
            reduced = "no pretrained weights" in r["schedule"]
            label = (
                f"{r['method']} (reduced CPU schedule, not a baseline)" if reduced else r["method"]
            )
            lines.append(
                f"| {label} | {r['bits']} | {100 * r['map_at_100']:.1f} | "
                f"{r['train_seconds'] or 0:.0f} | {r['schedule']} |"
            )
    else:
        lines += [
            "",
            "Trained from scratch on a reduced CPU schedule they are not baselines, "
            "and are not shown; the compact CNN above is the CPU baseline.",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--backbone",
        choices=["compact", "pretrained"],
        default="pretrained",
        help="compact: the CPU baseline; pretrained: DenseNet161 and HRNet-W18",
    )
    parser.add_argument("--cosfire-run", type=Path, help="pretrained mode: a pipeline run folder")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="compact mode")
    parser.add_argument("--save-models", type=Path, help="compact mode: write the models here")
    parser.add_argument("--crop-px", type=int, help="compact mode: centre crop [100]")
    parser.add_argument("--dataset", default="first")
    parser.add_argument("--bits", type=int, nargs="+", default=[8, 16, 36])
    parser.add_argument("--input-px", type=int, default=64)
    parser.add_argument("--train-limit", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=None, help="[compact: 40; pretrained: 6]")
    parser.add_argument("--lr", type=float, help="default: 1e-4 with weights, 1e-3 without")
    parser.add_argument("--frozen-epochs", type=int, help="default: 1 with weights, 0 without")
    parser.add_argument("--weights-densenet")
    parser.add_argument("--weights-hrnet")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--noise-levels", type=float, nargs="+", default=[0.05, 0.1, 0.2])
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        default=None,
        help="JSON to PATH (compact: merged with the seeds already there), or "
        "to stdout without PATH",
    )
    args = parser.parse_args()
    if args.backbone == "compact":
        results = compact_results(args)
        if args.json == "-":
            print(json.dumps(results, indent=2, sort_keys=True))
        else:
            print("\n".join(compact_table(results)))
        return
    if args.cosfire_run is None:
        parser.error("--backbone pretrained needs --cosfire-run")
    args.epochs = args.epochs or 6
    with torch_threads(args.threads):
        rows = cosfire_rows(args.cosfire_run, args.bits) + cnn_rows(args)
    if args.json is not None:
        text = json.dumps(rows, indent=2)
        if args.json == "-":
            print(text)
        else:
            with atomic_write(Path(args.json), "w") as handle:
                handle.write(text)
        return
    print(
        f"\n{'method':22s} {'bits':>4s} {'mAP@100':>8s} {'train s':>9s} {'ms/image':>9s} "
        f"{'params':>11s} {'mult-adds':>11s}  schedule"
    )
    for row in rows:
        print(
            f"{row['method']:22s} {row['bits']:4d} {100 * row['map_at_100']:8.2f} "
            f"{row['train_seconds'] or 0:9.1f} {row['inference_ms_per_image']:9.2f} "
            f"{row['parameters']:11,d} {row['multiply_adds']:11,d}  {row['schedule']}"
        )


if __name__ == "__main__":
    main()
