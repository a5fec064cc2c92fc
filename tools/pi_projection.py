"""Project the scanner's latency onto a Raspberry Pi 4 and Pi 5 from a reference model timed on both sides.

    python tools/pi_projection.py --bench build/bench.json [--json build/pi_projection.json]

Basis: published int8 TFLite timings of EfficientDet-Lite0 (320x320, CPU, XNNPACK) on the Pi: Pi 5 about
45 ms on one thread and 23 ms on four; Pi 4 about 198 ms and 78 ms (the figures quoted in issue #8). The
published .tflite cannot be downloaded here, so this tool rebuilds the same network (EfficientNet-Lite0
backbone, BiFPN of 3 cells x 64 channels over P3-P7, shared box and class heads of 3 separable convolutions,
9 anchors x 90 classes, ReLU6 throughout), converts it with the project's own recipe (litert-torch float
export, ai-edge-quantizer static int8; tools/export_embedder.py) and times it here with LiteRT on one
thread. Weights are random: int8 latency depends on shapes, not values. The ratio Pi / this machine for
that model is then applied to every stage of a tools/bench.py run (its JSON).

What the projection assumes, and so what it cannot promise: the OpenCV and numpy stages (quality, locate,
verify, match) slow down on the Pi's Cortex-A cores by the same factor as XNNPACK int8 convolutions. They
use NEON there and AVX-512 here; their true ratio may differ either way. Only the embedder can use more
than one thread, so the four-thread column scales the embed stage alone by the published 1->4 speed-up.
Measure on a Pi (`python tools/bench.py` runs there unchanged) before relying on these numbers.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

INPUT = 320
FPN_CHANNELS, FPN_CELLS, HEAD_REPEATS = 64, 3, 3
ANCHORS, CLASSES = 9, 90
# Published EfficientDet-Lite0 int8 latency in ms: {device: (1 thread, 4 threads)}.
PUBLISHED_MS = {"Pi 5": (45.0, 23.0), "Pi 4": (198.0, 78.0)}
STAGES = ["quality", "locate", "embed", "match", "verify", "total"]


def build_efficientdet_lite0():  # type: ignore[no-untyped-def]
    import torch
    from effnet_lite import EfficientNetLite0
    from torch import nn

    def separable(channels: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False),
            nn.Conv2d(channels, channels, 1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU6(),
        )

    class BiFPNCell(nn.Module):
        """Top-down then bottom-up fusion over five levels; fast normalised fusion with fixed weights."""

        def __init__(self) -> None:
            super().__init__()
            self.top_down = nn.ModuleList(separable(FPN_CHANNELS) for _ in range(4))
            self.bottom_up = nn.ModuleList(separable(FPN_CHANNELS) for _ in range(4))
            self.down = nn.MaxPool2d(3, stride=2, padding=1)

        @staticmethod
        def up(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
            return nn.functional.interpolate(x, size=like.shape[-2:], mode="nearest")  # P7 is 3x3, P6 5x5

        def forward(self, levels: list[torch.Tensor]) -> list[torch.Tensor]:
            td = [levels[-1]]
            for i in range(3, -1, -1):  # P6 .. P3
                td.insert(0, self.top_down[i](0.5 * levels[i] + 0.5 * self.up(td[0], levels[i])))
            out = [td[0]]
            for i in range(1, 5):  # P4 .. P7
                inputs = levels[i] + self.down(out[-1]) + (td[i] if i < 4 else 0)
                out.append(self.bottom_up[i - 1](inputs / 3.0))
            return out

    class Head(nn.Module):
        def __init__(self, outputs: int) -> None:
            super().__init__()
            self.tower = nn.Sequential(*(separable(FPN_CHANNELS) for _ in range(HEAD_REPEATS)))
            self.predict = nn.Sequential(
                nn.Conv2d(FPN_CHANNELS, FPN_CHANNELS, 3, padding=1, groups=FPN_CHANNELS, bias=False),
                nn.Conv2d(FPN_CHANNELS, outputs, 1),
            )

        def forward(self, level: torch.Tensor) -> torch.Tensor:
            return self.predict(self.tower(level)).permute(0, 2, 3, 1).reshape(1, -1, self.predict[1].out_channels)

    class EfficientDetLite0(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.backbone = EfficientNetLite0()
            # Lateral 1x1 projections of the backbone's stride 8/16/32 outputs (40, 112, 320 channels).
            self.lateral = nn.ModuleList(nn.Conv2d(c, FPN_CHANNELS, 1) for c in (40, 112, 320))
            self.pool = nn.MaxPool2d(3, stride=2, padding=1)
            self.cells = nn.ModuleList(BiFPNCell() for _ in range(FPN_CELLS))
            self.boxes, self.classes = Head(ANCHORS * 4), Head(ANCHORS * CLASSES)

        def forward(self, rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            b = self.backbone
            x = b.act(b._bn0(b._conv_stem((rgb - 127.0) / 128.0)))
            taps = []
            for i, block in enumerate(b._blocks):
                x = block(x)
                if i in (4, 10, 15):  # last block of the stride-8, stride-16 and stride-32 stages
                    taps.append(x)
            levels = [lateral(t) for lateral, t in zip(self.lateral, taps, strict=True)]
            levels.append(self.pool(levels[-1]))
            levels.append(self.pool(levels[-1]))
            for cell in self.cells:
                levels = cell(levels)
            boxes = torch.cat([self.boxes(level) for level in levels], dim=1)
            scores = torch.cat([self.classes(level) for level in levels], dim=1)
            return boxes, torch.sigmoid(scores)

    model = EfficientDetLite0().eval()
    del model.backbone._conv_head, model.backbone._bn1, model.backbone._fc  # the detector does not use them
    return model


def export_int8(out_dir: Path) -> Path:
    from export_embedder import quantize, to_float_tflite

    float_path, int8_path = out_dir / "efficientdet_lite0_float32.tflite", out_dir / "efficientdet_lite0_int8.tflite"
    to_float_tflite(build_efficientdet_lite0(), (1, INPUT, INPUT, 3), float_path)
    rng = np.random.default_rng(0)
    images = [rng.uniform(0, 255, (1, INPUT, INPUT, 3)).astype(np.float32) for _ in range(16)]
    quantize(float_path, int8_path, images)
    return int8_path


def time_model(path: Path, threads: int, runs: int) -> float:
    """Median milliseconds per invocation, after warm-up."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=threads)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    frame = np.random.default_rng(1).integers(-128, 127, detail["shape"], dtype=np.int8).astype(detail["dtype"])
    times = []
    for _ in range(runs + 5):
        interpreter.set_tensor(detail["index"], frame)
        start = time.perf_counter()
        interpreter.invoke()
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times[5:]))


def project(bench: dict, reference_ms: float) -> dict:
    """{config: {stage: {"here": (p50, p95), device: {"1": (p50, p95), "4": (p50, p95)}}}}."""
    projection = {}
    for config, stages in bench["pipeline"].items():
        if not config.split("/")[1] == "1":  # one-thread runs only: the per-core basis
            continue
        rows = {}
        embed_saving = {}
        for device, (one, four) in PUBLISHED_MS.items():
            # Four threads speed up the embed stage only; what that saves comes off the total.
            embed_saving[device] = [value * one / reference_ms * (1 - four / one) for value in stages["embed"]]
        for stage in STAGES:
            here = stages[stage]
            row: dict = {"here": here}
            for device, (one, four) in PUBLISHED_MS.items():
                single = [value * one / reference_ms for value in here]
                if stage == "embed":
                    multi = [value * four / reference_ms for value in here]
                elif stage == "total":
                    multi = [s - saved for s, saved in zip(single, embed_saving[device], strict=True)]
                else:
                    multi = single
                row[device] = {"1": single, "4": multi}
            rows[stage] = row
        projection[config] = rows
    return projection


def print_table(projection: dict, reference_ms: float) -> None:
    devices = list(PUBLISHED_MS)
    print(
        f"EfficientDet-Lite0 int8, one thread: {reference_ms:.2f} ms here; "
        + ", ".join(f"{d} {PUBLISHED_MS[d][0]:.0f} ms (x{PUBLISHED_MS[d][0] / reference_ms:.1f})" for d in devices)
    )
    for config, rows in projection.items():
        print(f"\n{config.split('/')[2]} references: p50 / p95 ms")
        header = ["stage", "here (1 thread)"] + [
            f"{d}, {t} thread{'s' if t == '4' else ''}" for d in devices for t in ("1", "4")
        ]
        print(" | ".join(header))
        for stage, row in rows.items():
            cells = [stage, "{:.1f} / {:.1f}".format(*row["here"])]
            cells += ["{:.0f} / {:.0f}".format(*row[d][t]) for d in devices for t in ("1", "4")]
            print(" | ".join(cells))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", type=Path, required=True, help="JSON written by tools/bench.py --json")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument(
        "--reference-ms", type=float, help="EfficientDet-Lite0 time measured earlier here (skips the rebuild)"
    )
    parser.add_argument("--json", type=Path, help="write the reference timing and projection here")
    args = parser.parse_args(argv)

    bench = json.loads(args.bench.read_text())
    reference_ms, size_mb = args.reference_ms, None
    if reference_ms is None:
        with tempfile.TemporaryDirectory() as tmp:
            model = export_int8(Path(tmp))
            reference_ms = time_model(model, threads=1, runs=args.runs)
            size_mb = model.stat().st_size / 1e6
        print(f"rebuilt EfficientDet-Lite0: int8 .tflite {size_mb:.1f} MB", file=sys.stderr)
    projection = project(bench, reference_ms)
    print_table(projection, reference_ms)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "reference_ms": reference_ms,
                    "published_ms": PUBLISHED_MS,
                    "model_mb": size_mb,
                    "projection": projection,
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
