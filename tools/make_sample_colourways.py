"""Make the bundled colourway samples: genuine marks printed in white, black or reversed out of a field of the
brand's colour, and a counterfeit printed white (synth_photos.colourway).

    python tools/make_sample_colourways.py --out samples/colourways

Each genuine photo is flagged `suspect` by the verifier as photographed (`[verify] colourways = false`) and
passes in the artwork's colours (scanner/colourway.py); the counterfeit, an Apple mark drawn with bolder
lines and printed white, stays `suspect` either way. They were picked from the first 6 seeds of this recipe
on the 20 bundled brands (one-off search, `build/m26/find_cw.py`): familiar brands, one per colourway.
`labels.csv` names each photo's verdict and colourway, so `scanner eval samples/colourways/labels.csv --db DB`
tallies them.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import cv2
import numpy as np

TOOLS = Path(__file__).resolve().parent
BRANDS = TOOLS.parent / "samples" / "brands"
sys.path.insert(0, str(TOOLS))
from synth_photos import colourway_photo, counterfeit_colourway_photo, load_mark  # noqa: E402

# file: (brand, colourway, seed, counterfeit kind or None for genuine, expected verdict)
PHOTOS = {
    "genuine_white_apple.jpg": ("apple", "one_colour_light", 0, None, "pass"),
    "genuine_black_bmw.jpg": ("bmw", "one_colour_dark", 4, None, "pass"),
    "genuine_reversed_bmw.jpg": ("bmw", "reversed", 5, None, "pass"),
    "stroke_white_apple.jpg": ("apple", "one_colour_light", 0, "stroke", "suspect"),
}


def sample_photo(brand: str, way: str, seed: int, kind: str | None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mark = load_mark(BRANDS / brand / "logo.png")
    if kind is None:
        return colourway_photo(mark, way, rng)
    return counterfeit_colourway_photo(mark, kind, 0.7, way, rng)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "labels.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "expected", "brand", "kind", "magnitude", "changes", "colourway"])
        for name, (brand, way, seed, kind, expected) in PHOTOS.items():
            cv2.imwrite(str(args.out / name), sample_photo(brand, way, seed, kind), [cv2.IMWRITE_JPEG_QUALITY, 90])
            writer.writerow([name, expected, brand, kind or "genuine", "0.70" if kind else "", "", way])
    print(f"{args.out}: {len(PHOTOS)} photos in colourways", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
