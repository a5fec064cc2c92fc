"""Would per-brand verifier thresholds beat the global one? Measured where a brand has genuine photos enrolled.

    python tools/per_brand_thresholds.py --set build/heldout-cal --db build/heldout-cal-multi.db [--flag 0.03]

DB is an index of the set's brands with photos enrolled beside the artwork (`scanner index build
SET/refs --db DB`, then `python tools/enrol_photos.py SET/refs --db DB --per-brand 2`). Each enrolled photo
is verified against its brand's artwork; m_b is the lowest score of brand b's photos, the genuine
evidence a per-brand threshold could use. Then the set's photos are scanned and, among those verified
against their own brand, three rules are compared at the same share of genuine photos flagged (`--flag`):
- global: one threshold T for every brand (what the scanner does);
- lowered: min(T, k * m_b), so a brand whose genuine goods score low against its artwork is flagged less;
- raised: max(T, k * m_b), so a brand whose genuine goods score high is held to more.
For each rule and k, the best counterfeit detection with at most `--flag` of genuine photos flagged.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from calibrate_threshold import scan_rows, verified_as_labelled  # noqa: E402

from scanner.config import ScannerConfig  # noqa: E402
from scanner.pipeline import Pipeline  # noqa: E402
from scanner.verify import verify  # noqa: E402

THRESHOLDS = np.linspace(0.05, 0.9, 86)
FACTORS = (0.25, 0.5, 0.75, 1.0, 1.5)
Scored = list[tuple[str, float]]  # (brand, authenticity)


def enrolled_photo_minimum(pipeline: Pipeline) -> dict[str, float]:
    """m_b: each brand's lowest verifier score of its enrolled photos (references without a mark mask)."""
    lowest: dict[str, float] = {}
    rows = pipeline.index.db.execute("select id, brand_id from refs where mask is null").fetchall()
    for reference_id, brand in rows:
        photo = pipeline.index.reference(reference_id)
        artwork = pipeline.index.verification_reference(brand, reference_id)
        # Only the score is read: threshold 0 leaves every mark unworded (no rule measurements, no mirror
        # alignment), which changes nothing in it.
        score = verify(photo.crop, artwork, pipeline.verify_size, pipeline.verifier, threshold=0.0).authenticity
        lowest[brand] = min(score, lowest.get(brand, 1.0))
    return lowest


def verified_scores(pipeline: Pipeline, eval_set: Path) -> tuple[Scored, Scored]:
    """(genuine, counterfeit) photos verified against their own brand."""
    genuine, counterfeit = [], []
    for row, result in scan_rows(pipeline, eval_set, ("pass", "suspect")):
        if verified_as_labelled(row, result):
            assert result.authenticity is not None
            (genuine if row["expected"] == "pass" else counterfeit).append((row["brand"], result.authenticity))
    return genuine, counterfeit


def best_detection(
    genuine: Scored, counterfeit: Scored, rule: Callable[[str, float], float], flag: float
) -> tuple[float, float, float] | None:
    """(detected, flagged, T) of the global part T that detects most with at most `flag` of genuine flagged;
    None when every T on the grid flags more."""
    best = None
    for total in THRESHOLDS:
        flagged = float(np.mean([a < rule(b, total) for b, a in genuine]))
        detected = float(np.mean([a < rule(b, total) for b, a in counterfeit]))
        if flagged <= flag and (best is None or detected > best[0]):
            best = (detected, flagged, float(total))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", dest="eval_set", type=Path, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--flag", type=float, default=0.03)
    args = parser.parse_args(argv)

    config = ScannerConfig()
    with Pipeline(config, args.db) as pipeline:
        if pipeline.verifier is None:
            print("needs the learned verifier ([verify] model)", file=sys.stderr)
            return 1
        lowest = enrolled_photo_minimum(pipeline)
        if not lowest:
            print(f"{args.db}: no enrolled photos (tools/enrol_photos.py)", file=sys.stderr)
            return 1
        genuine, counterfeit = verified_scores(pipeline, args.eval_set)
    p10, p50, p90 = np.percentile(list(lowest.values()), [10, 50, 90])
    print(f"{len(lowest)} brands with enrolled photos; m_b p10 / p50 / p90 = {p10:.2f} / {p50:.2f} / {p90:.2f}")
    print(f"{len(genuine)} genuine and {len(counterfeit)} counterfeit photos verified against their own brand")
    print(f"{'rule':<18} {'detected':>9} {'flagged':>8} {'T':>6}")
    rows = [("global", lambda b, t: t)]
    for k in FACTORS:
        rows.append((f"lowered k={k}", lambda b, t, k=k: min(t, k * lowest.get(b, 1.0))))
        rows.append((f"raised k={k}", lambda b, t, k=k: max(t, k * lowest.get(b, 0.0))))
    for name, rule in rows:
        best = best_detection(genuine, counterfeit, rule, args.flag)
        if best is None:
            print(f"{name:<18} flags more than {args.flag:.0%} of genuine photos at every T")
        else:
            print(f"{name:<18} {best[0]:>9.1%} {best[1]:>8.1%} {best[2]:>6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
