"""Choose a model's open-set threshold on the calibration split and record it beside the model.

    python tools/calibrate_threshold.py --model models/embedder_v1_int8.tflite --set build/heldout-cal \
        [--keep 0.98] [--photos-per-brand N]

The set is one written by tools/make_heldout_set.py (refs/ to enrol, labels.csv). The threshold is the
similarity that keeps `--keep` of the genuine photos of enrolled brands recognised (among those the
quality gate lets through); the share of unknown-brand photos it rejects is printed. The result goes to
`<model>.json` (`unknown_threshold`), which the scanner reads unless the config sets a threshold.
An index with photos enrolled beside the artwork needs its own threshold (more references give an
unknown brand more to match): `--photos-per-brand N` enrols N synthetic photos per brand too and prints
the [match] setting for such an index instead.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from enrol_photos import PHOTO_SEED, enrol_synthetic_photos  # noqa: E402

from scanner.config import ScannerConfig  # noqa: E402
from scanner.embed import Embedder, record_calibration  # noqa: E402
from scanner.enroll import build_index  # noqa: E402
from scanner.index import BrandIndex  # noqa: E402
from scanner.pipeline import Pipeline, ScanResult  # noqa: E402


@contextlib.contextmanager
def set_pipeline(config: ScannerConfig, eval_set: Path, photos_per_brand: int = 0) -> Iterator[Pipeline]:
    """A pipeline over a temporary index built from the set's refs/ with the config's embedder, plus
    `photos_per_brand` synthetic photos of each brand enrolled beside its artwork."""
    embedder = Embedder(Path(config.model.path))
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "cal.db"
        with BrandIndex.create(db, embedder.sha256, embedder.dim) as index:
            build_index(eval_set / "refs", index, embedder, config.locate)
            if photos_per_brand:
                enrol_synthetic_photos(index, embedder, eval_set / "refs", photos_per_brand, PHOTO_SEED)
        with Pipeline(config, db) as pipeline:
            yield pipeline


def scan_set(
    config: ScannerConfig, eval_set: Path, expected: tuple[str, ...], photos_per_brand: int = 0
) -> Iterator[tuple[dict, ScanResult]]:
    """(labels row, scan result) for each photo of the set whose expected verdict is in `expected`, scanned
    against an index built from the set's refs/ (and photos, see set_pipeline) with the config's embedder."""
    with set_pipeline(config, eval_set, photos_per_brand) as pipeline:
        yield from scan_rows(pipeline, eval_set, expected)


def scan_rows(pipeline: Pipeline, eval_set: Path, expected: tuple[str, ...]) -> Iterator[tuple[dict, ScanResult]]:
    """(labels row, scan result) for each photo of the set whose expected verdict is in `expected`."""
    with (eval_set / "labels.csv").open() as fh:
        for row in csv.DictReader(fh):
            if row["expected"] in expected:
                yield row, pipeline.scan_file(eval_set / row["file"])[1]


def verified_as_labelled(row: dict, result: ScanResult) -> bool:
    """Whether the verifier judged the photo against its own brand (else the miss is recognition's)."""
    return result.authenticity is not None and result.brand == row["brand"]


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
    args = parser.parse_args(argv)

    config = ScannerConfig()
    config = replace(config, model=replace(config.model, path=str(args.model)))
    genuine, unknown = [], []
    for row, result in scan_set(config, args.eval_set, ("pass", "unknown"), args.photos_per_brand):
        if not result.candidates:
            continue  # rescan: never reached recognition
        nearest = result.candidates[0]
        if row["expected"] == "pass":
            genuine.append(nearest.similarity if nearest.brand_id == row["brand"] else -1.0)
        else:
            unknown.append(nearest.similarity)
    threshold = float(np.quantile(np.array(genuine), 1 - args.keep))
    rejection = float((np.array(unknown) < threshold).mean())
    summary = (
        f"keeps {args.keep:.0%} of {len(genuine)} genuine photos and rejects {rejection:.1%} of {len(unknown)} "
        "unknown-brand photos"
    )
    if args.photos_per_brand:
        print(
            f"{args.model.name}, artwork + {args.photos_per_brand} photos per brand: threshold {threshold:.4f} "
            f"{summary}\n[match]\nunknown_threshold = {threshold:.4f}"
        )
        return 0
    path = record_calibration(
        args.model,
        {
            "unknown_threshold": round(threshold, 4),
            "calibrated_on": str(args.eval_set.name),
            "genuine_kept": args.keep,
            "unknown_rejected_on_calibration": round(rejection, 4),
        },
    )
    print(f"{args.model.name}: unknown_threshold {threshold:.4f} {summary} -> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
