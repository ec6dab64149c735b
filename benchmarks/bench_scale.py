"""Benchmark: describing at scale. Images/s with 1 and 2 loky workers and on a dask
LocalCluster, and the peak memory of describing 100,000 synthetic galaxies into one file.

    python benchmarks/bench_scale.py [--throughput-images 400] [--images 100000]
                                     [--per-class 8] [--size 300] [--json]

Galaxies are generated on the fly by the workers (the synthetic generator, seeded per image),
so the measurement covers reading + describing, not the disk. The 100k run goes through the
same streamed path as ``cosfire-hash describe`` (checkpointed chunks written into the file
block by block), in a fresh process whose resident memory, children included, is sampled
every 0.2 s (psutil: ``pip install -e ".[bench]"``). The bank is the radio default setting
with --per-class filters per class.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from cosfire.bank import configure_bank
from cosfire.descriptor import describe
from cosfire.synthetic import GALAXY_KINDS, make_galaxy


class SyntheticReader:
    """Picklable: item i -> a synthetic galaxy of kind i mod 4 (float32 in [0, 1])."""

    def __init__(self, size: int, seed: int = 0) -> None:
        self.size = size
        self.seed = seed

    def __call__(self, index: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, int(index)])
        kind = GALAXY_KINDS[int(index) % len(GALAXY_KINDS)]
        return make_galaxy(kind, size=self.size, rng=rng).astype(np.float32) / 255.0


def make_bank(per_class: int, size: int):
    reader = SyntheticReader(size, seed=12345)
    items = list(range(len(GALAXY_KINDS) * per_class * 3))
    return configure_bank(
        items,
        [i % len(GALAXY_KINDS) for i in items],
        class_names=GALAXY_KINDS,
        per_class=per_class,
        seed=0,
        read=reader,
    )


def throughput(bank, count: int, size: int) -> list[dict]:
    reader = SyntheticReader(size)
    items = list(range(count))
    describe(bank, items[:4], read=reader)  # compile the kernel
    describe(bank, items[:64], read=reader, n_jobs=2, chunk_size=32)  # start the loky workers
    rows = []
    for label, jobs, backend in (("loky, 1 worker", 1, "loky"), ("loky, 2 workers", 2, "loky")):
        start = time.perf_counter()
        describe(bank, items, read=reader, n_jobs=jobs, backend=backend, chunk_size=32)
        rows.append({"method": label, "images_per_s": count / (time.perf_counter() - start)})
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        return rows
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster),
    ):
        describe(bank, items[:64], read=reader, n_jobs=2, backend="dask")  # warm the workers
        start = time.perf_counter()
        describe(bank, items, read=reader, n_jobs=2, backend="dask", chunk_size=32)
        rows.append(
            {
                "method": "dask LocalCluster, 2 workers",
                "images_per_s": count / (time.perf_counter() - start),
            }
        )
    return rows


_CHILD = """
import sys, pickle
from pathlib import Path
sys.path.insert(0, {bench!r})
from bench_scale import SyntheticReader
from cli.describing import describe_to_file
from cosfire.bank import load_bank
bank = load_bank({bank!r})
items = list(range({count}))
describe_to_file(bank, items, read=SyntheticReader({size}), names=[str(i) for i in items],
                 labels=[i % 4 for i in items], class_names=("Bent", "Compact", "FRI", "FRII"),
                 output=Path({output!r}), n_jobs=2, chunk_size=256)
"""


def peak_memory(bank, count: int, size: int) -> dict:
    import psutil

    with tempfile.TemporaryDirectory() as folder:
        bank_path = bank.save(Path(folder) / "bank.json")
        output = Path(folder) / "big.npz"
        code = _CHILD.format(
            bench=str(Path(__file__).parent),
            bank=str(bank_path),
            count=count,
            size=size,
            output=str(output),
        )
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-c", code])
        watched = psutil.Process(process.pid)
        peak = 0
        while process.poll() is None:
            try:
                members = [watched, *watched.children(recursive=True)]
                peak = max(peak, sum(m.memory_info().rss for m in members if m.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.2)
        if process.returncode != 0:
            raise RuntimeError(f"the {count}-image run failed with status {process.returncode}")
        seconds = time.perf_counter() - start
        size_mb = output.stat().st_size / 2**20
    return {
        "images": count,
        "seconds": seconds,
        "images_per_s": count / seconds,
        "peak_rss_mb": peak / 2**20,
        "file_mb": size_mb,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--throughput-images", type=int, default=400)
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--per-class", type=int, default=8)
    parser.add_argument("--size", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    bank = make_bank(args.per_class, args.size)
    rows = throughput(bank, args.throughput_images, args.size)
    memory = peak_memory(bank, args.images, args.size) if args.images else None
    if args.json:
        print(json.dumps({"filters": bank.n_filters, "throughput": rows, "peak": memory}, indent=2))
        return
    print(f"synthetic {args.size} px galaxies, bank of {bank.n_filters} filters (radio defaults)\n")
    print(f"{'method':32s} {'images/s':>10s}")
    for row in rows:
        print(f"{row['method']:32s} {row['images_per_s']:10.1f}")
    if memory:
        print(
            f"\n{memory['images']} images streamed into one descriptor file with 2 workers: "
            f"{memory['seconds']:.0f} s ({memory['images_per_s']:.0f} images/s), peak resident "
            f"memory {memory['peak_rss_mb']:.0f} MB (all processes), file {memory['file_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
