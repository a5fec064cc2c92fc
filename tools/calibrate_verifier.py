"""Choose the authenticity verifier's operating point on the calibration split and record it beside the model.

    python tools/calibrate_verifier.py --model models/verifier_v6_int8.tflite --set build/heldout-cal \
        [--set build/heldout-cal-2v] [--flag 0.03]

A set is one written by tools/make_heldout_set.py --split calibration (brands never trained on, each
enrolled from one artwork; genuine photos and counterfeits of every kind). Every photo is scanned with the
shipped embedder, every view of a set made with --views scanned alone; `--set` given more than once pools
the sets' photos. Among those recognised as their own brand and verified, the threshold is the highest at
which at most `--flag` of the genuine photos score below it (`flagging_threshold`), so at most that share of
genuine marks is flagged `suspect`. The counterfeit detection it gives there, per kind, is printed. The
result goes to `<model>.json` (`suspect_threshold`), which the scanner reads unless [verify]
suspect_threshold is set.

Pool every calibration photo there is: 3% of one split's 300 genuine photos is 9 of them, and the 3% points
of three such samples of the same 100 brands (the split, and the first and second views of the two-view
split) lay at 0.4369, 0.3976 and 0.3305 for verifier v6 by the score alone. Pooled, the 890 photos put it at
0.3571: one genuine embossed view is flagged by the stroke check whatever its score, and counts against the
share (`flagging_threshold`).

It also prints, for each check beside the score (CHECKS: the colour deviation and the part colour of
scanner/colour.py, the stroke offset of scanner/stroke.py), the largest value those genuine photos reached
and its margin times it, for the check's [verify] bound: past a bound a mark is `suspect` whatever its
score. The detection printed counts the checks at the configured bounds.

With `--views-set` (a calibration split made with make_heldout_set.py --views 2) it chooses instead the
threshold for an item scanned from several views (scanner/views.py): the mean authenticity of the item's
views verified as its own brand, below which `--flag` of the genuine items fall. That goes to `<model>.json`
as `views_suspect_threshold`; `suspect_threshold` is left as it is.

    python tools/calibrate_verifier.py --model models/verifier_v6_int8.tflite --views-set build/heldout-cal-2v

With `--photo-references N` each brand of the set is enrolled from N generated genuine photos and no artwork,
as a brand is whose owner supplied no artwork, and the threshold chosen is `photo_suspect_threshold`: the
scanner judges a mark verified against a photo of genuine goods by it. A pair of two captures differs more
than a capture and its artwork, so it has its own operating point.

    python tools/calibrate_verifier.py --model models/verifier_v6_int8.tflite --set build/heldout-cal \
        --photo-references 1

One global threshold: tools/per_brand_thresholds.py measures per-brand ones where genuine photos are
enrolled, and they did not beat it (docs/model-history.md).
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from calibrate_threshold import scan_set, set_pipeline, verified_as_labelled  # noqa: E402

from scanner.config import ScannerConfig  # noqa: E402
from scanner.embed import record_calibration  # noqa: E402
from scanner.evaluate import item_files  # noqa: E402

# Each check beside the learned score: its [verify] bound, the scan result's field it measures, and the bound
# over the largest value a calibration genuine photo reached. The stroke's margin is about halfway, on the
# calibration split, to the thicker-stroked counterfeits the score passes (1.04 px against 1.34).
CHECKS = {
    "colour_bound": ("colour_deviation", 1.5),
    "stroke_bound": ("stroke_offset", 1.2),
    "part_colour_bound": ("part_colour", 1.5),
}
JUDGED = ("pass", "suspect")
Judged = tuple[float, bool]  # a verified mark: (authenticity, a check beside the score flagged it)


def caught(marks: list[Judged], threshold: float) -> float:
    """The share of `marks` flagged at `threshold`: scored under it, or flagged by a check whatever the score."""
    flagged = [score < threshold or checked for score, checked in marks]
    return float(np.mean(flagged)) if flagged else 0.0


def threshold_for(genuine: list[Judged], share: float) -> float:
    """flagging_threshold over genuine marks, those a check flagged counted against the share apart."""
    return flagging_threshold([score for score, checked in genuine if not checked], share, _by_check(genuine))


def _by_check(marks: list[Judged]) -> int:
    return sum(checked for _, checked in marks)


def flagging_threshold(scores: list[float], share: float, flagged_anyway: int = 0) -> float:
    """The highest threshold at which at most `share` of the genuine marks are flagged: those whose score is
    under it, and `flagged_anyway` more that a check beside the score flags whatever their score (they are
    not in `scores`). It is placed halfway between the highest score it flags and the lowest it passes. The
    int8 verifier's scores fall on a ladder of values about 0.02 apart near the threshold, and many photos share
    a rung: a threshold on a rung, rounded, could flag or pass the whole rung. Recorded to 4 decimals unless
    that would move a score across it."""
    ranked = sorted(scores)
    if not ranked:
        raise SystemExit("no genuine photo was verified as its own brand: nothing to calibrate on")
    flagged = max(0, math.floor(share * (len(ranked) + flagged_anyway) + 1e-9) - flagged_anyway)
    if flagged >= len(ranked):
        return ranked[-1] + 1e-3
    while flagged > 0 and ranked[flagged - 1] == ranked[flagged]:
        flagged -= 1  # a rung is flagged whole or not at all
    below = ranked[flagged - 1] if flagged else ranked[0] - 2e-3
    threshold = (below + ranked[flagged]) / 2
    rounded = round(threshold, 4)
    same = sum(s < rounded for s in ranked) == flagged
    return rounded if same else threshold


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    sets = parser.add_mutually_exclusive_group(required=True)
    sets.add_argument("--set", dest="eval_sets", type=Path, action="append", help="a calibration set (repeatable)")
    sets.add_argument("--views-set", type=Path, help="calibrate the several-views threshold on this set instead")
    parser.add_argument("--flag", type=float, default=0.03, help="share of genuine photos flagged")
    parser.add_argument(
        "--photo-references",
        type=int,
        default=0,
        metavar="N",
        help="enrol each brand of --set from N genuine photos and no artwork, and choose photo_suspect_threshold",
    )
    args = parser.parse_args(argv)
    if args.photo_references and not args.eval_sets:
        parser.error("--photo-references calibrates on a one-photo --set")
    if args.views_set is not None:
        return calibrate_views(args.model, args.views_set, args.flag)

    config = ScannerConfig()
    configured = {key: getattr(config.verify, key) for key in CHECKS}
    # A check is measured only where it is on; one that is off is measured here without acting on it.
    measured = replace(config.verify, model=str(args.model), **{k: v or math.inf for k, v in configured.items()})
    config = replace(config, verify=measured)
    genuine: list[Judged] = []
    largest = dict.fromkeys(CHECKS, 0.0)  # what each check measured on a genuine photo, at most
    fakes: dict[str, list[Judged]] = defaultdict(list)
    photos = args.photo_references
    scans = (
        scan for eval_set in args.eval_sets for scan in scan_set(config, eval_set, JUDGED, photos, not photos, True)
    )
    for row, result in scans:
        if not verified_as_labelled(row, result):
            continue
        # result.overruled: a check past its configured bound (an off one is measured past an infinite bound).
        judged = (result.authenticity, result.overruled)
        if row["expected"] == "pass":
            genuine.append(judged)
            largest = {key: max(largest[key], getattr(result, field) or 0.0) for key, (field, _) in CHECKS.items()}
        else:
            fakes[row.get("kind") or "counterfeit"].append(judged)
    threshold = threshold_for(genuine, args.flag)
    every_fake = [value for values in fakes.values() for value in values]
    detection = caught(every_fake, threshold)
    for kind, values in sorted(fakes.items()):
        print(f"  {kind:<16} {caught(values, threshold):6.1%} of {len(values)}")
    for key, (_, margin) in CHECKS.items() if not photos else ():
        print(
            f"[verify] {key}: a verified genuine photo reached {largest[key]:.2f}, {margin:g} times that is "
            f"{margin * largest[key]:.2f} (configured: {configured[key]:g})"
        )
    if photos:
        # Against a photo reference no check beside the score is measured: the threshold is all there is.
        recorded = {
            "photo_suspect_threshold": threshold,
            "photo_calibrated_with": f"{photos} genuine photo{'s' if photos > 1 else ''} per brand, no artwork",
            "photo_counterfeits_detected_on_calibration": round(detection, 4),
        }
    else:
        recorded = {
            "suspect_threshold": threshold,
            "calibrated_on": " + ".join(eval_set.name for eval_set in args.eval_sets),
            "genuine_flagged": args.flag,
            "counterfeits_detected_on_calibration": round(detection, 4),
        }
    path = record_calibration(args.model, recorded)
    checked = (
        "against photos: no check beside the score"
        if photos
        else "with " + ", ".join(f"{key} {value:g}" for key, value in configured.items())
    )
    print(
        f"{args.model.name}: {next(iter(recorded))} {threshold:.4f} flags {caught(genuine, threshold):.1%} "
        f"(at most {args.flag:.0%}; {_by_check(genuine)} by a check) of {len(genuine)} verified "
        f"genuine photos and detects {detection:.1%} of {len(every_fake)} verified counterfeits ({checked}) -> {path}"
    )
    return 0


def item_means(model: Path, eval_set: Path) -> Iterator[tuple[dict, float, bool]]:
    """(labels row, mean authenticity, every view overruled by a check) of each item of the set with two or more
    views verified as its own brand, scanned with the shipped config and `model`."""
    config = ScannerConfig()
    config = replace(config, verify=replace(config.verify, model=str(model)))
    with set_pipeline(config, eval_set) as pipeline, (eval_set / "labels.csv").open() as fh:
        for row in csv.DictReader(fh):
            files = item_files(row)
            if row["expected"] not in ("pass", "suspect") or len(files) < 2:
                continue
            voting = [r for r in (pipeline.scan_file(eval_set / f)[1] for f in files) if verified_as_labelled(row, r)]
            if len(voting) >= 2:
                mean = float(np.mean([r.authenticity for r in voting]))
                yield row, mean, all(r.overruled for r in voting)


def calibrate_views(model: Path, eval_set: Path, flag: float) -> int:
    genuine: list[Judged] = []  # (mean authenticity, a check flagged every view)
    fakes: list[Judged] = []
    for row, mean, overruled in item_means(model, eval_set):
        (genuine if row["expected"] == "pass" else fakes).append((mean, overruled))
    if not genuine:
        raise SystemExit(f"{eval_set} has no genuine item with two views verified: make it with --views 2")
    threshold = threshold_for(genuine, flag)
    detection = caught(fakes, threshold)
    path = record_calibration(
        model,
        {
            "views_suspect_threshold": threshold,
            "views_calibrated_on": str(eval_set.name),
            "views_counterfeits_detected_on_calibration": round(detection, 4),
        },
    )
    print(
        f"{model.name}: views_suspect_threshold {threshold:.4f} flags {caught(genuine, threshold):.1%} "
        f"(at most {flag:.0%}; {_by_check(genuine)} by a check) of {len(genuine)} genuine items "
        f"(mean authenticity of 2 or more verified views) and detects {detection:.1%} of {len(fakes)} such "
        f"counterfeit items -> {path}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
