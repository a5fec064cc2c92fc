"""Which simple-icons brands the embedder may train on, and which it must never see.

Held out: every brand whose slug hashes into the lowest 20% (a stable, order-free rule), plus brands used
for evaluation anywhere: the bundled demo brands, the unknown-brand lists of tools/make_eval_set.py, and the
FlickrLogos-27 brands that simple-icons has. Held-out brands appear only as brands enrolled at index time
(or as unknowns), which is how a scanner meets a rights holder's new artwork.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

HELD_OUT_SHARE = 20  # percent, by slug hash
DEMO_BRANDS = sorted(
    p.name for p in (Path(__file__).resolve().parent.parent / "samples" / "brands").iterdir() if p.is_dir()
)
FLICKRLOGOS_BRANDS = [
    "adidas",
    "apple",
    "bmw",
    "citroen",
    "cocacola",
    "dhl",
    "fedex",
    "ferrari",
    "ford",
    "google",
    "hp",
    "intel",
    "mcdonalds",
    "mini",
    "nbc",
    "nike",
    "porsche",
    "puma",
    "redbull",
    "starbucks",
    "vodafone",
]


def _eval_unknowns() -> list[str]:
    from make_eval_set import SPLITS

    return [slug for _, brands in SPLITS.values() for slug in brands.split(",")]


def held_out(slug: str) -> bool:
    bucket = int(hashlib.sha1(slug.encode()).hexdigest(), 16) % 100
    return bucket < HELD_OUT_SHARE or slug in ALWAYS_HELD_OUT


ALWAYS_HELD_OUT = set(DEMO_BRANDS) | set(FLICKRLOGOS_BRANDS) | set(_eval_unknowns())


def training_brands(refs: Path, limit: int | None = None) -> list[str]:
    """The trainable brands of a reference folder (REFS/<slug>/logo.png), sorted; the first `limit` when given.
    Exits with a message when there are none: a recipe has nothing to render or train on then."""
    if not refs.is_dir():
        raise SystemExit(f"{refs}: no such folder (make it with tools/import_simple_icons.py TARBALL --out {refs})")
    slugs = sorted(p.name for p in refs.iterdir() if (p / "logo.png").is_file())
    train, held = split(slugs)
    if not train:
        raise SystemExit(
            f"{refs}: no brand to train on ({len(slugs)} with a logo.png, {len(held)} of them held out for "
            "evaluation); import every brand with tools/import_simple_icons.py TARBALL --out FOLDER"
        )
    return train[:limit] if limit else train


def split(slugs: list[str]) -> tuple[list[str], list[str]]:
    """(train, held out), both sorted."""
    train = sorted(s for s in slugs if not held_out(s))
    return train, sorted(s for s in slugs if held_out(s))
