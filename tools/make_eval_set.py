"""Generate a labelled evaluation set of synthetic photos for `scanner eval`.

    python tools/make_eval_set.py simple-icons-*.tgz --out DIR [--split test|calibration] [--per-brand N]

Enrolled brands are the bundled demo brands (samples/brands). For each: N genuine photos, and one photo
per degraded kind (blur, dark, glare -> rescan) and per counterfeit kind (colour, stretch, missing,
mirror -> suspect). Unknown photos come from 20 simple-icons brands that are not enrolled, three each.
The two splits use different seeds and different unknown brands: thresholds were chosen on
`calibration`; figures are reported on `test`. Writes DIR/labels.csv (file,expected,brand).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_simple_icons import import_brands  # noqa: E402
from synth_photos import main as synth  # noqa: E402

BRANDS = Path(__file__).resolve().parent.parent / "samples" / "brands"
SPLITS = {
    "calibration": (
        1,
        "shell,toyota,ikea,dhl,fedex,intel,google,vodafone,redbull,hp,ford,citroen,mini,nbc,"
        "volkswagen,playstation,hermes,airbnb,spotify,netflix",
    ),
    "test": (
        11,
        "lufthansa,nissan,honda,burgerking,visa,mastercard,lenovo,huawei,xiaomi,nvidia,"
        "kfc,ebay,paypal,twitch,bosch,dropbox,ubuntu,tesla,peugeot,renault",
    ),
}
DEGRADED = ("blur", "dark", "glare", "colour", "stretch", "missing", "mirror")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tarball", type=Path, help="simple-icons-<version>.tgz (for the unknown brands' artwork)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--split", choices=sorted(SPLITS), default="test")
    parser.add_argument("--per-brand", type=int, default=5, help="genuine photos per enrolled brand")
    args = parser.parse_args(argv)

    seed, unknown = SPLITS[args.split]
    if (args.out / "labels.csv").exists():
        raise SystemExit(f"{args.out} already holds an evaluation set; remove it first")
    out = str(args.out)
    synth([str(BRANDS), "--out", out, "--per-brand", str(args.per_brand), "--seed", str(seed)])
    for kind in DEGRADED:
        synth([str(BRANDS), "--out", out, "--kind", kind, "--seed", str(seed + 1)])
    with tempfile.TemporaryDirectory() as refs:
        import_brands(args.tarball, Path(refs), unknown.split(","), 256)
        synth([refs, "--out", out, "--kind", "unknown", "--per-brand", "3", "--seed", str(seed + 2)])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
