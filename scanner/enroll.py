"""Enrolment: turn brand artwork or photos into index references (build a whole folder, or add images to one brand).

A reference goes through the same locate and crop as a scan, so query and reference embeddings are
comparable; artwork with transparency is put on a plain contrasting background first, and its alpha
becomes the reference mask the verifier compares silhouettes against.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .config import LocateConfig
from .embed import Embedder, file_sha256
from .exc import ImageError, ScannerError
from .imageio import composite_on_background, image_suffixes, read_image
from .index import BrandIndex
from .locate import CROP_SIZE, Box, crop, locate

logger = logging.getLogger(__name__)

REFS_PREFIX = "refs:"  # references that mirror a file in the reference folder
ENROLLED_PREFIX = "enrolled:"  # references added one by one with `scanner enroll`


@dataclass
class PreparedReference:
    crop: np.ndarray
    mask: np.ndarray | None
    embedding: np.ndarray


@dataclass
class EnrolReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    brands: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.brands)} brands: {self.added} references added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.removed} removed, {len(self.errors)} errors"
        )


def frame_reference(image: np.ndarray, config: LocateConfig) -> tuple[np.ndarray, np.ndarray | None, Box]:
    """(crop, mask or None, box in the image): a reference framed as a scan frames its query."""
    bgr, alpha = composite_on_background(image)
    location = locate(bgr, config)
    reference_crop = crop(bgr, location.box, CROP_SIZE)
    mask = crop(alpha, location.box, CROP_SIZE) if alpha is not None else None
    return reference_crop, mask, location.box


def prepare_reference(image: np.ndarray, embedder: Embedder, config: LocateConfig) -> PreparedReference:
    reference_crop, mask, _ = frame_reference(image, config)
    return PreparedReference(reference_crop, mask, embedder.embed(reference_crop))


def read_brand_json(folder: Path) -> dict:
    path = folder / "brand.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ScannerError(f"{path} is not valid JSON: {err}") from err
    if not isinstance(data, dict):
        raise ScannerError(f"{path} must hold a JSON object with name, colour and aliases")
    return data


def brand_folders(refs_dir: Path) -> list[Path]:
    if not refs_dir.is_dir():
        raise ScannerError(f"reference folder not found: {refs_dir} (one subfolder per brand expected)")
    folders = sorted(p for p in refs_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise ScannerError(f"{refs_dir} has no brand subfolders: put each brand's images in REFS_DIR/<brand_id>/")
    return folders


def _add(
    index: BrandIndex,
    embedder: Embedder,
    config: LocateConfig,
    brand_id: str,
    source: str,
    path: Path,
    report: EnrolReport,
) -> None:
    sha = file_sha256(path)
    known = index.source_sha(brand_id, source)
    if known == sha:
        report.unchanged += 1
        return
    try:
        prepared = prepare_reference(read_image(path, keep_alpha=True), embedder, config)
    except ImageError as err:
        report.errors.append(str(err))
        return
    index.put_reference(brand_id, source, sha, prepared.crop, prepared.mask, prepared.embedding)
    if known is None:
        report.added += 1
    else:
        report.updated += 1


def name_brand(index: BrandIndex, folder: Path) -> str:
    """The folder's brand in the index, named, coloured and aliased as its brand.json says; its id."""
    meta = read_brand_json(folder)
    index.upsert_brand(
        folder.name, meta.get("name") or folder.name, meta.get("colour"), list(meta.get("aliases") or [])
    )
    return folder.name


def build_index(
    refs_dir: Path,
    index: BrandIndex,
    embedder: Embedder,
    config: LocateConfig,
    progress: Callable[[Iterable[Path]], Iterable[Path]] = lambda items: items,
) -> EnrolReport:
    """Mirror REFS_DIR into the index: new or changed files are embedded, deleted ones removed, the rest kept.

    Brands in the index without a folder here are left alone, so several folders can feed one index.
    """
    report = EnrolReport()
    suffixes = image_suffixes()
    for folder in progress(brand_folders(Path(refs_dir))):
        brand_id = name_brand(index, folder)
        report.brands.add(brand_id)
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in suffixes)
        if not files:
            report.errors.append(f"{folder}: no images ({', '.join(suffixes)})")
        for path in files:
            _add(index, embedder, config, brand_id, REFS_PREFIX + path.name, path, report)
        present = {REFS_PREFIX + p.name for p in files}
        stale = [s for s in index.sources(brand_id) if s.startswith(REFS_PREFIX) and s not in present]
        index.remove_references(brand_id, stale)
        report.removed += len(stale)
    return report


def enroll_images(
    index: BrandIndex, embedder: Embedder, config: LocateConfig, brand_id: str, images: list[Path], name: str | None
) -> EnrolReport:
    """Add images to one brand (created when new); the same file enrolled twice is kept once."""
    report = EnrolReport(brands={brand_id})
    if not index.has_brand(brand_id):
        index.upsert_brand(brand_id, name or brand_id)
    elif name:
        current = index.brand(brand_id)
        index.upsert_brand(brand_id, name, current.colour, current.aliases)
    for path in images:
        path = Path(path)
        if not path.is_file():
            report.errors.append(f"{path}: no such file")
            continue
        _add(index, embedder, config, brand_id, ENROLLED_PREFIX + file_sha256(path)[:16], path, report)
    return report
