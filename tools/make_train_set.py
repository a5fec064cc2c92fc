"""Render the embedder's training set: rich synthetic photos of the training brands, located and cropped
exactly as the scanner crops them, plus each brand's clean artwork.

    python tools/make_train_set.py REFS_DIR --out build/train_set.npz [--per-brand 6] [--scenes 0] \
        [--counterfeits 0] [--size 128] [--workers 2]

`--scenes N` adds N whole-scene photos per brand (tools/scene_photos.py: the mark restyled as a badge,
in several colours or metallic, in a cluttered scene), each cropped to a window around the mark as the
scanner's scene search would see it. Their seeds are their own, so the handheld photos stay the same.

`--counterfeits N` adds N photos per brand of counterfeits of its mark (tools/counterfeits.py: the kinds in
turn, magnitude uniform from subtle to obvious), labelled as the brand they copy: recognition names the
brand a mark claims to be, and the verifier judges it. An embedder that never saw an altered mark pushes a
stretched, recoloured or mirrored copy away from its brand, and the scanner then calls it `unknown` instead
of verifying it. Their seeds are their own too.

REFS_DIR holds every simple-icons brand (tools/import_simple_icons.py); held-out brands (tools/splits.py)
are skipped. Output: images (N, size, size, 3) uint8 RGB, labels (N,), brands (class names).
"""

from __future__ import annotations

import argparse
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import cv2
import numpy as np

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
sys.path.insert(0, str(TOOLS.parent))

from counterfeits import KINDS, Invisible  # noqa: E402
from scene_photos import scene_photo, window_around  # noqa: E402
from splits import training_brands  # noqa: E402
from synth_photos import counterfeit_photo, load_mark, make_photo  # noqa: E402

from scanner.config import LocateConfig  # noqa: E402
from scanner.imageio import composite_on_background, read_image  # noqa: E402
from scanner.locate import crop, locate  # noqa: E402

CONFIG = LocateConfig()


def located_crop_rgb(frame: np.ndarray, size: int) -> np.ndarray:
    """The crop the scanner would embed (its own locate stage), as RGB: what the embedder trains and is probed on."""
    return cv2.cvtColor(crop(frame, locate(frame, CONFIG).box, size), cv2.COLOR_BGR2RGB)


def artwork_crop_rgb(logo: Path, size: int) -> np.ndarray:
    """The enrolment crop of a brand's artwork (composited on a plain background, located, cropped), as RGB."""
    return located_crop_rgb(composite_on_background(read_image(logo, keep_alpha=True))[0], size)


def scene_crop_rgb(logo: Path, seed: int, size: int) -> np.ndarray:
    """A window around the mark in a whole-scene photo of it (scene_photos), as RGB."""
    rng = np.random.default_rng(seed)
    scene, box = scene_photo(load_mark(logo), rng)
    return cv2.cvtColor(crop(scene, window_around(box, rng), size), cv2.COLOR_BGR2RGB)


def counterfeit_crops_rgb(logo: Path, index: int, count: int, size: int) -> list[np.ndarray]:
    """Located crops of `count` counterfeit photos of the brand's mark (fewer when a kind cannot show on it)."""
    rng = np.random.default_rng(3_000_017 * index + 11)
    mark = load_mark(logo)
    crops = []
    for n in range(count):
        try:
            photo, *_ = counterfeit_photo(mark, KINDS[(index + n) % len(KINDS)], float(rng.uniform(0, 1)), rng)
        except Invisible:
            continue
        crops.append(located_crop_rgb(photo, size))
    return crops


def brand_samples(job: tuple[int, Path, int, int, int, int]) -> list[np.ndarray]:
    index, logo, per_brand, scenes, counterfeits, size = job
    photos = [make_photo(logo, "genuine", 7_000_003 * index + n, rich=True) for n in range(per_brand)]
    scene_crops = [scene_crop_rgb(logo, 5_000_011 * index + n + 1, size) for n in range(scenes)]
    return (
        [artwork_crop_rgb(logo, size)]
        + [located_crop_rgb(photo, size) for photo in photos]
        + scene_crops
        + counterfeit_crops_rgb(logo, index, counterfeits, size)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("refs", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--per-brand", type=int, default=6)
    parser.add_argument("--scenes", type=int, default=0, help="whole-scene photos per brand (scene_photos.py)")
    parser.add_argument("--counterfeits", type=int, default=0, help="counterfeit photos per brand, as the brand")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, help="only the first N training brands (smoke runs)")
    args = parser.parse_args(argv)

    train = training_brands(args.refs, args.limit)
    print(f"{len(train)} brands for training", file=sys.stderr)
    start = time.time()
    jobs = [
        (i, args.refs / slug / "logo.png", args.per_brand, args.scenes, args.counterfeits, args.size)
        for i, slug in enumerate(train)
    ]
    with Pool(args.workers) as pool:
        results = pool.map(brand_samples, jobs, chunksize=8)
    images = np.stack([c for crops in results for c in crops])
    labels = np.array([i for i, crops in enumerate(results) for _ in crops], np.int32)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, images=images, labels=labels, brands=np.array(train))
    print(
        f"wrote {args.out}: {len(images)} crops of {len(train)} brands in {time.time() - start:.0f} s", file=sys.stderr
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
