"""Choose the authenticity verifier's operating point on the calibration split and record it beside the model.

    python tools/calibrate_verifier.py --model models/verifier_v2_int8.tflite --set build/heldout-cal \
        [--flag 0.03]

The set is one written by tools/make_heldout_set.py --split calibration (brands never trained on, each
enrolled from one artwork; genuine photos and counterfeits of every kind). Every photo is scanned with the
shipped embedder; among those recognised as their own brand and verified, the threshold is the
authenticity below which `--flag` of the genuine photos fall, so that share of genuine marks is flagged
`suspect`. The counterfeit detection it gives there, per kind, is printed. The result goes to `<model>.json`
(`suspect_threshold`), which the scanner reads unless [verify] suspect_threshold is set.

One global threshold: tools/per_brand_thresholds.py measures per-brand ones where genuine photos are
enrolled, and they did not beat it (models/README.md).
"""

from __future__ import annotations

import argparse
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--set", dest="eval_set", type=Path, required=True)
    parser.add_argument("--flag", type=float, default=0.03, help="share of genuine photos flagged")
    args = parser.parse_args(argv)

    config = ScannerConfig()
    config = replace(config, verify=replace(config.verify, model=str(args.model)))
    genuine: list[float] = []
    fakes: dict[str, list[float]] = defaultdict(list)
    for row, result in scan_set(config, args.eval_set, ("pass", "suspect")):
        if not verified_as_labelled(row, result):
            continue
        if row["expected"] == "pass":
            genuine.append(result.authenticity)
        else:
            fakes[row.get("kind") or "counterfeit"].append(result.authenticity)
    threshold = float(np.quantile(np.array(genuine), args.flag))
    every_fake = np.array([a for values in fakes.values() for a in values])
    detection = float((every_fake < threshold).mean())
    for kind, values in sorted(fakes.items()):
        print(f"  {kind:<16} {np.mean(np.array(values) < threshold):6.1%} of {len(values)}")
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
        f"genuine photos and detects {detection:.1%} of {len(every_fake)} verified counterfeits -> {path}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
