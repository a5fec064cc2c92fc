"""Latency benchmark of the scan pipeline: per stage and end to end (p50/p95), 1 and 2 threads, the int8
embedder and pair verifier against their float32 exports side by side, search with large brand indexes,
start-up time and peak memory. Prints tables; --json writes the numbers.

    python tools/bench.py [--photos 200] [--threads 1 2] [--index-sizes 1000000] \\
        [--float-model build/embedder_v1_float32.tflite] [--float-verifier build/verifier_v2_float32.tflite] \\
        [--json build/bench.json]

Frames: synthetic 640x480 handheld photos (tools/synth_photos.py, rich mode) of the bundled demo brands,
scanned against an index of those brands padded with random references up to each --index-sizes (the
padding's embeddings are random unit vectors: they cost search time without changing verdicts). The first
scan of each configuration is a warm-up and not counted. Start-up is a fresh `scanner scan` process, from
exec to its first verdict; its peak RSS is the device's memory cost. Scene search is timed apart, on
whole-scene photos of the same brands (tools/scene_photos.py) whose located box matches nothing: the cost
of the frames that take the fallback. Tests never assert these numbers; a smoke run (tests/test_bench.py)
only checks that the tool still works.
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from scene_photos import scene_photo  # noqa: E402
from synth_photos import load_mark, make_photo  # noqa: E402

from scanner.config import ScannerConfig  # noqa: E402
from scanner.embed import Embedder  # noqa: E402
from scanner.enroll import build_index  # noqa: E402
from scanner.index import BrandIndex, encode_png  # noqa: E402
from scanner.pair_model import PairVerifier  # noqa: E402
from scanner.pipeline import Pipeline  # noqa: E402
from scanner.runtime import available_runtimes  # noqa: E402

STAGES = ["quality", "locate", "embed", "match", "field", "verify", "total"]
BRANDS = ROOT / "samples" / "brands"


def percentiles(values: list[float]) -> tuple[float, float]:
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


def photos(count: int) -> list[np.ndarray]:
    brands = sorted(p.name for p in BRANDS.iterdir() if p.is_dir())
    return [
        make_photo(BRANDS / brands[i % len(brands)] / "logo.png", "genuine", 31_337 + i, rich=True)
        for i in range(count)
    ]


def scenes(count: int) -> list[np.ndarray]:
    brands = sorted(p.name for p in BRANDS.iterdir() if p.is_dir())
    return [
        scene_photo(load_mark(BRANDS / brands[i % len(brands)] / "logo.png"), np.random.default_rng(61_000 + i))[0]
        for i in range(count)
    ]


def demo_index(path: Path, embedder: Embedder, config: ScannerConfig) -> None:
    with BrandIndex.create(path, embedder.sha256, embedder.dim) as index:
        build_index(BRANDS, index, embedder, config.locate)


def pad_index(path: Path, size: int, dim: int) -> None:
    """Add random references (one placeholder brand per 4) until the index holds `size` references."""
    with sqlite3.connect(path) as conn:
        have = conn.execute("select count(*) from refs").fetchone()[0]
        rng = np.random.default_rng(0)
        tiny = encode_png(np.zeros((4, 4, 3), np.uint8))
        for start in range(have, size, 50_000):
            n = min(50_000, size - start)
            vectors = rng.standard_normal((n, dim)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            brands = [f"pad{(start + i) // 4}" for i in range(n)]
            conn.executemany(
                "insert or ignore into brands (id, name, aliases) values (?, ?, '[]')",
                [(b, b) for b in dict.fromkeys(brands)],
            )
            conn.executemany(
                "insert into refs (brand_id, source, file_sha256, image, embedding, created_at) "
                "values (?, ?, '', ?, ?, '')",
                [
                    (b, f"pad:{start + i}", tiny, v.tobytes())
                    for i, (b, v) in enumerate(zip(brands, vectors, strict=True))
                ],
            )
        revision = int((conn.execute("select value from meta where key = 'revision'").fetchone() or ["0"])[0]) + 1
        conn.execute("insert or replace into meta (key, value) values ('revision', ?)", (str(revision),))


def scan_timings(db: Path, frames: list[np.ndarray], config: ScannerConfig) -> list[dict[str, float]]:
    """Each frame's timings_ms, after one warm-up scan that is not counted."""
    with Pipeline(config, db) as pipeline:
        pipeline.scan(frames[0])
        return [pipeline.scan(frame).timings_ms for frame in frames]


def bench_pipeline(db: Path, frames: list[np.ndarray], config: ScannerConfig) -> dict[str, tuple[float, float]]:
    timings: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for scan in scan_timings(db, frames, config):
        for stage, ms in scan.items():
            timings.setdefault(stage, []).append(ms)  # "search" only for frames that took scene search
    row: dict = {stage: percentiles(values) for stage, values in timings.items() if values}
    row["searched_frames"] = len(timings.get("search", []))  # frames whose located box matched nothing
    return row


def bench_scene_search(db: Path, frames: list[np.ndarray], config: ScannerConfig) -> dict:
    """Search and end-to-end times of the frames that took scene search, and how many did."""
    searched = [scan for scan in scan_timings(db, frames, config) if "search" in scan]
    row: dict = {"frames": len(frames), "searched": len(searched)}
    if searched:
        row.update({stage: percentiles([scan[stage] for scan in searched]) for stage in ("search", "total")})
    return row


def timed(call: Callable[[], object], runs: int) -> tuple[float, float]:
    """(p50, p95) milliseconds of `runs` calls."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return percentiles(times)


def bench_embedder(model: Path, runtime: str, threads: int, runs: int) -> tuple[float, float]:
    embedder = Embedder(model, threads, runtime)
    crop = np.random.default_rng(0).integers(0, 256, (224, 224, 3), dtype=np.uint8)
    return timed(lambda: embedder.embed(crop), runs)


def bench_verifier(model: Path, runtime: str, threads: int, runs: int) -> tuple[float, float]:
    verifier = PairVerifier(model, threads, runtime)
    rng = np.random.default_rng(0)
    aligned, reference = (rng.integers(0, 256, (128, 128, 3), dtype=np.uint8) for _ in range(2))
    return timed(lambda: verifier.score(aligned, reference), runs)


def compare_models(title: str, bench, models: dict[str, Path], runtimes: list[str], threads_list: list[int]) -> dict:  # type: ignore[no-untyped-def]
    """int8 against float32 for one model, side by side in the same run; prints rows, returns the numbers."""
    print(f"\n{title} alone, 500 runs, ms p50 / p95")
    results = {}
    for runtime in runtimes:
        for threads in threads_list:
            row = {name: bench(path, runtime, threads, 500) for name, path in models.items()}
            results[f"{runtime}/{threads}"] = row
            cells = "  ".join(f"{name} {p50:6.2f} /{p95:6.2f}" for name, (p50, p95) in row.items())
            ratio = f"  float32/int8 = {row['float32'][0] / row['int8'][0]:.2f}x" if "float32" in row else ""
            print(f"{runtime:<8}{threads:>4}  {cells}{ratio}")
    return results


def startup(db: Path, photo: Path, model: str) -> dict[str, float]:
    """A fresh process: imports, model, index (and its search graph), first verdict. Its memory is VmHWM, its
    own high-water mark (ru_maxrss would include this benchmark's memory, carried over by fork and exec)."""
    code = (
        "import resource, sys, time; start = time.perf_counter(); from scanner.cli import main; "
        "sys.argv = ['scanner', '--model', sys.argv[1], 'scan', '--json', '--no-record', '--db', sys.argv[2], "
        "sys.argv[3]]\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
        "print('STARTUP', time.perf_counter() - start, hwm)"
    )
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code, model, str(db), str(photo)], capture_output=True, text=True, check=True, cwd=ROOT
    )
    wall = time.perf_counter() - start
    line = next(line for line in out.stdout.splitlines() if line.startswith("STARTUP"))
    _, inner, rss = line.split()
    return {"exec_to_verdict_s": wall, "in_process_s": float(inner), "peak_rss_mb": int(rss) / 1024}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--runtimes", nargs="+", default=available_runtimes()[:1])
    parser.add_argument("--index-sizes", type=int, nargs="*", default=[1_000_000])
    parser.add_argument("--model", type=Path, default=Path(ScannerConfig().model.path))
    parser.add_argument("--float-model", type=Path, help="float32 export of --model, for the int8 ratio")
    parser.add_argument("--verifier", type=Path, default=Path(ScannerConfig().verify.model))
    parser.add_argument("--float-verifier", type=Path, help="float32 export of --verifier, for the int8 ratio")
    parser.add_argument(
        "--search-breadth", type=int, default=ScannerConfig().match.search_breadth, help="[match] search_breadth"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    base = ScannerConfig()
    base = replace(
        base,
        model=replace(base.model, path=str(args.model)),
        verify=replace(base.verify, model=str(args.verifier)),
        match=replace(base.match, search_breadth=args.search_breadth),
    )
    frames = photos(args.photos)
    scene_frames = scenes(max(2, args.photos // 4))
    results: dict = {
        "photos": len(frames),
        "search_breadth": args.search_breadth,
        "model": args.model.name,
        "verifier": args.verifier.name,
        "pipeline": {},
        "index": {},
        "scene_search": {},
    }
    with tempfile.TemporaryDirectory(dir=ROOT / "build" if (ROOT / "build").is_dir() else None) as tmp:
        db = Path(tmp) / "brands.db"
        embedder = Embedder(args.model)
        demo_index(db, embedder, base)
        print(
            f"pipeline on {len(frames)} photos (640x480), {args.model.name}, search breadth {args.search_breadth}, "
            "ms p50 / p95"
        )
        print(f"{'runtime':<8}{'thr':>4}{'refs':>9}" + "".join(f"{s:>16}" for s in STAGES))
        sizes = [BrandIndex.open(db, embedder.sha256).info()["references"], *args.index_sizes]
        for size in sizes:
            pad_index(db, size, embedder.dim)
            for runtime in args.runtimes:
                for threads in args.threads:
                    config = replace(base, model=replace(base.model, runtime=runtime, threads=threads))
                    row = bench_pipeline(db, frames, config)
                    results["pipeline"][f"{runtime}/{threads}/{size}"] = row
                    cells = "".join(
                        f"{row[s][0]:>8.2f} /{row[s][1]:>6.2f}" if s in row else f"{'-':>16}" for s in STAGES
                    )
                    searched = f"  ({row['searched_frames']} took scene search)" if row["searched_frames"] else ""
                    print(f"{runtime:<8}{threads:>4}{size:>9}{cells}{searched}", flush=True)
                    results["scene_search"][f"{runtime}/{threads}/{size}"] = bench_scene_search(
                        db, scene_frames, config
                    )
            photo = Path(tmp) / "photo.jpg"
            cv2.imwrite(str(photo), frames[0])
            results["index"][size] = startup(db, photo, str(args.model))  # graph already built by the runs above
        print("\nscene search: whole-scene photos whose located box matched nothing, ms p50 / p95")
        for key, row in results["scene_search"].items():
            runtime, threads, size = key.split("/")
            cells = (
                f"search {row['search'][0]:7.2f} /{row['search'][1]:7.2f}   total {row['total'][0]:7.2f} /"
                f"{row['total'][1]:7.2f}"
                if row["searched"]
                else "no frame took scene search"
            )
            print(f"{runtime:<8}{threads:>4}{size:>9}  {row['searched']:>3} of {row['frames']} frames   {cells}")
        print("\nstart-up (fresh process to first verdict) and peak memory, by index size")
        for size, row in results["index"].items():
            print(
                f"{size:>9} refs: {row['exec_to_verdict_s']:.2f} s exec to verdict ({row['in_process_s']:.2f} s "
                f"after interpreter start), peak RSS {row['peak_rss_mb']:.0f} MB"
            )

    embedders = {"int8": args.model, **({"float32": args.float_model} if args.float_model else {})}
    results["embedder"] = compare_models("embedder", bench_embedder, embedders, args.runtimes, args.threads)
    verifiers = {"int8": args.verifier, **({"float32": args.float_verifier} if args.float_verifier else {})}
    results["verifier"] = compare_models("pair verifier", bench_verifier, verifiers, args.runtimes, args.threads)
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
