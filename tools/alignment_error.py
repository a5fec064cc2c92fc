"""How far the scanner's alignment puts a genuine mark from where it belongs, against the generator's ground truth.

    python tools/alignment_error.py build/allrefs [--brands 150] [--size 128] [--seed 5]

For every k-th brand of REFS_DIR (k chosen so about `--brands` are used): one rich genuine photo
(tools/synth_photos.py, which also returns the homography that placed the mark), put through the scanner's
quality gate, locate and crop, then aligned to the brand's reference both ways the scanner can:
- similarity: silhouettes and ORB matches (scanner/align.py `align`);
- refined: the same, then scanner/refine.py's homography where it finds a plausible one;
- framed again: refined, in the box the scanner verifies in (scanner/align.py `align_in_frame`: the mark
  cropped again from the photo when the located box framed it badly).
For each reference pixel on the mark the ground truth says where it lies in the query crop; the alignment
maps it back, and the error is how far it lands from where it started (90th percentile over the mark, in
pixels at `--size`). Printed: quartiles and the 90th percentile of that error over photos, the share of
photos with more than 2 and 4 px, and how often the refinement was used.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
sys.path.insert(0, str(TOOLS.parent))

from synth_photos import load_mark, photograph_with_placement  # noqa: E402

from scanner.align import Alignment, align, align_in_frame  # noqa: E402
from scanner.config import ScannerConfig  # noqa: E402
from scanner.enroll import frame_reference  # noqa: E402
from scanner.index import ReferenceImage  # noqa: E402
from scanner.locate import CROP_SIZE, Box, crop, locate  # noqa: E402
from scanner.quality import assess  # noqa: E402

CONFIG = ScannerConfig()


def true_positions(points: np.ndarray, ref_box: Box, placement: np.ndarray, query_box: Box, size: int) -> np.ndarray:
    """Where reference points (pixels at size x size) lie in the query crop at size x size, by the ground truth."""
    in_mark = np.c_[ref_box.x + points[:, 0] * ref_box.w / size, ref_box.y + points[:, 1] * ref_box.h / size]
    in_photo = cv2.perspectiveTransform(in_mark[None].astype(np.float64), placement)[0]
    x, y = in_photo[:, 0] - query_box.x, in_photo[:, 1] - query_box.y
    return np.c_[x * size / query_box.w, y * size / query_box.h]


def error(a: Alignment, ref_points: np.ndarray, in_query: np.ndarray) -> float:
    back = cv2.perspectiveTransform(in_query[None], a.transform)[0]
    return float(np.percentile(np.linalg.norm(back - ref_points, axis=1), 90))


def measure(refs: Path, brands: int, size: int, seed: int) -> dict[str, list[float]]:
    folders = sorted(p for p in refs.iterdir() if (p / "logo.png").is_file())
    step = max(1, len(folders) // brands)
    rng = np.random.default_rng(seed)
    errors: dict[str, list[float]] = {"similarity": [], "refined": [], "framed again": [], "refinement used": []}
    for folder in folders[::step]:
        mark = load_mark(folder / "logo.png")
        ref_crop, ref_mask, ref_box = frame_reference(mark, CONFIG.locate)
        reference = ReferenceImage(0, folder.name, ref_crop, ref_mask)
        photo, _, placement = photograph_with_placement(mark, rng, "genuine", rich=True)
        if not assess(photo, CONFIG.quality).ok:
            continue
        query_box = locate(photo, CONFIG.locate).box
        query = crop(photo, query_box, CROP_SIZE)
        similarity, refined = align(query, reference, size), align(query, reference, size, refined=True)
        ys, xs = np.nonzero(refined.ref_mask)
        ref_points = np.c_[xs, ys].astype(np.float64) + 0.5
        in_query = true_positions(ref_points, ref_box, placement, query_box, size)
        errors["similarity"].append(error(similarity, ref_points, in_query))
        errors["refined"].append(error(refined, ref_points, in_query))
        framed, box = align_in_frame(photo, query_box, reference, size, refined=True)
        errors["framed again"].append(
            error(framed, ref_points, true_positions(ref_points, ref_box, placement, box, size))
        )
        errors["refinement used"].append(float(refined.homography is not None))
    return errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("refs", type=Path)
    parser.add_argument("--brands", type=int, default=150)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    errors = measure(args.refs, args.brands, args.size, args.seed)
    used = np.mean(errors.pop("refinement used"))
    print(f"{len(errors['similarity'])} genuine photos; refinement used on {used:.0%}")
    print(f"| alignment | error p25 / p50 / p75 / p90 (px at {args.size}) | over 2 px | over 4 px |")
    print("|---|---|---|---|")
    for name, values in errors.items():
        e = np.array(values)
        quartiles = " / ".join(f"{q:.2f}" for q in np.percentile(e, [25, 50, 75, 90]))
        print(f"| {name} | {quartiles} | {(e > 2).mean():.0%} | {(e > 4).mean():.0%} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
