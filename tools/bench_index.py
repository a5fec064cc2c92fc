"""Benchmark nearest-neighbour search for the brand index: exact numpy against usearch, faiss and hnswlib.

    python tools/bench_index.py --sizes 10000 100000 1000000 [--dim 128] [--queries 1000] [--json out.json]

Data: unit vectors in brand-like clusters (a few references per brand, spread around a brand centre);
queries are fresh noisy views of indexed brands. Per library and size: build time; load time from disk;
query p50/p95 on one thread, one query at a time (how the scanner asks); recall@1 and @10 against exact
search; the file size; and the peak RSS of a fresh process that loads the index and answers the queries
(the device's cost). Each measurement runs in its own process so one library's memory does not count
against another's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

LIBRARIES = ["numpy", "usearch-i8", "usearch-f16", "faiss-hnsw", "hnswlib"]
K = 10


def make_data(n: int, dim: int, queries: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    brands = max(1, n // 4)
    centres = rng.standard_normal((brands, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    owner = rng.integers(0, brands, n)
    data = centres[owner] + 0.35 * rng.standard_normal((n, dim)).astype(np.float32) / np.sqrt(dim) * 4
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    picks = rng.integers(0, n, queries)
    query = data[picks] + 0.3 * rng.standard_normal((queries, dim)).astype(np.float32) / np.sqrt(dim) * 4
    query /= np.linalg.norm(query, axis=1, keepdims=True)
    return data.astype(np.float32), query.astype(np.float32)


def build(library: str, data: np.ndarray, path: Path) -> float:
    start = time.perf_counter()
    if library == "numpy":
        np.save(path, data)
    elif library.startswith("usearch"):
        from usearch.index import Index

        index = Index(
            ndim=data.shape[1],
            metric="cos",
            dtype=library.split("-")[1],
            connectivity=16,
            expansion_add=128,
            expansion_search=64,
        )
        index.add(np.arange(len(data)), data, threads=os.cpu_count() or 1)
        index.save(str(path))
    elif library == "faiss-hnsw":
        import faiss

        index = faiss.IndexHNSWFlat(data.shape[1], 16, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 128
        index.add(data)
        faiss.write_index(index, str(path))
    elif library == "hnswlib":
        import hnswlib

        index = hnswlib.Index(space="ip", dim=data.shape[1])
        index.init_index(max_elements=len(data), ef_construction=128, M=16)
        index.add_items(data, np.arange(len(data)))
        index.save_index(str(path))
    return time.perf_counter() - start


def query_worker(library: str, path: str, queries_path: str, dim: int, n: int) -> None:
    """In a fresh process: load, answer each query alone on one thread, report timings and peak RSS."""
    os.environ["OMP_NUM_THREADS"] = "1"
    queries = np.load(queries_path)
    start = time.perf_counter()
    if library == "numpy":
        data = np.load(path, mmap_mode="r")
        data = np.ascontiguousarray(data)

        def search(q: np.ndarray) -> np.ndarray:
            scores = data @ q
            top = np.argpartition(-scores, K)[:K]
            return top[np.argsort(-scores[top])]
    elif library.startswith("usearch"):
        from usearch.index import Index

        index = Index.restore(path, view=True)
        index.expansion_search = 64

        def search(q: np.ndarray) -> np.ndarray:
            return index.search(q, K, threads=1).keys
    elif library == "faiss-hnsw":
        import faiss

        faiss.omp_set_num_threads(1)
        index = faiss.read_index(path)
        index.hnsw.efSearch = 64

        def search(q: np.ndarray) -> np.ndarray:
            return index.search(q[None], K)[1][0]
    else:
        import hnswlib

        index = hnswlib.Index(space="ip", dim=dim)
        index.load_index(path, max_elements=n)
        index.set_ef(64)
        index.set_num_threads(1)

        def search(q: np.ndarray) -> np.ndarray:
            return index.knn_query(q[None], K)[0][0]

    load = time.perf_counter() - start
    results, times = [], []
    for q in queries:
        t = time.perf_counter()
        results.append(np.asarray(search(q), dtype=np.int64)[:K])
        times.append((time.perf_counter() - t) * 1000)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "load_s": load,
                "p50_ms": float(np.percentile(times, 50)),
                "p95_ms": float(np.percentile(times, 95)),
                "peak_mb": peak,
                "results": np.stack(results).tolist(),
            }
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--libraries", nargs="+", default=LIBRARIES)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    rows = []
    print(
        f"{'size':>9} {'library':<12} {'build s':>8} {'load s':>7} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'recall@1':>8} {'recall@10':>9} {'file MB':>8} {'peak MB':>8}"
    )
    for n in args.sizes:
        data, queries = make_data(n, args.dim, args.queries)
        exact = (
            np.argsort(-(queries @ data.T), axis=1)[:, :K]
            if n <= 100_000
            else np.stack([np.argsort(-(data @ q))[:K] for q in queries])
        )
        with tempfile.TemporaryDirectory(dir="build" if Path("build").is_dir() else None) as tmp:
            queries_path = Path(tmp) / "queries.npy"
            np.save(queries_path, queries)
            for library in args.libraries:
                path = Path(tmp) / f"index-{library}{'.npy' if library == 'numpy' else ''}"
                build_s = build(library, data, path)
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--worker",
                        library,
                        str(path),
                        str(queries_path),
                        str(args.dim),
                        str(n),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                result = json.loads(out.stdout)
                found = np.array(result.pop("results"))
                recall1 = float((found[:, 0] == exact[:, 0]).mean())
                recall10 = float(np.mean([len(set(f) & set(e)) / K for f, e in zip(found, exact, strict=True)]))
                row = {
                    "size": n,
                    "library": library,
                    "build_s": build_s,
                    **result,
                    "recall@1": recall1,
                    "recall@10": recall10,
                    "file_mb": path.stat().st_size / 1e6,
                }
                rows.append(row)
                print(
                    f"{n:>9} {library:<12} {build_s:>8.1f} {row['load_s']:>7.3f} {row['p50_ms']:>7.3f} "
                    f"{row['p95_ms']:>7.3f} {recall1:>8.4f} {recall10:>9.4f} {row['file_mb']:>8.1f} "
                    f"{row['peak_mb']:>8.0f}",
                    flush=True,
                )
        del data
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        query_worker(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
    else:
        raise SystemExit(main())
