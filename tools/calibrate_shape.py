"""Choose how a frame no brand matches by similarity can still be named, on the calibration split:
[match] shape_inliers (local features shared with a brand's reference in one arrangement) or, with
`--by alignment`, [match] align_correlation (edge correlation with the reference once aligned by the
refined homography), or with `--by near`, [match] near_correlation (the edge correlation short of that at
which a window as similar as a located box must be is verified as a near copy of its brand).

    python tools/calibrate_shape.py --set build/heldout-cal --db build/ho_cal_ev2.db [--margin 2.0] \
        [--by shape|alignment|near] [--set build/heldout-unknowns ...]

Every photo is scanned with that way of naming accepting anything (shape: one shared feature; alignment:
any correlation), which names each photo that nothing before it named and records what it measured. Among
those, the unknown-brand ones say how far an unrelated mark reaches its nearest brand's reference by chance
(the most of any of them, over every window looked at). The threshold leaves `--margin` for the test split
and real photos, which hold more marks and more windows than this split, and chance grows with them: shape
takes `--margin` times the most features; alignment, whose correlation stops at 1, divides the distance
from the highest chance correlation to 1 by `--margin`. Near copies are measured only where naming by
outline did not name the frame, at the similarity a located box is named at, and so on more unrelated marks
than one split holds: give the unknowns split too (a second `--set`); the threshold is the highest chance
correlation rounded up to 0.01, with no margin (it must stay under align_correlation, and the near copies it
names are `suspect` only where the verifier flags them, never passed). Prints that, the enrolled-brand photos
the threshold would name (and whether as their own brand), and the line to put in scanner.toml.
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
from scanner.naming import NEAR_COPY, NEAR_NOT_NAMED  # noqa: E402
from scanner.pipeline import Pipeline  # noqa: E402
from scanner.result import ScanResult  # noqa: E402

# Settings every measured frame reaches, so each is named and says by how much.
ACCEPT_ANY = {
    "shape": {"shape_inliers": 1},
    "alignment": {"align_correlation": 1e-9},
    "near": {"near_correlation": 1e-9},
}
MEASURED = {"shape": "shape_inliers", "alignment": "align_correlation", "near": "near_correlation"}


def _measure(result: ScanResult, by: str) -> float | None:
    if by == "shape":
        return result.shape_inliers
    if by == "alignment":
        return result.align_correlation
    # A near copy's correlation counts only where the frame reached that check (its reasons say so).
    near = any(r.startswith(NEAR_COPY) or r.endswith(NEAR_NOT_NAMED) for r in result.reasons)
    return result.align_correlation if near else None


def unmatched_frames(eval_set: Path, db: Path, config: ScannerConfig, by: str = "shape") -> list[tuple]:
    """(file, expected verdict, named as its labelled brand, measure) of each photo that `by` measured: the
    frames no brand matched by similarity (and, for alignment, that shape did not name; for near, that
    nothing named, whose nearest window is as similar as a located box must be)."""
    measuring = replace(config, match=replace(config.match, **ACCEPT_ANY[by]))
    rows = []
    with Pipeline(measuring, db) as pipeline, (eval_set / "labels.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            _, result = pipeline.scan_file(eval_set / row["file"])
            measure = _measure(result, by)
            if measure is not None:
                own = bool(row["brand"]) and result.brand == row["brand"]
                rows.append((f"{eval_set.name}/{row['file']}", row["expected"], own, measure))
    return rows


def threshold_over(chance: float, by: str, margin: float) -> float:
    if by == "shape":
        return math.ceil(margin * chance)
    if by == "near":
        return math.floor(chance * 100 + 1) / 100  # the next 0.01 over it
    return round(1 - (1 - chance) / margin, 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", dest="eval_sets", type=Path, action="append", required=True)
    parser.add_argument("--db", type=Path, required=True, help="the set's brand index (scanner index build)")
    parser.add_argument("--margin", type=float, default=2.0)
    parser.add_argument("--by", choices=sorted(MEASURED), default="shape")
    args = parser.parse_args(argv)

    rows = [row for eval_set in args.eval_sets for row in unmatched_frames(eval_set, args.db, ScannerConfig(), args.by)]
    sets = " + ".join(str(eval_set) for eval_set in args.eval_sets)
    chance = [measure for _, expected, _, measure in rows if expected == "unknown"]
    if not chance:
        print(f"{sets}: no unknown-brand photo came out unknown; nothing to calibrate on", file=sys.stderr)
        return 1
    threshold = threshold_over(max(chance), args.by, args.margin)
    what = "features shared with" if args.by == "shape" else "edge correlation with"
    print(f"{sets}: {len(rows)} photos measured {args.by}, {len(chance)} of unknown brands")
    print(f"unknown-brand photos: at most {max(chance):g} {what} the nearest brand's reference")
    named = [(f, expected, own) for f, expected, own, value in rows if value >= threshold and expected != "unknown"]
    for file, expected, own in named:
        print(f"  named at {threshold}: {file} (expected {expected}, {'its own brand' if own else 'another brand'})")
    print(f"{len(named)} enrolled-brand photos named, {sum(1 for *_, own in named if own)} as their own brand")
    print(f"\n[match]\n{MEASURED[args.by]} = {threshold}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
