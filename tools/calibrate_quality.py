"""Choose the quality gate's thresholds on a calibration split: turn away degraded frames, keep usable ones.

    python tools/calibrate_quality.py --set build/heldout-cal [--recall 0.98]

The set is one written by tools/make_heldout_set.py (labels.csv: `rescan` rows are the degraded frames,
blur, dark or glare; every other row is a frame the scanner should judge). Each photo's quality metrics
are measured once (scanner/quality.py), then every combination of min_brightness, min_contrast and
min_sharpness on a grid is scored: the share of degraded frames turned away (rescan recall) and the share
of usable frames turned away. Among the settings whose recall is at least `--recall`, those turning away
the fewest usable frames tie; the one nearest the middle of the tie on every axis wins, so that each
threshold sits mid-way in the gap between degraded and usable frames rather than on a frame at its edge.
Prints the current settings' scores, the chosen ones and the [quality] lines to put in scanner.toml.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scanner.config import QualityConfig  # noqa: E402
from scanner.imageio import read_image  # noqa: E402
from scanner.quality import QualityReport, assess, gate_reasons  # noqa: E402

BRIGHTNESS = tuple(range(24, 62, 2))  # grey level of the brightest 1% (quality.exposure)
# From 10: sensor noise alone spans about 10 grey levels at analysis size, and the rule is there for frames
# with nothing in view (a blank wall), which the held-out splits do not hold.
CONTRAST = tuple(range(10, 32, 2))
SHARPNESS = tuple(round(0.45 + 0.01 * i, 2) for i in range(21))  # edge steepness (quality.sharpness)


@dataclass(frozen=True)
class Score:
    config: QualityConfig
    recall: float  # degraded frames turned away
    lost: float  # usable frames turned away


def measure(eval_set: Path, config: QualityConfig) -> tuple[list[QualityReport], list[QualityReport]]:
    """The gate's measurements of the set's (degraded, usable) frames, each frame read and measured once."""
    degraded, usable = [], []
    with open(eval_set / "labels.csv", newline="") as f:
        for row in csv.DictReader(f):
            report = assess(read_image(eval_set / row["file"]), config)
            (degraded if row["expected"] == "rescan" else usable).append(report)
    return degraded, usable


def turned_away(reports: list[QualityReport], config: QualityConfig) -> float:
    """Share of frames the gate with `config` rejects, judged on their measurements (no re-measuring)."""
    rejected = [bool(gate_reasons(report, config)) for report in reports]
    return float(np.mean(rejected)) if rejected else 0.0


def sweep(degraded: list[QualityReport], usable: list[QualityReport], base: QualityConfig) -> list[Score]:
    scores = []
    for brightness, contrast, sharpness in itertools.product(BRIGHTNESS, CONTRAST, SHARPNESS):
        config = replace(base, min_brightness=brightness, min_contrast=contrast, min_sharpness=sharpness)
        scores.append(Score(config, turned_away(degraded, config), turned_away(usable, config)))
    return scores


def choose(scores: list[Score], min_recall: float) -> Score | None:
    eligible = [s for s in scores if s.recall >= min_recall]
    if not eligible:
        return None
    fewest_lost = min(s.lost for s in eligible)
    tied = [s for s in eligible if s.lost == fewest_lost]
    middle = [float(np.median([_thresholds(s)[axis] for s in tied])) for axis in range(3)]
    steps = [BRIGHTNESS[1] - BRIGHTNESS[0], CONTRAST[1] - CONTRAST[0], SHARPNESS[1] - SHARPNESS[0]]
    distance = lambda s: sum(((v - m) / step) ** 2 for v, m, step in zip(_thresholds(s), middle, steps, strict=True))  # noqa: E731
    return min(tied, key=distance)


def _thresholds(score: Score) -> tuple[float, float, float]:
    c = score.config
    return c.min_brightness, c.min_contrast, c.min_sharpness


def _row(label: str, s: Score) -> str:
    c = s.config
    return (
        f"{label:<10} brightness {c.min_brightness:>4.0f}  contrast {c.min_contrast:>4.0f}  "
        f"sharpness {c.min_sharpness:>5.2f}   rescan recall {s.recall:6.1%}   usable turned away {s.lost:6.1%}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", dest="eval_set", type=Path, required=True)
    parser.add_argument("--recall", type=float, default=0.98, help="least share of degraded frames turned away")
    args = parser.parse_args(argv)

    base = QualityConfig()
    degraded, usable = measure(args.eval_set, base)
    if not degraded or not usable:
        print(f"{args.eval_set}: needs both degraded (rescan) and usable frames", file=sys.stderr)
        return 1
    print(f"{args.eval_set}: {len(degraded)} degraded frames, {len(usable)} usable")
    print(_row("current", Score(base, turned_away(degraded, base), turned_away(usable, base))))
    best = choose(sweep(degraded, usable, base), args.recall)
    if best is None:
        print(f"no setting on the grid turns away {args.recall:.0%} of degraded frames", file=sys.stderr)
        return 1
    print(_row("chosen", best))
    c = best.config
    print(f"\n[quality]\nmin_brightness = {c.min_brightness:.1f}\nmin_contrast = {c.min_contrast:.1f}")
    print(f"min_sharpness = {c.min_sharpness:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
