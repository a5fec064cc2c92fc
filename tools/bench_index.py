"""Benchmark nearest-neighbour search for the brand index: exact numpy against usearch, faiss and hnswlib.

    python tools/bench_index.py --sizes 10000 100000 1000000 [--dim 128] [--queries 1000] [--json out.json] \
        [--ef-search 128 512]

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

LIBRARIES = ["numpy", "usearch-i8", "usearch-f16", "faiss-hnsw", "hnswlib", "faiss-ivf-sq8"]
IVF_PROBES = 32
K = 10
EF_SEARCH = 128  # the same search breadth for every graph library (--ef-search tries others on one build)


def make_data(
    n: int, dim: int, queries: int, seed: int = 0, fit: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """References: 4 per brand around a brand centre (cosine about 0.6 between a brand's references).
    Queries: a photo of one reference, at cosine about 0.8 to it (what the v1 embedder gives genuine photos,
    median 0.77-0.89 in the evaluations). With `fit` (real embeddings), centres and noise follow their mean
    and covariance instead of an isotropic Gaussian: real embeddings fill far fewer directions, which is
    what makes approximate search work on them."""
    rng = np.random.default_rng(seed)
    if fit is not None:
        dim = fit.shape[1]
        mean, cov = fit.mean(axis=0), np.cov(fit.T)
        shape = np.linalg.cholesky(cov + 1e-6 * np.eye(dim)) / np.sqrt(np.trace(cov) / dim)
    else:
        mean, shape = np.zeros(dim), np.eye(dim)

    def gaussian(count: int) -> np.ndarray:
        return rng.standard_normal((count, dim)) @ shape.T

    brands = max(1, n // 4)
    centres = _unit(gaussian(brands) + mean * np.sqrt(dim))
    data = _unit(centres[rng.integers(0, brands, n)] + gaussian(n) * (1.15 / np.sqrt(dim)))
    picks = rng.integers(0, n, queries)
    query = _unit(data[picks] + gaussian(queries) * (0.75 / np.sqrt(dim)))
    return data.astype(np.float32), query.astype(np.float32)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=1, keepdims=True)


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
    elif library == "faiss-ivf-sq8":
        import faiss

        lists = max(16, int(4 * np.sqrt(len(data))))
        quantizer = faiss.IndexFlatIP(data.shape[1])
        index = faiss.IndexIVFScalarQuantizer(
            quantizer, data.shape[1], lists, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        sample = data[np.random.default_rng(1).choice(len(data), min(len(data), 100_000), replace=False)]
        index.train(sample)
        index.add(data)
        faiss.write_index(index, str(path))
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


def peak_rss_mb() -> float:
    """This process's own high-water RSS. Not ru_maxrss: Linux carries that over from the parent across
    fork and exec, so a child would report the benchmark driver's memory."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def query_worker(library: str, path: str, queries_path: str, dim: int, n: int, ef_search: int) -> None:
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
        index.expansion_search = ef_search

        def search(q: np.ndarray) -> np.ndarray:
            return index.search(q, K, threads=1).keys
    elif library.startswith("faiss"):
        import faiss

        faiss.omp_set_num_threads(1)
        index = faiss.read_index(path, faiss.IO_FLAG_MMAP if library == "faiss-ivf-sq8" else 0)
        if library == "faiss-ivf-sq8":
            index.nprobe = IVF_PROBES
        else:
            index.hnsw.efSearch = ef_search

        def search(q: np.ndarray) -> np.ndarray:
            return index.search(q[None], K)[1][0]
    else:
        import hnswlib

        index = hnswlib.Index(space="ip", dim=dim)
        index.load_index(path, max_elements=n)
        index.set_ef(ef_search)
        index.set_num_threads(1)

        def search(q: np.ndarray) -> np.ndarray:
            return index.knn_query(q[None], K)[0][0]

    load = time.perf_counter() - start
    results, times = [], []
    for q in queries:
        t = time.perf_counter()
        results.append(np.asarray(search(q), dtype=np.int64)[:K])
        times.append((time.perf_counter() - t) * 1000)
    peak = peak_rss_mb()
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


def query(library: str, path: Path, queries_path: Path, dim: int, n: int, ef_search: int, exact: np.ndarray) -> dict:
    """Run the queries in a fresh process; its timings and memory, and recall against exact search."""
    out = subprocess.run(
        [sys.executable, __file__, "--worker", library, str(path), str(queries_path), str(dim), str(n), str(ef_search)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout)
    found = np.array(result.pop("results"))
    name = library if ef_search == EF_SEARCH else f"{library}@{ef_search}"
    return {
        "library": name,
        "ef_search": ef_search,
        **result,
        "recall@1": float((found[:, 0] == exact[:, 0]).mean()),
        "recall@10": float(np.mean([len(set(f) & set(e)) / K for f, e in zip(found, exact, strict=True)])),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--libraries", nargs="+", default=LIBRARIES)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--fit", type=Path, help=".npy of real embeddings whose mean and covariance shape the data")
    parser.add_argument(
        "--ef-search", type=int, nargs="+", default=[EF_SEARCH], help="graph search breadths to query each build with"
    )
    args = parser.parse_args(argv)
    fit = np.load(args.fit) if args.fit else None

    rows = []
    print(
        f"{'size':>9} {'library':<12} {'build s':>8} {'load s':>7} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'recall@1':>8} {'recall@10':>9} {'file MB':>8} {'peak MB':>8}"
    )
    for n in args.sizes:
        data, queries = make_data(n, args.dim, args.queries, fit=fit)
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
                graph = library not in ("numpy", "faiss-ivf-sq8")
                for ef_search in args.ef_search if graph else [EF_SEARCH]:
                    row = query(library, path, queries_path, args.dim, n, ef_search, exact)
                    row.update(size=n, build_s=build_s, file_mb=path.stat().st_size / 1e6)
                    rows.append(row)
                    print(
                        f"{n:>9} {row['library']:<12} {build_s:>8.1f} {row['load_s']:>7.3f} {row['p50_ms']:>7.3f} "
                        f"{row['p95_ms']:>7.3f} {row['recall@1']:>8.4f} {row['recall@10']:>9.4f} "
                        f"{row['file_mb']:>8.1f} {row['peak_mb']:>8.0f}",
                        flush=True,
                    )
        del data
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        query_worker(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]))
    else:
        raise SystemExit(main())
