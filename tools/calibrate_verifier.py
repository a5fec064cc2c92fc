"""Choose the authenticity verifier's operating point on the calibration split and record it beside the model.

    python tools/calibrate_verifier.py --model models/verifier_v2_int8.tflite --set build/heldout-cal \
        [--flag 0.03]

The set is one written by tools/make_heldout_set.py --split calibration (brands never trained on, each
enrolled from one artwork; genuine photos and counterfeits of every kind). Every photo is scanned with the
shipped embedder; among those recognised as their own brand and verified, the threshold is the
authenticity below which `--flag` of the genuine photos fall, so that share of genuine marks is flagged
`suspect`. The counterfeit detection it gives there, per kind, is printed. The result goes to `<model>.json`
(`suspect_threshold`), which the scanner reads unless [verify] suspect_threshold is set.

It also prints the largest colour deviation (scanner/verify.py `colour_deviation`) of those genuine photos
and the bound COLOUR_MARGIN times it for [verify] colour_bound, and the largest stroke offset
(scanner/stroke.py) and STROKE_MARGIN times it for [verify] stroke_bound: past either bound a mark is
`suspect` whatever its score. The detection printed counts both checks, at the configured bounds.

One global threshold: tools/per_brand_thresholds.py measures per-brand ones where genuine photos are
enrolled, and they did not beat it (models/README.md).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from calibrate_threshold import scan_set, verified_as_labelled  # noqa: E402

from scanner.config import ScannerConfig  # noqa: E402
from scanner.embed import record_calibration  # noqa: E402

COLOUR_MARGIN = 1.5  # colour_bound over the largest colour deviation of a calibration genuine photo
# stroke_bound over the largest stroke offset of a calibration genuine photo: about halfway, on the calibration
# split, to the thicker-stroked counterfeits the score passes (1.04 px against 1.34).
STROKE_MARGIN = 1.2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--set", dest="eval_set", type=Path, required=True)
    parser.add_argument("--flag", type=float, default=0.03, help="share of genuine photos flagged")
    args = parser.parse_args(argv)

    config = ScannerConfig()
    checks = config.verify
    # The stroke offset is measured only where the check is on; off, it is measured without acting on it.
    measured = replace(checks, model=str(args.model), stroke_bound=checks.stroke_bound or math.inf)
    config = replace(config, verify=measured)
    genuine: list[float] = []
    largest = {"colour_bound": 0.0, "stroke_bound": 0.0}  # what each check measured on a genuine photo, at most
    fakes: dict[str, list[tuple[float, bool]]] = defaultdict(list)  # (authenticity, a check overruled it)
    for row, result in scan_set(config, args.eval_set, ("pass", "suspect")):
        if not verified_as_labelled(row, result):
            continue
        colour, stroke = result.colour_deviation, result.stroke_offset
        if row["expected"] == "pass":
            genuine.append(result.authenticity)
            largest["colour_bound"] = max(largest["colour_bound"], colour or 0.0)
            largest["stroke_bound"] = max(largest["stroke_bound"], stroke or 0.0)
        else:
            off_colour = bool(checks.colour_bound) and colour is not None and colour > checks.colour_bound
            thick = bool(checks.stroke_bound) and stroke is not None and stroke > checks.stroke_bound
            fakes[row.get("kind") or "counterfeit"].append((result.authenticity, off_colour or thick))
    threshold = float(np.quantile(np.array(genuine), args.flag))

    def detected(values: list[tuple[float, bool]]) -> float:
        return float(np.mean([authenticity < threshold or overruled for authenticity, overruled in values]))

    every_fake = [value for values in fakes.values() for value in values]
    detection = detected(every_fake)
    for kind, values in sorted(fakes.items()):
        print(f"  {kind:<16} {detected(values):6.1%} of {len(values)}")
    margins = {
        "colour_bound": (COLOUR_MARGIN, checks.colour_bound),
        "stroke_bound": (STROKE_MARGIN, checks.stroke_bound),
    }
    for key, (margin, configured) in margins.items():
        print(
            f"[verify] {key}: a verified genuine photo reached {largest[key]:.2f}, {margin:g} times that is "
            f"{margin * largest[key]:.2f} (configured: {configured:g})"
        )
    path = record_calibration(
        args.model,
        {
            "suspect_threshold": round(threshold, 4),
            "calibrated_on": str(args.eval_set.name),
            "genuine_flagged": args.flag,
            "counterfeits_detected_on_calibration": round(detection, 4),
        },
    )
    print(
        f"{args.model.name}: suspect_threshold {threshold:.4f} flags {args.flag:.0%} of {len(genuine)} verified "
        f"genuine photos and detects {detection:.1%} of {len(every_fake)} verified counterfeits (with colour_bound "
        f"{checks.colour_bound:g}, stroke_bound {checks.stroke_bound:g}) -> {path}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
