"""How far the scanner's alignment leaves a genuine mark from its reference: the geometric slack the verifier
has to forgive, to set against the size of the changes it must see (a stroke 1 px thicker at 128 px).

    python tools/alignment_residual.py build/heldout-test [build/heldout-test-clean ...] --db build/ho_ev2.db

For every genuine photo of a set written by tools/make_heldout_set.py: locate, crop and align to the brand's
artwork as the scanner does (scanner/align.py `align`, a similarity transform), then refine that alignment
with OpenCV's ECC (an affine warp maximising the correlation of the two lightly blurred grey images). The
refinement's displacement over the reference's mark (90th percentile of its pixels) is what the similarity
left; printed per set as quartiles in pixels at the compared size. Photos where ECC does not converge are
counted and left out.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scanner.align import Alignment, align  # noqa: E402
from scanner.config import ScannerConfig  # noqa: E402
from scanner.embed import file_sha256  # noqa: E402
from scanner.imageio import read_image  # noqa: E402
from scanner.index import BrandIndex  # noqa: E402
from scanner.locate import CROP_SIZE, crop, locate  # noqa: E402

ECC_STOP = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-5)


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), (0, 0), 1.0).astype(np.float32)


def residual(a: Alignment) -> float | None:
    """Pixels (90th percentile over the reference's mark) that ECC moves the aligned query; None if no fit."""
    warp = np.eye(2, 3, dtype=np.float32)
    try:
        _, warp = cv2.findTransformECC(_grey(a.reference), _grey(a.aligned), warp, cv2.MOTION_AFFINE, ECC_STOP, None, 1)
    except cv2.error:  # did not converge
        return None
    ys, xs = np.nonzero(a.ref_mask)
    points = np.c_[xs, ys, np.ones(len(xs))]
    return float(np.percentile(np.linalg.norm(points @ warp.T - points[:, :2], axis=1), 90))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", type=Path, nargs="+")
    parser.add_argument("--db", type=Path, required=True, help="brand index of the sets' refs/")
    parser.add_argument("--size", type=int, default=128, help="side the pair is compared at")
    args = parser.parse_args(argv)
    config = ScannerConfig()
    index = BrandIndex.open(args.db, file_sha256(Path(config.model.path)))
    print(f"| set | genuine photos | ECC did not converge | residual p25 / p50 / p75 / p90 (px at {args.size}) |")
    print("|---|---|---|---|")
    for folder in args.sets:
        with (folder / "labels.csv").open() as fh:
            rows = [r for r in csv.DictReader(fh) if r["kind"] == "genuine" and r["brand"]]
        found = []
        for row in rows:
            artwork = index.artwork_of(row["brand"])
            if artwork is None:
                raise SystemExit(f"{args.db}: brand {row['brand']!r} has no artwork reference to align to")
            frame = read_image(folder / row["file"])
            query = crop(frame, locate(frame, config.locate).box, CROP_SIZE)
            found.append(residual(align(query, artwork, args.size)))
        moved = np.array([r for r in found if r is not None])
        quartiles = " / ".join(f"{q:.2f}" for q in np.percentile(moved, [25, 50, 75, 90]))
        print(f"| {folder.name} | {len(rows)} | {len(rows) - len(moved)} | {quartiles} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
