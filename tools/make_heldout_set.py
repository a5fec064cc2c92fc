"""The held-out evaluation set for the trained embedder: brands the model never saw, each enrolled from ONE
clean artwork, photographed with the rich generator (tools/synth_photos.py), plus unenrolled brands.

    python tools/make_heldout_set.py simple-icons-*.tgz --out DIR [--split test|calibration]

Brands come from the held-out share of simple-icons (tools/splits.py), ordered by a hash of the slug: the
`calibration` split takes one block of 100 enrolled and 50 unknown brands, `test` another, disjoint block.
Per enrolled brand: 3 genuine photos, one degraded frame (blur, dark or glare in turn: rescan) and one
altered mark (colour, stretch, missing, mirror in turn: suspect); per unknown brand, 2 photos. Writes
DIR/refs/<slug>/ (the enrolment artwork, for `scanner index build`) and DIR/labels.csv for `scanner eval`.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from pathlib import Path

import cv2

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
from import_simple_icons import import_brands, read_tarball, slug_of  # noqa: E402
from splits import FLICKRLOGOS_BRANDS, held_out  # noqa: E402
from synth_photos import EXPECTED, make_photo  # noqa: E402

ENROLLED, UNKNOWN = 100, 50
SPLIT_OFFSET = {"calibration": 0, "test": ENROLLED + UNKNOWN}
DEGRADED = ("blur", "dark", "glare")
ALTERED = ("colour", "stretch", "missing", "mirror")


def held_out_brands(tarball: Path) -> list[str]:
    _, icons, svgs = read_tarball(tarball)
    slugs = [slug_of(i) for i in icons if slug_of(i) in svgs]
    chosen = [s for s in slugs if held_out(s) and s not in FLICKRLOGOS_BRANDS]
    return sorted(chosen, key=lambda s: hashlib.sha256(s.encode()).hexdigest())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tarball", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--split", choices=sorted(SPLIT_OFFSET), default="test")
    args = parser.parse_args(argv)
    if (args.out / "labels.csv").exists():
        raise SystemExit(f"{args.out} already holds an evaluation set; remove it first")

    brands = held_out_brands(args.tarball)[SPLIT_OFFSET[args.split] :][: ENROLLED + UNKNOWN]
    enrolled, unknown = brands[:ENROLLED], brands[ENROLLED:]
    refs, photos = args.out / "refs", args.out / "photos"
    import_brands(args.tarball, refs, brands, 256)  # every artwork rendered; unknown ones moved out below
    art = args.out / "unknown-art"
    art.mkdir(parents=True, exist_ok=True)
    for slug in unknown:
        (refs / slug).rename(art / slug)
    photos.mkdir(parents=True, exist_ok=True)
    seed = 500_000 + SPLIT_OFFSET[args.split] * 1000
    rows = []

    def shoot(logo: Path, kind: str, brand: str, name: str, expected: str) -> None:
        nonlocal seed
        seed += 1
        cv2.imwrite(str(photos / name), make_photo(logo, kind, seed, rich=True), [cv2.IMWRITE_JPEG_QUALITY, 90])
        rows.append((f"photos/{name}", expected, brand))

    for i, slug in enumerate(enrolled):
        logo = refs / slug / "logo.png"
        for n in range(3):
            shoot(logo, "genuine", slug, f"genuine_{slug}_{n}.jpg", "pass")
        degraded, altered = DEGRADED[i % len(DEGRADED)], ALTERED[i % len(ALTERED)]
        shoot(logo, degraded, slug, f"{degraded}_{slug}.jpg", EXPECTED[degraded])
        shoot(logo, altered, slug, f"{altered}_{slug}.jpg", EXPECTED[altered])
    for slug in unknown:
        for n in range(2):
            shoot(art / slug / "logo.png", "genuine", "", f"unknown_{slug}_{n}.jpg", "unknown")
    with (args.out / "labels.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "expected", "brand"])
        writer.writerows(rows)
    print(
        f"{args.out}: {len(enrolled)} enrolled brands (refs/), {len(unknown)} unknown, {len(rows)} photos",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
