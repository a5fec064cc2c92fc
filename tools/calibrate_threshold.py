"""Choose a model's open-set threshold on the calibration split and record it beside the model.

    python tools/calibrate_threshold.py --model models/embedder_v1_int8.tflite --set build/heldout-cal \
        [--keep 0.98] [--photos-per-brand N]

The set is one written by tools/make_heldout_set.py (refs/ to enrol, labels.csv). The threshold is the
similarity that keeps `--keep` of the genuine photos of enrolled brands recognised (among those the
quality gate lets through); the share of unknown-brand photos it rejects is printed. The result goes to
`<model>.json` (`unknown_threshold`), which the scanner reads unless the config sets a threshold.

Scene search (the pipeline's fallback when the located box matches nothing) takes the best of about 30
windows, so an unknown brand gets that many chances: its own threshold, `search_threshold`, is the
similarity that `--search-reject` of the unknown-brand photos' best windows stay below (never below
`unknown_threshold`; rounded up). The default, 1.0, lets the search accept none of the calibration
split's unknown-brand photos: it may only add recognitions. The genuine photos it recovers are printed.
The search stops early at a window as close as the lower quartile of the split's genuine photos
(`search_stop`): recognised frames then pay for a few windows, not all.

A photo reference carries its background, so unrelated frames come closer to it than to artwork:
`--photos-per-brand N` enrols N synthetic photos per brand beside the artwork, calibrates the same way on
that index and records the result as `photo_unknown_threshold` and `photo_search_threshold`, which the
scanner applies to a match whose nearest reference is a photo.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import math
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from enrol_photos import PHOTO_SEED, enrol_synthetic_photos, name_brands  # noqa: E402

from scanner.config import ScannerConfig  # noqa: E402
from scanner.embed import Embedder, record_calibration  # noqa: E402
from scanner.enroll import build_index  # noqa: E402
from scanner.evaluate import item_files  # noqa: E402
from scanner.index import BrandIndex  # noqa: E402
from scanner.pipeline import Pipeline  # noqa: E402
from scanner.result import ScanResult  # noqa: E402


@contextlib.contextmanager
def set_pipeline(
    config: ScannerConfig, eval_set: Path, photos_per_brand: int = 0, artwork: bool = True
) -> Iterator[Pipeline]:
    """A pipeline over a temporary index built from the set's refs/ with the config's embedder, plus
    `photos_per_brand` synthetic photos of each brand enrolled beside its artwork (or, without `artwork`, in
    its place)."""
    embedder = Embedder(Path(config.model.path))
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "cal.db"
        with BrandIndex.create(db, embedder.sha256, embedder.dim) as index:
            if artwork:
                build_index(eval_set / "refs", index, embedder, config.locate)
            else:
                name_brands(index, eval_set / "refs")
            if photos_per_brand:
                enrol_synthetic_photos(index, embedder, eval_set / "refs", photos_per_brand, PHOTO_SEED)
        with Pipeline(config, db) as pipeline:
            yield pipeline


def scan_set(
    config: ScannerConfig,
    eval_set: Path,
    expected: tuple[str, ...],
    photos_per_brand: int = 0,
    artwork: bool = True,
    every_view: bool = False,
) -> Iterator[tuple[dict, ScanResult]]:
    """(labels row, scan result) for each photo of the set whose expected verdict is in `expected`, scanned
    against an index built from the set's refs/ (and photos, see set_pipeline) with the config's embedder;
    with `every_view`, also each of the row's other views (more_views), each scanned alone."""
    with set_pipeline(config, eval_set, photos_per_brand, artwork) as pipeline:
        yield from scan_rows(pipeline, eval_set, expected, every_view)


def scan_rows(
    pipeline: Pipeline, eval_set: Path, expected: tuple[str, ...], every_view: bool = False
) -> Iterator[tuple[dict, ScanResult]]:
    """(labels row, scan result) for each photo of the set whose expected verdict is in `expected` (and with
    `every_view` for each of its other views, scanned alone)."""
    with (eval_set / "labels.csv").open() as fh:
        for row in csv.DictReader(fh):
            if row["expected"] not in expected:
                continue
            for file in item_files(row) if every_view else [row["file"]]:
                yield row, pipeline.scan_file(eval_set / file)[1]


def verified_as_labelled(row: dict, result: ScanResult) -> bool:
    """Whether the verifier judged the photo against its own brand (else the miss is recognition's)."""
    return result.authenticity is not None and result.brand == row["brand"]


def search_outcomes(
    pipeline: Pipeline, eval_set: Path, threshold: float
) -> tuple[list[float], list[tuple[float, bool]]]:
    """Scene search on the photos the located box leaves below `threshold`: the best window's similarity for
    each unknown-brand photo, and (similarity, right brand) for each genuine one."""
    unknown, genuine = [], []
    with (eval_set / "labels.csv").open() as fh:
        for row in csv.DictReader(fh):
            if row["expected"] not in ("pass", "unknown"):
                continue
            frame, result = pipeline.scan_file(eval_set / row["file"])
            if frame is None or not result.candidates or result.candidates[0].similarity >= threshold:
                continue  # rescan, or recognised without searching
            found = pipeline.search_scene(frame)
            if row["expected"] == "unknown":
                unknown.append(found.similarity)
            else:
                genuine.append((found.similarity, found.candidates[0].brand_id == row["brand"]))
    return unknown, genuine


def choose_search_threshold(unknown_threshold: float, unknown_best_windows: list[float], reject: float) -> float:
    """The lowest 4-decimal similarity that `reject` of the unknown-brand photos' best windows stay strictly
    below; never below `unknown_threshold` (scene search must not be easier to pass than the located box)."""
    if not unknown_best_windows:
        return unknown_threshold
    quantile = float(np.quantile(np.array(unknown_best_windows), reject))
    threshold = round(math.floor(quantile * 10_000) / 10_000 + 0.0001, 4)
    if threshold <= quantile:  # floating-point: 0.6375 * 10_000 may floor to 6374
        threshold = round(threshold + 0.0001, 4)
    return max(unknown_threshold, threshold)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--set", dest="eval_set", type=Path, required=True)
    parser.add_argument("--keep", type=float, default=0.98)
    parser.add_argument(
        "--photos-per-brand",
        type=int,
        default=0,
        help="also enrol N synthetic photos per brand: the threshold for an index enrolled that way is printed "
        "as a [match] setting, and the model's own (artwork-only) threshold is left as it is",
    )
    parser.add_argument(
        "--search-reject",
        type=float,
        default=1.0,
        help="share of unknown-brand photos whose best scene-search window must stay below search_threshold",
    )
    args = parser.parse_args(argv)

    config = ScannerConfig()
    # The located box alone: the thresholds are chosen here, so no calibrated scene search (nor naming by
    # shape, which would replace the nearest brand of the frames these thresholds reject) may run yet.
    config = replace(
        config,
        model=replace(config.model, path=str(args.model)),
        locate=replace(config.locate, search=False),
        match=replace(config.match, shape_inliers=0),
    )
    genuine, unknown = [], []
    with set_pipeline(config, args.eval_set, args.photos_per_brand) as pipeline:
        for row, result in scan_rows(pipeline, args.eval_set, ("pass", "unknown")):
            if not result.candidates:
                continue  # rescan: never reached recognition
            nearest = result.candidates[0]
            if row["expected"] == "pass":
                genuine.append(nearest.similarity if nearest.brand_id == row["brand"] else -1.0)
            else:
                unknown.append(nearest.similarity)
        threshold = float(np.quantile(np.array(genuine), 1 - args.keep))
        search_unknown, search_genuine = search_outcomes(pipeline, args.eval_set, threshold)
    rejection = float((np.array(unknown) < threshold).mean())
    search_threshold = choose_search_threshold(threshold, search_unknown, args.search_reject)
    # Rejected by the located box and not accepted by the search (search_unknown: the photos the box rejected).
    search_rejection = (rejection * len(unknown) - sum(s >= search_threshold for s in search_unknown)) / len(unknown)
    recovered = sum(s >= search_threshold and right for s, right in search_genuine)
    summary = (
        f"keeps {args.keep:.0%} of {len(genuine)} genuine photos and rejects {rejection:.1%} of {len(unknown)} "
        f"unknown-brand photos\nsearch_threshold {search_threshold:.4f}: with scene search {search_rejection:.1%} "
        f"of the unknown-brand photos are still rejected, and {recovered} of the {len(search_genuine)} genuine "
        "photos below the threshold are recognised as their brand"
    )
    if args.photos_per_brand:
        # The thresholds for a match whose nearest reference is a photo (the pipeline's photo_* thresholds).
        path = record_calibration(
            args.model,
            {
                "photo_unknown_threshold": round(threshold, 4),
                "photo_search_threshold": search_threshold,
                "photo_calibrated_with": f"artwork + {args.photos_per_brand} photos per brand",
            },
        )
        print(
            f"{args.model.name}, artwork + {args.photos_per_brand} photos per brand: photo_unknown_threshold "
            f"{threshold:.4f} {summary} -> {path}"
        )
        return 0
    path = record_calibration(
        args.model,
        {
            "unknown_threshold": round(threshold, 4),
            "calibrated_on": str(args.eval_set.name),
            "genuine_kept": args.keep,
            "unknown_rejected_on_calibration": round(rejection, 4),
            "search_threshold": search_threshold,
            "search_stop": round(float(np.quantile([g for g in genuine if g >= 0], 0.25)), 4),
            "search_unknown_rejected": args.search_reject,
            "unknown_rejected_with_search_on_calibration": round(search_rejection, 4),
        },
    )
    print(f"{args.model.name}: unknown_threshold {threshold:.4f} {summary} -> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
