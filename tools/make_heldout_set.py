"""The held-out evaluation set for the trained embedder: brands the model never saw, each enrolled from ONE
clean artwork, photographed with the rich generator (tools/synth_photos.py), plus unenrolled brands.

    python tools/make_heldout_set.py simple-icons-*.tgz --out DIR [--split test|calibration|unknowns] \
        [--without tilt|print]

Brands come from the held-out share of simple-icons (tools/splits.py), ordered by a hash of the slug: the
`calibration` split takes one block of 100 enrolled and 50 unknown brands, `test` another, disjoint block;
`unknowns` every held-out brand after those two blocks (423), none enrolled, 2 photos each: unrelated marks
enough to measure how near one comes to an enrolled brand by chance.
Per enrolled brand: 3 genuine photos, one degraded frame (blur, dark or glare in turn: rescan) and two
counterfeits (tools/counterfeits.py: the eight kinds in turn, one subtle with magnitude below 0.5 and one
obvious above it: suspect); per unknown brand, 2 photos. Writes DIR/refs/<slug>/ (the enrolment artwork,
for `scanner index build`) and DIR/labels.csv for `scanner eval` (file,expected,brand,kind,magnitude,changes,
style: how the goods carry the mark, synth_photos.recording_styles).
A counterfeit that altered one part of the mark (counterfeits.changes_a_part) has `changes`: a 0/255 PNG under
DIR/changes/ of what was altered, framed as the index frames the brand's reference
(scanner.enroll.frame_reference), so that `scanner eval` can check that the heatmap points at it.

`--without` re-shoots the same split with one factor of the rich generator removed (synth_photos.ablated:
`tilt` puts every mark square on and flat, `print` prints plain ink with no embossing, foil, fading,
embroidery, cast shadow or shake); everything else about each photo stays the same, so comparing
`scanner eval` on the two sets measures what that factor costs. `--emboss-light any` re-shoots it with each
embossed mark lit from a direction of its own instead of along the diagonal (synth_photos.emboss_lit);
every other photo comes out the same.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from pathlib import Path

import cv2
import numpy as np

from scanner.config import LocateConfig
from scanner.enroll import frame_reference
from scanner.imageio import read_image
from scanner.locate import CROP_SIZE, crop

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
from counterfeits import COLOUR_KINDS, KINDS, Invisible, changes_a_part  # noqa: E402
from import_simple_icons import import_brands, read_tarball, slug_of  # noqa: E402
from splits import FLICKRLOGOS_BRANDS, held_out  # noqa: E402
from synth_photos import (  # noqa: E402
    ABLATIONS,
    COLOURWAYS,
    EMBOSS_LIGHT_HELP,
    EMBOSS_LIGHTS,
    EXPECTED,
    ablated,
    colourway_photo,
    counterfeit_colourway_photo,
    counterfeit_photo,
    emboss_lit,
    load_mark,
    make_views,
    recording_styles,
)

ENROLLED, UNKNOWN = 100, 50
SPLIT_OFFSET = {"calibration": 0, "test": ENROLLED + UNKNOWN, "unknowns": 2 * (ENROLLED + UNKNOWN)}
DEGRADED = ("blur", "dark", "glare")


def held_out_brands(tarball: Path) -> list[str]:
    _, icons, svgs = read_tarball(tarball)
    slugs = [slug_of(i) for i in icons if slug_of(i) in svgs]
    chosen = [s for s in slugs if held_out(s) and s not in FLICKRLOGOS_BRANDS]
    return sorted(chosen, key=lambda s: hashlib.sha256(s.encode()).hexdigest())


def framed_as_reference(where: np.ndarray, logo: Path) -> np.ndarray:
    """A 0/255 mask in the artwork's pixels, cropped where the index frames that artwork as its reference (with
    the default locate settings), at the reference crop's side."""
    _, _, box = frame_reference(read_image(logo, keep_alpha=True), LocateConfig())
    framed = crop(where, box, CROP_SIZE, border=cv2.BORDER_CONSTANT)
    return ((framed > 127) * 255).astype(np.uint8)


SHAPE_KINDS = tuple(k for k in KINDS if k not in COLOUR_KINDS)  # what a colourway print leaves to judge


def colourway_rows(enrolled: list[str], refs: Path, photos: Path, seed: int) -> list[tuple]:
    """Per brand, a genuine photo in each colourway and a counterfeit of a shape kind printed in one (the
    kinds and colourways in turn, magnitudes over both bands), written under `photos`: labels.csv rows."""
    rows: list[tuple] = []
    seed += 900_000  # apart from the split's own photos
    for i, slug in enumerate(enrolled):
        mark = load_mark(refs / slug / "logo.png")
        for way in COLOURWAYS:
            seed += 1
            rng = np.random.default_rng(seed)
            name = f"genuine_{way}_{slug}.jpg"
            cv2.imwrite(str(photos / name), colourway_photo(mark, way, rng))
            rows.append((f"photos/{name}", "pass", slug, "genuine", "", "", way))
        seed += 1
        rng = np.random.default_rng(seed)
        magnitude = float(rng.uniform(0, 0.5) + 0.5 * (i // len(SHAPE_KINDS) % 2))
        way = COLOURWAYS[i % len(COLOURWAYS)]
        try:
            photo, kind, _ = counterfeit_colourway_photo(mark, SHAPE_KINDS[i % len(SHAPE_KINDS)], magnitude, way, rng)
        except Invisible:  # no shape kind shows on this mark, and a colourway would hide a colour one
            continue
        name = f"{kind}_{way}_{slug}_{magnitude:.2f}.jpg"
        cv2.imwrite(str(photos / name), photo)
        rows.append((f"photos/{name}", "suspect", slug, kind, f"{magnitude:.2f}", "", way))
    return rows


def write_labels(out: Path, rows: list[tuple], extra: list[str]) -> None:
    with (out / "labels.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "expected", "brand", "kind", "magnitude", "changes", *extra])
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tarball", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--split", choices=sorted(SPLIT_OFFSET), default="test")
    parser.add_argument("--without", choices=sorted(ABLATIONS), action="append", default=[], help="remove a factor")
    parser.add_argument("--emboss-light", choices=EMBOSS_LIGHTS, default="diagonal", help=EMBOSS_LIGHT_HELP)
    parser.add_argument(
        "--views",
        type=int,
        default=1,
        help="photos per item: with 2 or more, each item (the same goods) is shot from that many independent "
        "captures; labels.csv names the first view in `file` and the others in `more_views` (a new set: the "
        "first views are not the one-view set's photos)",
    )
    parser.add_argument(
        "--colourways",
        action="store_true",
        help="instead of the split's photos, its enrolled brands' marks as genuine goods also print them: one "
        "genuine photo per colourway (synth_photos.COLOURWAYS) and one counterfeit of a shape kind printed in "
        "a colourway, per brand; labels.csv names each photo's colourway",
    )
    args = parser.parse_args(argv)
    if args.colourways and (args.views > 1 or args.without):
        parser.error("--colourways makes one photo per item with the full generator")
    if (args.out / "labels.csv").exists():
        raise SystemExit(f"{args.out} already holds an evaluation set; remove it first")

    brands = held_out_brands(args.tarball)[SPLIT_OFFSET[args.split] :]
    if args.split == "unknowns":
        enrolled, unknown = [], brands
    else:
        brands = brands[: ENROLLED + UNKNOWN]
        enrolled, unknown = brands[:ENROLLED], brands[ENROLLED:]
    refs, photos, changes = args.out / "refs", args.out / "photos", args.out / "changes"
    import_brands(args.tarball, refs, brands, 256)  # every artwork rendered; unknown ones moved out below
    art = args.out / "unknown-art"
    art.mkdir(parents=True, exist_ok=True)
    for slug in unknown:
        (refs / slug).rename(art / slug)
    photos.mkdir(parents=True, exist_ok=True)
    changes.mkdir(parents=True, exist_ok=True)
    seed = 500_000 + SPLIT_OFFSET[args.split] * 1000
    rows = []

    def save(
        views: list[np.ndarray],
        name: str,
        expected: str,
        brand: str,
        kind: str,
        magnitude: str = "",
        changed: str = "",
    ) -> None:
        names = [name] + [name.replace(".jpg", f".view{n}.jpg") for n in range(2, 1 + len(views))]
        for image, file in zip(views, names, strict=True):
            cv2.imwrite(str(photos / file), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        more = ";".join(f"photos/{n}" for n in names[1:])
        # The views of one item are the same goods: one style (the last photo's, as its goods were drawn last).
        style = styles[-1] if styles else ""
        row = (f"photos/{name}", expected, brand, kind, magnitude, changed, style)
        rows.append(row + ((more,) if more else ()))

    def shoot(logo: Path, kind: str, brand: str, name: str, expected: str) -> None:
        nonlocal seed
        seed += 1
        label = "unknown" if expected == "unknown" else kind
        save(make_views(logo, kind, seed, args.views, rich=True), name, expected, brand, label)

    def shoot_counterfeit(logo: Path, kind: str, brand: str, magnitude: float) -> None:
        nonlocal seed
        seed += 1
        rng = np.random.default_rng(seed)
        views, kind, where, description = counterfeit_photo(load_mark(logo), kind, magnitude, rng, args.views)
        stem = f"{kind}_{brand}_{magnitude:.2f}"
        changed = ""
        if changes_a_part(kind, description):
            changed = f"changes/{stem}.png"
            cv2.imwrite(str(args.out / changed), framed_as_reference(where, logo))
        save(views, f"{stem}.jpg", "suspect", brand, kind, f"{magnitude:.2f}", changed)

    if args.colourways:
        rows = colourway_rows(enrolled, refs, photos, seed)
        write_labels(args.out, rows, ["colourway"])
        print(f"{args.out}: {len(enrolled)} enrolled brands (refs/), {len(rows)} photos in colourways", file=sys.stderr)
        return 0

    with ablated(*args.without), emboss_lit(args.emboss_light), recording_styles() as styles:
        for i, slug in enumerate(enrolled):
            logo = refs / slug / "logo.png"
            for n in range(3):
                shoot(logo, "genuine", slug, f"genuine_{slug}_{n}.jpg", "pass")
            degraded = DEGRADED[i % len(DEGRADED)]
            shoot(logo, degraded, slug, f"{degraded}_{slug}.jpg", EXPECTED[degraded])
            # One subtle and one obvious counterfeit; every kind gets both bands across the brands.
            bands = np.array([(i // 4 + n) % 2 for n in range(2)])
            magnitudes = np.random.default_rng(seed).uniform(0, 0.5, 2) + 0.5 * bands
            for n, magnitude in enumerate(magnitudes):
                shoot_counterfeit(logo, KINDS[(2 * i + n) % len(KINDS)], slug, float(magnitude))
        for slug in unknown:
            for n in range(2):
                shoot(art / slug / "logo.png", "genuine", "", f"unknown_{slug}_{n}.jpg", "unknown")
    write_labels(args.out, rows, ["style", *(["more_views"] if args.views > 1 else [])])
    print(
        f"{args.out}: {len(enrolled)} enrolled brands (refs/), {len(unknown)} unknown, {len(rows)} photos",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
