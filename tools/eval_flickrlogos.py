"""Recognition on real photos: the FlickrLogos-27 query set (135 Flickr photos of 27 brands), read in place.

    python tools/eval_flickrlogos.py --photos ../shared/data/flickrlogos27-query --tarball simple-icons-*.tgz \
        [--model models/embedder_v1_int8.tflite] [--config scanner.toml] [--json out.json]

The photos are evaluation-only and are never copied into the project. Two protocols (the data's README):
- artwork: the 21 brands that simple-icons has are enrolled from their simple-icons artwork; photos of the
  other 6 brands should come out `unknown`;
- photo: each brand is enrolled from one of its photos (the whole photo, through the scanner's own
  locate and crop) and tested on its other four; the enrolling photo rotates, five rounds.
Reported: brand top-1 (the nearest enrolled brand is the right one), best window right (the nearest brand
of the frame's best scene-search window, whatever its similarity: what search could find with a perfect
threshold), recognised (the scan names the right brand: pass or suspect), another brand named (the scan
names a wrong one), unknown rejection (artwork protocol), and of the photos verified as their own brand, how
many are flagged `suspect` (every photo shows genuine goods).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
sys.path.insert(0, str(TOOLS.parent))

from import_simple_icons import import_brands  # noqa: E402

from scanner.config import load_config  # noqa: E402
from scanner.embed import Embedder  # noqa: E402
from scanner.enroll import build_index, enroll_images  # noqa: E402
from scanner.index import BrandIndex  # noqa: E402
from scanner.pipeline import Pipeline  # noqa: E402
from scanner.verdict import Verdict  # noqa: E402

SIMPLE_ICONS = {
    "Adidas": "adidas",
    "Apple": "apple",
    "BMW": "bmw",
    "Citroen": "citroen",
    "Cocacola": "cocacola",
    "DHL": "dhl",
    "Fedex": "fedex",
    "Ferrari": "ferrari",
    "Ford": "ford",
    "Google": "google",
    "HP": "hp",
    "Intel": "intel",
    "McDonalds": "mcdonalds",
    "Mini": "mini",
    "Nbc": "nbc",
    "Nike": "nike",
    "Porsche": "porsche",
    "Puma": "puma",
    "RedBull": "redbull",
    "Starbucks": "starbucks",
    "Vodafone": "vodafone",
}


def score(pipeline: Pipeline, photos: list[tuple[Path, str | None]]) -> dict[str, float]:
    top1 = window_top1 = recognised = wrong = known = unknown_total = rejected = verified = flagged = 0
    for path, brand in photos:
        frame, result = pipeline.scan_file(path)
        nearest = result.candidates[0].brand_id if result.candidates else None
        if brand is None:
            unknown_total += 1
            rejected += result.brand is None
        else:
            known += 1
            top1 += nearest == brand
            recognised += result.brand == brand
            wrong += result.brand not in (None, brand)
            # Every photo shows genuine goods: a verified one called `suspect` is a false flag.
            if result.brand == brand and result.authenticity is not None:
                verified += 1
                flagged += result.verdict is Verdict.SUSPECT
            if frame is not None:  # the frame's best search window, whatever its similarity
                found = pipeline.search_scene(frame)
                window_top1 += bool(found.candidates) and found.candidates[0].brand_id == brand
    return {
        "known": known,
        "top1": top1 / max(1, known),
        "window_top1": window_top1 / max(1, known),
        "recognised": recognised / max(1, known),
        "wrong": wrong / max(1, known),
        "unknown": unknown_total,
        "unknown_rejection": rejected / unknown_total if unknown_total else float("nan"),
        "verified": verified,
        "flagged": flagged,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, required=True, help="the flickrlogos27-query folder")
    parser.add_argument("--tarball", type=Path, required=True, help="simple-icons npm tarball")
    parser.add_argument("--model", type=Path, help="embedder .tflite (default: the config's)")
    parser.add_argument("--config", type=Path, help="scanner.toml (default: built-in settings)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    config = load_config(args.config)
    if args.model:
        config = replace(config, model=replace(config.model, path=str(args.model)))
    embedder = Embedder(Path(config.model.path))
    with (args.photos / "labels.csv").open() as fh:
        labels = [(args.photos / "photos" / row["file"], row["brand"]) for row in csv.DictReader(fh)]
    report: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        # Artwork protocol.
        refs, db = Path(tmp) / "refs", Path(tmp) / "artwork.db"
        import_brands(args.tarball, refs, sorted(SIMPLE_ICONS.values()), 256)
        with BrandIndex.create(db, embedder.sha256, embedder.dim) as index:
            build_index(refs, index, embedder, config.locate)
        with Pipeline(config, db) as pipeline:
            report["artwork"] = score(pipeline, [(p, SIMPLE_ICONS.get(b)) for p, b in labels])
        # Photo protocol: five rounds, each brand enrolled from its n-th photo.
        by_brand: dict[str, list[Path]] = defaultdict(list)
        for path, brand in labels:
            by_brand[brand].append(path)
        rounds = []
        for n in range(5):
            db = Path(tmp) / f"photo{n}.db"
            with BrandIndex.create(db, embedder.sha256, embedder.dim) as index:
                for brand, paths in by_brand.items():
                    enroll_images(index, embedder, config.locate, brand, [paths[n]], brand)
            with Pipeline(config, db) as pipeline:
                rounds.append(
                    score(pipeline, [(p, b) for b, ps in by_brand.items() for i, p in enumerate(ps) if i != n])
                )
        report["photo"] = {
            k: sum(r[k] for r in rounds) / len(rounds) for k in ("top1", "window_top1", "recognised", "wrong")
        }
        for count in ("known", "verified", "flagged"):
            report["photo"][count] = sum(r[count] for r in rounds)
    print(f"model {Path(config.model.path).name} (sha256 {embedder.sha256[:12]}), {len(labels)} photos")
    a, p = report["artwork"], report["photo"]
    print(
        f"artwork enrolment: brand top-1 {a['top1']:.1%}, best window right {a['window_top1']:.1%}, recognised "
        f"{a['recognised']:.1%}, another brand named {a['wrong']:.1%} ({a['known']} photos of "
        f"21 enrolled brands); unknown rejection {a['unknown_rejection']:.1%} ({a['unknown']} photos of 6 others); "
        f"genuine goods flagged `suspect`: {a['flagged']} of {a['verified']} verified as their brand"
    )
    print(
        f"photo enrolment:   brand top-1 {p['top1']:.1%}, best window right {p['window_top1']:.1%}, recognised "
        f"{p['recognised']:.1%}, another brand named {p['wrong']:.1%} "
        f"({p['known']} scans over 5 rounds); genuine goods flagged `suspect`: {p['flagged']} of {p['verified']} "
        "verified as their brand"
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
