"""Latency benchmark: per-stage and end-to-end p50/p95 of the scan pipeline, per runtime and thread count,
and the int8 embedder against its float32 export side by side. Prints tables; --json writes the numbers.

    python tools/bench.py --db out/demo_index.db [--photos samples/photos] [--repeat 20] [--threads 1 2]
                          [--float-model build/embedder_v0_float32.tflite] [--json bench.json]

Frames are the genuine sample photos (640x480), so every stage runs. The first scan of each
configuration is a warm-up and not counted. Numbers are for this machine; tests never assert them.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scanner.config import ScannerConfig  # noqa: E402
from scanner.embed import Embedder  # noqa: E402
from scanner.imageio import read_image  # noqa: E402
from scanner.pipeline import Pipeline  # noqa: E402
from scanner.runtime import available_runtimes  # noqa: E402

STAGES = ["quality", "locate", "embed", "match", "verify", "total"]


def percentiles(values: list[float]) -> tuple[float, float]:
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


def bench_pipeline(db: Path, frames: list[np.ndarray], runtime: str, threads: int, repeat: int) -> dict:
    base = ScannerConfig()
    config = replace(base, model=replace(base.model, runtime=runtime, threads=threads))
    timings: dict[str, list[float]] = {stage: [] for stage in STAGES}
    with Pipeline(config, db) as pipeline:
        pipeline.scan(frames[0])  # warm-up: first invoke allocates, index matrix loads
        for _ in range(repeat):
            for frame in frames:
                for stage, ms in pipeline.scan(frame).timings_ms.items():
                    timings[stage].append(ms)
    return {stage: percentiles(values) for stage, values in timings.items() if values}


def bench_embedder(model: Path, runtime: str, threads: int, repeat: int) -> tuple[float, float]:
    embedder = Embedder(model, threads, runtime)
    crop = np.random.default_rng(0).integers(0, 256, (embedder.input_size, embedder.input_size, 3), dtype=np.uint8)
    embedder.embed(crop)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        embedder.embed(crop)
        times.append((time.perf_counter() - start) * 1000)
    return percentiles(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True, help="brand index to match against")
    parser.add_argument("--photos", type=Path, default=ROOT / "samples" / "photos")
    parser.add_argument("--repeat", type=int, default=20, help="passes over the photos per configuration")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--runtimes", nargs="+", default=available_runtimes())
    parser.add_argument("--float-model", type=Path, help="float32 export of the embedder, for the int8 ratio")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args(argv)

    frames = [read_image(p) for p in sorted(args.photos.glob("genuine_*.jpg"))]
    if not frames:
        raise SystemExit(f"no genuine_*.jpg photos in {args.photos}")
    results: dict = {"frames": len(frames) * args.repeat, "pipeline": {}, "embedder": {}}
    print(f"pipeline, {len(frames)} photos x {args.repeat} passes, ms p50 / p95")
    print(f"{'runtime':<8}{'thr':>4}" + "".join(f"{s:>16}" for s in STAGES))
    for runtime in args.runtimes:
        for threads in args.threads:
            row = bench_pipeline(args.db, frames, runtime, threads, args.repeat)
            results["pipeline"][f"{runtime}/{threads}"] = row
            cells = "".join(f"{row[s][0]:>8.2f} /{row[s][1]:>6.2f}" if s in row else f"{'-':>16}" for s in STAGES)
            print(f"{runtime:<8}{threads:>4}{cells}")

    models = {"int8": Path(ScannerConfig().model.path)}
    if args.float_model:
        models["float32"] = args.float_model
    print(f"\nembedder alone, {args.repeat * 10} runs, ms p50 / p95")
    for runtime in args.runtimes:
        for threads in args.threads:
            row = {name: bench_embedder(path, runtime, threads, args.repeat * 10) for name, path in models.items()}
            results["embedder"][f"{runtime}/{threads}"] = row
            cells = "  ".join(f"{name} {p50:6.2f} /{p95:6.2f}" for name, (p50, p95) in row.items())
            ratio = f"  float32/int8 = {row['float32'][0] / row['int8'][0]:.2f}x" if "float32" in row else ""
            print(f"{runtime:<8}{threads:>4}  {cells}{ratio}")

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results["peak_rss_mb"] = peak_mb
    print(f"\npeak RSS {peak_mb:.0f} MB (whole benchmark process)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
