"""Benchmark: CNN hashing baselines against COSFIRE codes on the FIRST galaxies.

    python benchmarks/bench_cnn.py --cosfire-run runs/first [--bits 8 16 36] [--json]
        [--input-px 64] [--train-limit 100] [--epochs 6] [--weights-densenet PATH]
        [--weights-hrnet PATH] [--lr LR] [--frozen-epochs N] [--device cpu]

For each code length: test-split mAP@100 (database = train split, ties in seeded random
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

from cli.pipeline import TransformedReader
from cosfire.datasets import open_dataset, stratified_subset
from hashing.cnn import CNNConfig, count_multiply_adds, train_cnn_hashing
from hashing.model import load_model
from hashing.training import codes_map


def cosfire_rows(run: Path, bits_list: list[int]) -> list[dict]:
    results = json.loads((run / "results.json").read_text())
    seconds = results["seconds"]
    describe_seconds = sum(
        v for k, v in seconds.items() if k in ("describe-train", "describe-valid", "describe-test")
    )
    n_images = sum(json.loads((run / "stages" / f"describe-{s}.json").read_text())["images"]
                   for s in ("train", "valid", "test"))  # fmt: skip
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
        rows.append({
            "method": "COSFIRE + DSH MLP", "bits": bits, "map_at_100": results["bits"][key]["map_at_100"],
            "train_seconds": seconds.get(f"train-{bits}"), "inference_ms_per_image": 1e3 * describe_seconds / n_images,
            "parameters": parameters, "multiply_adds": macs,
            "schedule": f"{results['bank']['filters']} filters; MLP as the library default",
            "noise_map_at_100": ({k: v["map_at_100"] for k, v in results.get("noise", {}).items()}
                                 if key == str(results["config"]["main_bits"]) else {}),
        })  # fmt: skip
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
    for backbone, loss, weights in (("densenet161", "triplet", args.weights_densenet),
                                    ("hrnet_w18", "dsh", args.weights_hrnet)):  # fmt: skip
        for bits in args.bits:
            # fine-tuning pretrained weights: a frozen first epoch and a small rate; from
            # scratch, the backbone trains from the start at a larger rate
            lr = args.lr if args.lr is not None else (1e-4 if weights else 1e-3)
            frozen = args.frozen_epochs if args.frozen_epochs is not None else (1 if weights else 0)
            config = CNNConfig(backbone=backbone, bits=bits, loss=loss, input_px=args.input_px,
                               epochs=args.epochs, frozen_epochs=frozen, batch_size=16, lr=lr,
                               weights=weights, device=args.device, seed=0)  # fmt: skip
            start = time.perf_counter()
            model, _ = train_cnn_hashing(fit_images, labels(fit_items), valid_images, labels(valid_items),
                                         config=config)  # fmt: skip
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
                )  # fmt: skip
                for level, images in noisy_tests.items()
            }
            network = model.network.cpu()
            rows.append({
                "noise_map_at_100": noise_maps,
                "method": f"{backbone} + {loss}", "bits": bits,
                "map_at_100": codes_map(queries, labels(test_items), database, labels(train_items), 100, 0),
                "train_seconds": train_seconds, "inference_ms_per_image": 1e3 * inference,
                "parameters": int(sum(p.numel() for p in network.parameters())),
                "multiply_adds": count_multiply_adds(network, (1, 3, args.input_px, args.input_px)),
                "schedule": (f"{args.input_px} px, {len(fit_items)} training images, {args.epochs} epochs, "
                             f"Adam lr {lr:g}, {frozen} frozen epochs, "
                             f"{'ImageNet weights' if weights else 'no pretrained weights'}, {args.device}"),
            })  # fmt: skip
            if not args.json:
                print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cosfire-run", type=Path, required=True)
    parser.add_argument("--dataset", default="first")
    parser.add_argument("--bits", type=int, nargs="+", default=[8, 16, 36])
    parser.add_argument("--input-px", type=int, default=64)
    parser.add_argument("--train-limit", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--lr", type=float, help="default: 1e-4 with weights, 1e-3 without")
    parser.add_argument("--frozen-epochs", type=int, help="default: 1 with weights, 0 without")
    parser.add_argument("--weights-densenet")
    parser.add_argument("--weights-hrnet")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--noise-levels", type=float, nargs="+", default=[0.05, 0.1, 0.2])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = cosfire_rows(args.cosfire_run, args.bits) + cnn_rows(args)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"\n{'method':22s} {'bits':>4s} {'mAP@100':>8s} {'train s':>9s} {'ms/image':>9s} "
          f"{'params':>11s} {'mult-adds':>11s}  schedule")  # fmt: skip
    for row in rows:
        print(f"{row['method']:22s} {row['bits']:4d} {100 * row['map_at_100']:8.2f} "
              f"{row['train_seconds'] or 0:9.1f} {row['inference_ms_per_image']:9.2f} "
              f"{row['parameters']:11,d} {row['multiply_adds']:11,d}  {row['schedule']}")  # fmt: skip


if __name__ == "__main__":
    main()
