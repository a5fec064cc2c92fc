"""Choose [match] shape_inliers on the calibration split: how many local features a frame must share with a
brand's reference to be named by shape when no brand matches it by similarity.

    python tools/calibrate_shape.py --set build/heldout-cal --db build/ho_cal_ev2.db [--margin 2.0]

Every photo is scanned with shape naming accepting any shared feature, which names each photo that no
brand matched by similarity and records how many features it took. Among those, the unknown-brand ones
say how many features an unrelated mark shares with its nearest brand's reference by chance (the most of
any of them, over every window scene search looked at); the threshold is `--margin` times that most,
because the test split and real photos hold more marks and more windows than this split, and chance
matches grow with them. Prints that, the enrolled-brand photos the threshold would name (and whether as
their own brand), and the line to put in scanner.toml.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scanner.config import ScannerConfig  # noqa: E402
from scanner.pipeline import Pipeline  # noqa: E402

ALWAYS = 1  # a shape_inliers every frame with one shared feature reaches: each is named, and says by what


def unmatched_frames(eval_set: Path, db: Path, config: ScannerConfig) -> list[tuple[str, str, bool, int]]:
    """(file, expected verdict, named as its labelled brand, shape inliers) of each photo that no brand
    matched by similarity: the scans that measured shape (ScanResult.shape_inliers)."""
    measuring = replace(config, match=replace(config.match, shape_inliers=ALWAYS))
    rows = []
    with Pipeline(measuring, db) as pipeline, (eval_set / "labels.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            _, result = pipeline.scan_file(eval_set / row["file"])
            if result.shape_inliers is not None:
                own = bool(row["brand"]) and result.brand == row["brand"]
                rows.append((row["file"], row["expected"], own, result.shape_inliers))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", dest="eval_set", type=Path, required=True)
    parser.add_argument("--db", type=Path, required=True, help="the set's brand index (scanner index build)")
    parser.add_argument("--margin", type=float, default=2.0)
    args = parser.parse_args(argv)

    rows = unmatched_frames(args.eval_set, args.db, ScannerConfig())
    chance = [inliers for _, expected, _, inliers in rows if expected == "unknown"]
    if not chance:
        print(f"{args.eval_set}: no unknown-brand photo came out unknown; nothing to calibrate on", file=sys.stderr)
        return 1
    threshold = math.ceil(args.margin * max(chance))
    print(f"{args.eval_set}: {len(rows)} photos no brand matched by similarity, {len(chance)} of unknown brands")
    print(f"unknown-brand photos: at most {max(chance)} features shared with the nearest brand's reference")
    named = [(f, expected, own) for f, expected, own, inliers in rows if inliers >= threshold and expected != "unknown"]
    for file, expected, own in named:
        print(f"  named at {threshold}: {file} (expected {expected}, {'its own brand' if own else 'another brand'})")
    print(f"{len(named)} enrolled-brand photos named, {sum(1 for *_, own in named if own)} as their own brand")
    print(f"\n[match]\nshape_inliers = {threshold}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
