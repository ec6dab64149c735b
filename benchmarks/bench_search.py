"""Benchmark: Hamming search speed of HammingIndex against raw faiss and NumPy, and recall of
the approximate indexes.

    python benchmarks/bench_search.py [--n 1000000] [--queries 1000] [--k 100] [--bits 64]
                                      [--approx-n 10000000] [--threads 2] [--json]

Part 1 (exact): ``--n`` random codes, ``--queries`` random queries, top ``--k``: queries per
second of HammingIndex (exact, with its tie-order pass), of raw faiss ``IndexBinaryFlat``, and
of a NumPy brute force (popcount table), in the same run, all with ``--threads`` threads.
Part 2 (approximate): at ``--approx-n`` codes, the speed-up of HNSW and multi-hash over exact
search and their recall@k (the fraction of the exact top-k ids they return).
Target (issue 5): HammingIndex >= 0.8x raw faiss.
"""

from __future__ import annotations

import argparse
import json
import time

import faiss
import numpy as np

from retrieval.codes import hamming_distances, pack_codes
from retrieval.index import HammingIndex


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def numpy_topk(queries: np.ndarray, database: np.ndarray, k: int) -> np.ndarray:
    out = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), 16):
        distances = hamming_distances(queries[start : start + 16], database)
        part = np.argpartition(distances, k - 1, axis=1)[:, :k]
        order = np.take_along_axis(distances, part, axis=1).argsort(axis=1, kind="stable")
        out[start : start + 16] = np.take_along_axis(part, order, axis=1)
    return out


def _around(centres: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Packed codes near random centres: 8 % of the bits flipped."""
    noisy = centres[rng.integers(0, len(centres), count)]
    return pack_codes(noisy ^ (rng.random(noisy.shape) < 0.08).astype(np.uint8))


def _cell(row: dict, key: str, fmt: str) -> str:
    return format(row[key], fmt) if key in row else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--bits", type=int, default=64)
    parser.add_argument("--numpy-queries", type=int, default=50, help="NumPy is slow: fewer")
    parser.add_argument("--approx-n", type=int, default=10_000_000)
    parser.add_argument("--approx-queries", type=int, default=200)
    parser.add_argument(
        "--hnsw-max-n",
        type=int,
        default=1_000_000,
        help="HNSW is built on at most this many of the codes (building it for "
        "10M codes takes tens of minutes on 2 cores)",
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    faiss.omp_set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    rows = []

    database = pack_codes(rng.integers(0, 2, (args.n, args.bits), dtype=np.uint8))
    queries = pack_codes(rng.integers(0, 2, (args.queries, args.bits), dtype=np.uint8))
    raw = faiss.IndexBinaryFlat(8 * database.shape[1])
    raw.add(database)
    index = HammingIndex(args.bits)
    index.add(database)
    raw.search(queries[:10], args.k)  # warm up
    (_, raw_ids), raw_seconds = timed(raw.search, queries, args.k)
    (_, ours_ids), ours_seconds = timed(index.search, queries, args.k)
    numpy_ids, numpy_seconds = timed(numpy_topk, queries[: args.numpy_queries], database, args.k)
    for name, seconds, count in (
        ("HammingIndex (exact)", ours_seconds, args.queries),
        ("faiss IndexBinaryFlat", raw_seconds, args.queries),
        ("NumPy brute force", numpy_seconds, args.numpy_queries),
    ):
        rows.append(
            {
                "method": name,
                "database": args.n,
                "queries": count,
                "queries_per_s": count / seconds,
                "g_comparisons_per_s": args.n * count / seconds / 1e9,
                "speed_vs_faiss": (count / seconds) / (args.queries / raw_seconds),
            }
        )

    for layout in ("uniform", "clustered") if args.approx_n else ():
        if layout == "uniform":
            big = pack_codes(rng.integers(0, 2, (args.approx_n, args.bits), dtype=np.uint8))
            probe = pack_codes(rng.integers(0, 2, (args.approx_queries, args.bits), dtype=np.uint8))
        else:  # codes of similar galaxies cluster: centres with 8 % of their bits flipped
            centres = rng.integers(0, 2, (args.approx_n // 1000, args.bits), dtype=np.uint8)
            big = _around(centres, args.approx_n, rng)
            probe = _around(centres, args.approx_queries, rng)
        exact = HammingIndex(args.bits)
        exact.add(big)
        (_, truth), exact_seconds = timed(exact.search, probe, args.k)
        rows.append(
            {
                "method": f"exact, {layout}",
                "database": args.approx_n,
                "queries": args.approx_queries,
                "queries_per_s": args.approx_queries / exact_seconds,
                "g_comparisons_per_s": args.approx_n * args.approx_queries / exact_seconds / 1e9,
                "recall_at_k": 1.0,
                "speedup_vs_exact": 1.0,
            }
        )
        for kind in ("ivf", "hnsw", "multihash"):
            size = min(args.approx_n, args.hnsw_max_n) if kind == "hnsw" else args.approx_n
            reference_truth, reference_seconds = truth, exact_seconds
            if size < args.approx_n:  # compare with exact search over the same codes
                subset = HammingIndex(args.bits)
                subset.add(big[:size])
                (_, reference_truth), reference_seconds = timed(subset.search, probe, args.k)
                del subset
            approximate = HammingIndex(args.bits, kind=kind)  # type: ignore[arg-type]
            _, build_seconds = timed(approximate.add, big[:size])
            (_, found), seconds = timed(approximate.search, probe, args.k)
            recall = np.mean(
                [len(set(f) & set(t)) / args.k for f, t in zip(found, reference_truth, strict=True)]
            )
            rows.append(
                {
                    "method": f"{kind}, {layout}",
                    "database": size,
                    "queries": args.approx_queries,
                    "queries_per_s": args.approx_queries / seconds,
                    "recall_at_k": float(recall),
                    "speedup_vs_exact": reference_seconds / seconds,
                    "build_seconds": build_seconds,
                }
            )
            del approximate
        del big, exact

    if args.json:
        print(
            json.dumps(
                {"bits": args.bits, "k": args.k, "threads": args.threads, "rows": rows}, indent=2
            )
        )
        return
    print(
        f"{args.bits}-bit codes, top-{args.k}, {args.threads} threads; "
        f"faiss {raw_seconds * 1e3 / args.queries:.2f} ms/query\n"
    )
    print(
        f"{'method':24s} {'database':>10s} {'queries/s':>10s} {'G cmp/s':>8s} "
        f"{'vs faiss':>8s} {'recall@k':>8s} {'vs exact':>8s} {'build s':>8s}"
    )
    for row in rows:
        print(
            f"{row['method']:24s} {row['database']:>10d} {row['queries_per_s']:>10.1f} "
            f"{_cell(row, 'g_comparisons_per_s', '8.2f'):>8s} "
            f"{_cell(row, 'speed_vs_faiss', '8.2f'):>8s} {_cell(row, 'recall_at_k', '8.3f'):>8s} "
            f"{_cell(row, 'speedup_vs_exact', '8.1f'):>8s} {_cell(row, 'build_seconds', '8.1f'):>8s}"
        )
    print(
        f"\nNumPy ids agree with faiss on the first {args.numpy_queries} queries: "
        f"{np.mean([len(set(a) & set(b)) / args.k for a, b in zip(numpy_ids, raw_ids, strict=False)]):.3f} "
        f"(ties may differ)"
    )
    print(
        f"HammingIndex ids agree with faiss: {np.mean(ours_ids == raw_ids):.3f} (faiss breaks ties arbitrarily)"
    )


if __name__ == "__main__":
    main()
