"""Make the bundled two-view samples: two items, each photographed from two angles (synth_photos.photograph_views).

    python tools/make_sample_views.py --out samples/views

- `genuine_adidas/`: a genuine mark whose first view the verifier flags on its own (authenticity 0.33: a
  hard capture) and whose second view passes (0.88); judged as one item from both, it passes.
- `stroke_newbalance/`: lines drawn thinner; the first view passes on its own (0.56) and the second does not
  (0.24); judged from both, the item is `suspect`.

Both were picked from the first 400 seeds of this recipe on the 20 bundled brands (one-off search,
`build/m25/find_demo.py`): of the items whose first view alone gets the verdict wrong and whose two views
together get it right (6 genuine, 11 counterfeit), a familiar brand and a kind the scanner words.
`scanner scan --item samples/views/stroke_newbalance/*.jpg` scans one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

TOOLS = Path(__file__).resolve().parent
BRANDS = TOOLS.parent / "samples" / "brands"
sys.path.insert(0, str(TOOLS))
from counterfeits import counterfeit_any  # noqa: E402
from synth_photos import load_mark, photograph_views  # noqa: E402

# item folder: (brand, seed, counterfeit kind or None for genuine); seeds as the search drew them
ITEMS = {
    "genuine_adidas": ("adidas", 10_160, None),
    "stroke_newbalance": ("newbalance", 10_189, "stroke"),
}


def item_views(brand: str, seed: int, kind: str | None) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    mark = load_mark(BRANDS / brand / "logo.png")
    if kind is not None:
        _, mark, _, _ = counterfeit_any(mark, kind, float(rng.uniform(0.2, 0.6)), rng)
    return photograph_views(mark, rng, 2, rich=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    for name, (brand, seed, kind) in ITEMS.items():
        (args.out / name).mkdir(parents=True, exist_ok=True)
        for n, photo in enumerate(item_views(brand, seed, kind), start=1):
            cv2.imwrite(str(args.out / name / f"view{n}.jpg"), photo, [cv2.IMWRITE_JPEG_QUALITY, 90])
    print(f"{args.out}: {len(ITEMS)} items, 2 views each", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
