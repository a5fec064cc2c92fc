"""Import brand marks from the `simple-icons` npm tarball into a reference folder.

    npm pack simple-icons                      # fetches simple-icons-<version>.tgz (CC0)
    python tools/import_simple_icons.py simple-icons-*.tgz --out refs/ [--brands adidas,nike] [--size 256]

Writes `<out>/<slug>/logo.png` (RGBA, the mark in its brand colour on a transparent canvas, centred with a
margin) and `<out>/<slug>/brand.json` (name, hex colour, aliases, source, licence). Without --brands every
icon in the tarball is imported. Needs cairosvg (the `svg` extra).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tarfile
from pathlib import Path

import cv2
import numpy as np

MARGIN = 0.1  # fraction of the canvas left empty on each side


def read_tarball(tarball: Path) -> tuple[str, list[dict], dict[str, bytes]]:
    """Return (version, icon metadata list, {slug: svg bytes}) from an npm-packed simple-icons tarball."""
    with tarfile.open(tarball, "r:gz") as tar:
        package = json.load(tar.extractfile("package/package.json"))  # type: ignore[arg-type]
        icons = json.load(tar.extractfile("package/data/simple-icons.json"))  # type: ignore[arg-type]
        svgs = {}
        for member in tar.getmembers():
            match = re.fullmatch(r"package/icons/(.+)\.svg", member.name)
            if match and member.isfile():
                svgs[match.group(1)] = tar.extractfile(member).read()  # type: ignore[union-attr]
    return package["version"], icons, svgs


def slug_of(icon: dict) -> str:
    """simple-icons' own slug when given, else its documented title-to-slug rule."""
    if icon.get("slug"):
        return icon["slug"]
    title = icon["title"].lower()
    for char, word in {"+": "plus", ".": "dot", "&": "and"}.items():
        title = title.replace(char, word)
    return re.sub(r"[^a-z0-9]", "", title)


def render_mark(svg: bytes, hex_colour: str, size: int) -> np.ndarray:
    """Render the single-path icon in its brand colour, centred on a transparent size x size canvas (BGRA)."""
    import cairosvg

    coloured = svg.replace(b"<svg ", f'<svg fill="#{hex_colour}" '.encode(), 1)
    inner = int(round(size * (1 - 2 * MARGIN)))
    png = cairosvg.svg2png(bytestring=coloured, output_width=inner, output_height=inner)
    mark = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    canvas = np.zeros((size, size, 4), np.uint8)
    top = (size - mark.shape[0]) // 2
    left = (size - mark.shape[1]) // 2
    canvas[top : top + mark.shape[0], left : left + mark.shape[1]] = mark
    return canvas


def brand_record(icon: dict, version: str) -> dict:
    aliases = icon.get("aliases", {})
    names = list(aliases.get("aka", [])) + list(aliases.get("loc", {}).values())
    return {
        "name": icon["title"],
        "colour": f"#{icon['hex'].upper()}",
        "aliases": names,
        "source": f"simple-icons {version}",
        "licence": "CC0-1.0",
    }


def import_brands(tarball: Path, out: Path, slugs: list[str] | None, size: int) -> list[str]:
    version, icons, svgs = read_tarball(tarball)
    by_slug = {slug_of(icon): icon for icon in icons}
    wanted = slugs if slugs else sorted(by_slug)
    missing = [slug for slug in wanted if slug not in by_slug or slug not in svgs]
    if missing:
        raise SystemExit(f"not in simple-icons {version}: {', '.join(missing)}")
    for slug in wanted:
        folder = out / slug
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / "logo.png"), render_mark(svgs[slug], by_slug[slug]["hex"], size))
        record = brand_record(by_slug[slug], version)
        (folder / "brand.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    return wanted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tarball", type=Path, help="simple-icons-<version>.tgz from `npm pack simple-icons`")
    parser.add_argument("--out", type=Path, required=True, help="reference folder to write")
    parser.add_argument("--brands", help="comma-separated slugs (default: every icon)")
    parser.add_argument("--size", type=int, default=256, help="canvas size in pixels (default 256)")
    args = parser.parse_args(argv)
    slugs = [s.strip() for s in args.brands.split(",") if s.strip()] if args.brands else None
    written = import_brands(args.tarball, args.out, slugs, args.size)
    print(f"wrote {len(written)} brands to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
