"""Render the authenticity verifier's training pairs: genuine and counterfeit photos of the training brands,
put through the scanner's own quality gate, locate, crop and alignment, beside each brand's reference.

    python tools/make_verifier_set.py REFS_DIR --out build/verifier_set.npz [--per-brand 8] [--workers 2] [--seed 0] \
        [--size 128] [--align similarity|refined] [--minutes M] [--colourways SHARE] [--photo-references SHARE] \
        [--emboss-light diagonal|any]

REFS_DIR holds every simple-icons brand (tools/import_simple_icons.py); held-out brands (tools/splits.py)
are skipped, so the verifier never sees an evaluation brand. Per brand, half the photos are genuine and
half counterfeit (tools/counterfeits.py: the kinds in turn, magnitude uniform from subtle to obvious).
Photos the scanner would send to `rescan` are dropped: they never reach the verifier. `--minutes` bounds the
run (a machine lent for minutes): brands are then taken in an order shuffled by the seed and the set holds those
finished in time; a brand's photos are the same whichever order it comes in.

With `--photo-references SHARE` each brand also gets a genuine photo as a second reference (a brand enrolled from
photos of genuine goods, with no artwork), and that share of its pairs is aligned to the photo instead.

Output arrays: aligned (N, S, S, 3) and reference index per sample, references (R, S, S, 3), all uint8 BGR, with
reference_is_photo (R,) saying which references are such photos
(S: `--size`, the side the pair is compared at, which becomes the trained verifier's input side; `--align`:
the scanner's similarity alignment, or that refined to a homography by scanner/refine.py, recorded in the
set as `alignment` and passed on to the verifier trained on it);
target (N, G, G) uint8 with G = S / 8 (one cell per 8x8 pixels, the network's stride), the share of each
cell of the reference that the counterfeit changed (0..255); genuine (N,), kind (N,), magnitude (N,), brand (N,).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import cv2
import numpy as np

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
sys.path.insert(0, str(TOOLS.parent))

from counterfeits import COLOUR_KINDS, KINDS, Invisible  # noqa: E402
from splits import training_brands  # noqa: E402
from synth_photos import (  # noqa: E402
    COLOURWAYS,
    EMBOSS_LIGHT_HELP,
    EMBOSS_LIGHTS,
    colourway_photo,
    counterfeit_colourway_photo,
    counterfeit_photo,
    emboss_lit,
    load_mark,
    photograph,
    photograph_with_placement,
)

from scanner.align import RULES_SIZE, align_in_frame  # noqa: E402
from scanner.config import ScannerConfig  # noqa: E402
from scanner.enroll import frame_reference  # noqa: E402
from scanner.index import ReferenceImage  # noqa: E402
from scanner.locate import CROP_SIZE, Box, crop, locate  # noqa: E402
from scanner.pair_model import ALIGNMENTS  # noqa: E402
from scanner.quality import assess  # noqa: E402
from scanner.verdict import too_small  # noqa: E402

CONFIG = ScannerConfig()
CELL = 8  # pixels per deviation-map cell: the pair network's stride
PHOTO_REFERENCE_TRIES = 5  # captures drawn for a brand's photo reference before it goes without one
PHOTO_REFERENCE_STREAM = 31  # seeds the photo reference's own generator (numpy SeedSequence entropy)


def deviation_target(where: np.ndarray, box, grid: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Share of each grid cell of the reference crop that changed, 0..255."""
    framed = crop(where, box, CROP_SIZE).astype(np.float32) / 255
    return np.round(cv2.resize(framed, (grid, grid), interpolation=cv2.INTER_AREA) * 255).astype(np.uint8)


def aligned_query(photo: np.ndarray, reference: ReferenceImage, size: int, refined: bool = False) -> np.ndarray | None:
    """The photo's logo aligned to the reference as the scanner does it, or None when the quality gate turns
    the frame away or its logo is located too small (the pairs keep only frames judged as located)."""
    if not assess(photo, CONFIG.quality).ok:
        return None
    location = locate(photo, CONFIG.locate)
    if too_small(location, CONFIG):
        return None
    return align_in_frame(photo, location.box, reference, size, refined)[0].aligned


def photo_reference(
    mark: np.ndarray, rng: np.random.Generator
) -> tuple[ReferenceImage, np.ndarray, Box, tuple[int, int]] | None:
    """A genuine photo of the mark enrolled as its brand's reference, as `scanner enroll` frames a photo of
    genuine goods (no mask): (the reference, the homography from the mark's pixels to the photo, the photo's
    framed box, the photo's width and height), or None when none of a few captures would pass the scanner's
    quality gate and locate."""
    for _ in range(PHOTO_REFERENCE_TRIES):
        photo, _, placement = photograph_with_placement(mark, rng, "genuine", rich=True)
        if not assess(photo, CONFIG.quality).ok or too_small(locate(photo, CONFIG.locate), CONFIG):
            continue
        ref_crop, _, box = frame_reference(photo, CONFIG.locate)
        return ReferenceImage(0, "", ref_crop, None), placement, box, (photo.shape[1], photo.shape[0])
    return None


def brand_pairs(job: tuple[int, str, Path, int, int, int, bool, float, float]) -> tuple[list[np.ndarray], list[tuple]]:
    """(the brand's references at the pair's side: its artwork, then a photo of it where `photo_references`;
    (aligned, target, genuine, kind, magnitude, brand, reference position among those) per pair)."""
    index, brand, logo, per_brand, seed, size, refined, colourways, photo_references = job
    grid = size // CELL
    rng = np.random.default_rng(9_000_011 * index + 17 + 1_000_003 * seed)  # seed 0: the shipped v2's pairs
    mark = load_mark(logo)
    ref_crop, ref_mask, box = frame_reference(mark, CONFIG.locate)
    artwork = ReferenceImage(0, brand, ref_crop, ref_mask)
    references = [cv2.resize(ref_crop, (size, size), interpolation=cv2.INTER_AREA)]
    # The photo reference draws from a generator of its own, so the queries are those of a set made without it.
    photo_rng = np.random.default_rng([index, seed, PHOTO_REFERENCE_STREAM])
    photo = photo_reference(mark, photo_rng) if photo_references else None
    if photo is not None:
        references.append(cv2.resize(photo[0].crop, (size, size), interpolation=cv2.INTER_AREA))
    samples = []
    for n in range(per_brand):
        genuine = n % 2 == 0
        kind, magnitude, where = "genuine", 0.0, None
        # No draw without --colourways: a set made without it is the set made before it existed.
        way = COLOURWAYS[rng.integers(len(COLOURWAYS))] if colourways and rng.random() < colourways else None
        if genuine:
            query = photograph(mark, rng, "genuine", rich=True) if way is None else colourway_photo(mark, way, rng)
        else:
            magnitude = float(rng.uniform(0, 1))
            kind = KINDS[(index + n // 2) % len(KINDS)]
            try:
                if way is None or kind in COLOUR_KINDS:
                    query, kind, where, _ = counterfeit_photo(mark, kind, magnitude, rng)
                else:
                    # A reversed print grows the canvas (synth_photos.colourway), which would move `where` off
                    # the reference's frame: such a counterfeit is printed one colour light instead.
                    printed = "one_colour_light" if way == "reversed" else way
                    query, kind, where = counterfeit_colourway_photo(mark, kind, magnitude, printed, rng)
            except Invisible:
                continue
        against_photo = photo is not None and photo_rng.random() < photo_references
        if against_photo:
            reference, placement, ref_box, photo_size = photo  # type: ignore[misc]
            # The changed part, carried from the mark's pixels into the reference photo's frame.
            if where is not None:
                where = cv2.warpPerspective(where, placement, photo_size)
        else:
            reference, ref_box = artwork, box
        target = np.zeros((grid, grid), np.uint8) if where is None else deviation_target(where, ref_box, grid)
        aligned = aligned_query(query, reference, size, refined)
        if aligned is not None:
            samples.append((aligned, target, genuine, kind, magnitude, brand, int(against_photo)))
    return references, samples


def job_order(count: int, seed: int, shuffled: bool) -> list[int]:
    """Brand positions in the order they are rendered: sorted, or shuffled by the seed for a bounded run, so
    that the brands finished in time are a sample of all of them, not the start of the alphabet."""
    order = np.arange(count)
    if shuffled:
        np.random.default_rng(seed).shuffle(order)
    return [int(i) for i in order]


def render(jobs: list[tuple], workers: int, minutes: float | None) -> tuple[list[np.ndarray], list[bool], list[tuple]]:
    """(the brands' references, whether each is a photo, (reference position, *sample) rows) of the jobs, in
    order; with `minutes`, only the brands finished by then."""
    start = time.time()
    deadline = start + 60 * minutes if minutes is not None else math.inf
    references: list[np.ndarray] = []
    photos: list[bool] = []
    rows: list[tuple] = []
    # One worker per core: OpenCV's own thread pool in each would oversubscribe them. Set before the workers
    # fork, not in them: in the test suite a worker calling cv2.setNumThreads after the fork waited forever
    # (the parent's OpenCV pool was running).
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        with Pool(workers) as pool:
            for n, (brand_references, samples) in enumerate(pool.imap(brand_pairs, jobs, chunksize=8)):
                first = len(references)
                references += brand_references
                photos += [False] + [True] * (len(brand_references) - 1)
                rows += [(first + sample[-1], *sample[:-1]) for sample in samples]
                if (n + 1) % 200 == 0:
                    print(
                        f"{n + 1}/{len(jobs)} brands, {len(rows)} pairs, {time.time() - start:.0f} s", file=sys.stderr
                    )
                if time.time() > deadline:
                    print(f"--minutes {minutes} reached after {n + 1} of {len(jobs)} brands", file=sys.stderr)
                    break  # leaving the block terminates the workers still rendering
    finally:
        cv2.setNumThreads(threads)
    return references, photos, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("refs", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--per-brand", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, help="first N training brands only (smoke runs)")
    parser.add_argument("--seed", type=int, default=0, help="another seed gives other photos of the same brands")
    parser.add_argument(
        "--size", type=int, default=RULES_SIZE, help="side of the compared pair in pixels, a multiple of 8"
    )
    parser.add_argument(
        "--align", choices=ALIGNMENTS, default="similarity", help="how the query is brought onto the reference"
    )
    parser.add_argument("--minutes", type=float, help="stop after this long, keeping the brands finished by then")
    parser.add_argument(
        "--colourways",
        type=float,
        default=0.0,
        help="share of photos printed in a genuine colourway (synth_photos.COLOURWAYS: black, white, reversed); "
        "a counterfeit of a shape kind is printed in it too",
    )
    parser.add_argument("--emboss-light", choices=EMBOSS_LIGHTS, default="diagonal", help=EMBOSS_LIGHT_HELP)
    parser.add_argument(
        "--photo-references",
        type=float,
        default=0.0,
        help="share of pairs whose reference is a genuine photo of the brand (one per brand, framed as `scanner "
        "enroll` frames a photo of genuine goods) instead of its artwork",
    )
    args = parser.parse_args(argv)
    if args.size % CELL:
        parser.error(f"--size must be a multiple of {CELL}")

    train = training_brands(args.refs, args.limit)
    jobs = [
        (
            i,
            slug,
            args.refs / slug / "logo.png",
            args.per_brand,
            args.seed,
            args.size,
            args.align == "refined",
            args.colourways,
            args.photo_references,
        )
        for i, slug in enumerate(train)
    ]
    jobs = [jobs[i] for i in job_order(len(jobs), args.seed, args.minutes is not None)]
    start = time.time()
    with emboss_lit(args.emboss_light):  # set before the workers fork, so that they inherit it
        references, photos, rows = render(jobs, args.workers, args.minutes)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        args.out,
        references=np.stack(references),
        colourways=np.float32(args.colourways),
        emboss_light=np.array(args.emboss_light),
        reference_is_photo=np.array(photos, bool),
        reference_index=np.array([r[0] for r in rows], np.int32),
        aligned=np.stack([r[1] for r in rows]),
        target=np.stack([r[2] for r in rows]),
        genuine=np.array([r[3] for r in rows], bool),
        kind=np.array([r[4] for r in rows]),
        magnitude=np.array([r[5] for r in rows], np.float32),
        brand=np.array([r[6] for r in rows]),
        alignment=np.array(args.align),
    )
    genuine = sum(r[3] for r in rows)
    print(
        f"{args.out}: {len(rows)} pairs ({genuine} genuine) of {len(references) - sum(photos)} brands "
        f"({sum(photos)} with a photo reference) in {time.time() - start:.0f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
