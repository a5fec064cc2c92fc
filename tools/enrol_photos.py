"""Add N synthetic photos per brand to an existing brand index (multi-image enrolment experiments), or make
an index of such photos alone (brands enrolled from photos of genuine goods, with no artwork).

    python tools/enrol_photos.py REFS_DIR --db DB [--per-brand 2] [--seed 900000] [--model M] [--photos-only]

For each brand folder in REFS_DIR, renders N rich photos of its logo.png (seeds distinct from every
evaluation set) and enrols them with the scanner's own enrolment path, beside the artwork already there or,
with `--photos-only`, in a new index where the brand has nothing else (named from its brand.json).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import cv2

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
sys.path.insert(0, str(TOOLS.parent))

from synth_photos import make_photo  # noqa: E402

from scanner.config import DEFAULT_MODEL, LocateConfig  # noqa: E402
from scanner.embed import Embedder  # noqa: E402
from scanner.enroll import brand_folders, enroll_images, name_brand  # noqa: E402
from scanner.index import BrandIndex  # noqa: E402

PHOTO_SEED = 900_000  # first seed of the enrolled photos: distinct from every evaluation set's


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("refs", type=Path)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--per-brand", type=int, default=2)
    parser.add_argument("--seed", type=int, default=PHOTO_SEED, help="first photo seed")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--photos-only", action="store_true", help="make DB new, with the photos and no artwork")
    args = parser.parse_args(argv)
    embedder = Embedder(args.model)
    if args.photos_only and args.db.exists():
        parser.error(f"{args.db} exists: --photos-only makes a new index")
    if args.photos_only:
        index_file = BrandIndex.create(args.db, embedder.sha256, embedder.dim)
    else:
        index_file = BrandIndex.open(args.db, embedder.sha256)
    with index_file as index:
        if args.photos_only:
            name_brands(index, args.refs)
        added = enrol_synthetic_photos(index, embedder, args.refs, args.per_brand, args.seed)
    print(f"{args.db}: {added} photo references added", file=sys.stderr)
    return 0


def name_brands(index: BrandIndex, refs: Path) -> None:
    """Each brand folder's brand, named as its brand.json names it, with no reference yet."""
    for folder in brand_folders(refs):
        name_brand(index, folder)


def enrol_synthetic_photos(index: BrandIndex, embedder: Embedder, refs: Path, per_brand: int, seed: int) -> int:
    """Render `per_brand` rich photos of each brand folder's logo.png and enrol them; returns how many."""
    added = 0
    with tempfile.TemporaryDirectory() as tmp:
        for b, folder in enumerate(sorted(p for p in refs.iterdir() if p.is_dir())):
            paths = []
            for n in range(per_brand):
                path = Path(tmp) / f"{folder.name}_{n}.jpg"
                cv2.imwrite(str(path), make_photo(folder / "logo.png", "genuine", seed + 100 * b + n, rich=True))
                paths.append(path)
            added += enroll_images(index, embedder, LocateConfig(), folder.name, paths, None).added
    return added


if __name__ == "__main__":
    raise SystemExit(main())
