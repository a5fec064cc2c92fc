"""Choose how a frame no brand matches by similarity can still be named, on the calibration split:
[match] shape_inliers (local features shared with a brand's reference in one arrangement) or, with
`--by alignment`, [match] align_correlation (edge correlation with the reference once aligned by the
refined homography).

    python tools/calibrate_shape.py --set build/heldout-cal --db build/ho_cal_ev2.db [--margin 2.0] \
        [--by shape|alignment]

Every photo is scanned with that way of naming accepting anything (shape: one shared feature; alignment:
any correlation), which names each photo that nothing before it named and records what it measured. Among
those, the unknown-brand ones say how far an unrelated mark reaches its nearest brand's reference by chance
(the most of any of them, over every window looked at). The threshold leaves `--margin` for the test split
and real photos, which hold more marks and more windows than this split, and chance grows with them: shape
takes `--margin` times the most features; alignment, whose correlation stops at 1, divides the distance
from the highest chance correlation to 1 by `--margin`. Prints that, the enrolled-brand photos the
threshold would name (and whether as their own brand), and the line to put in scanner.toml.
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

# Settings every measured frame reaches, so each is named and says by how much.
ACCEPT_ANY = {"shape": {"shape_inliers": 1}, "alignment": {"align_correlation": 1e-9}}
MEASURED = {"shape": "shape_inliers", "alignment": "align_correlation"}


def unmatched_frames(eval_set: Path, db: Path, config: ScannerConfig, by: str = "shape") -> list[tuple]:
    """(file, expected verdict, named as its labelled brand, measure) of each photo that `by` measured: the
    frames no brand matched by similarity (and, for alignment, that shape did not name)."""
    measuring = replace(config, match=replace(config.match, **ACCEPT_ANY[by]))
    rows = []
    with Pipeline(measuring, db) as pipeline, (eval_set / "labels.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            _, result = pipeline.scan_file(eval_set / row["file"])
            measure = getattr(result, MEASURED[by])
            if measure is not None:
                own = bool(row["brand"]) and result.brand == row["brand"]
                rows.append((row["file"], row["expected"], own, measure))
    return rows


def threshold_over(chance: float, by: str, margin: float) -> float:
    if by == "shape":
        return math.ceil(margin * chance)
    return round(1 - (1 - chance) / margin, 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", dest="eval_set", type=Path, required=True)
    parser.add_argument("--db", type=Path, required=True, help="the set's brand index (scanner index build)")
    parser.add_argument("--margin", type=float, default=2.0)
    parser.add_argument("--by", choices=sorted(MEASURED), default="shape")
    args = parser.parse_args(argv)

    rows = unmatched_frames(args.eval_set, args.db, ScannerConfig(), args.by)
    chance = [measure for _, expected, _, measure in rows if expected == "unknown"]
    if not chance:
        print(f"{args.eval_set}: no unknown-brand photo came out unknown; nothing to calibrate on", file=sys.stderr)
        return 1
    threshold = threshold_over(max(chance), args.by, args.margin)
    what = "features shared with" if args.by == "shape" else "edge correlation with"
    print(f"{args.eval_set}: {len(rows)} photos measured {args.by}, {len(chance)} of unknown brands")
    print(f"unknown-brand photos: at most {max(chance):g} {what} the nearest brand's reference")
    named = [(f, expected, own) for f, expected, own, value in rows if value >= threshold and expected != "unknown"]
    for file, expected, own in named:
        print(f"  named at {threshold}: {file} (expected {expected}, {'its own brand' if own else 'another brand'})")
    print(f"{len(named)} enrolled-brand photos named, {sum(1 for *_, own in named if own)} as their own brand")
    print(f"\n[match]\n{MEASURED[args.by]} = {threshold}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
