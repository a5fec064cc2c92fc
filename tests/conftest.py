"""Shared fixtures: the shipped model, the bundled brand artwork and sample photos, a demo index built once."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from scanner.config import DEFAULT_MODEL, DEFAULT_VERIFIER, ScannerConfig
from scanner.embed import Embedder
from scanner.enroll import build_index
from scanner.index import BrandIndex

ROOT = Path(__file__).resolve().parent.parent
BRANDS = ROOT / "samples" / "brands"
PHOTOS = ROOT / "samples" / "photos"
VIDEO = ROOT / "samples" / "video" / "handheld.mp4"


def copied_verifier(folder: Path) -> tuple[Path, dict]:
    """The shipped verifier and its .json copied into `folder` (for tools that record a calibration beside
    the model): (the copy's path, its calibration as shipped)."""
    import json

    model = folder / DEFAULT_VERIFIER.name
    shutil.copy(DEFAULT_VERIFIER, model)
    shutil.copy(DEFAULT_VERIFIER.with_suffix(".json"), model.with_suffix(".json"))
    return model, json.loads(model.with_suffix(".json").read_text())


def labelled_set(folder: Path, slugs: tuple[str, ...]) -> Path:
    """A held-out-style set in folder/set with the bundled brands' refs and an empty photos/ (the test writes
    its photos and labels.csv)."""
    eval_set = folder / "set"
    (eval_set / "photos").mkdir(parents=True)
    for slug in slugs:
        shutil.copytree(BRANDS / slug, eval_set / "refs" / slug)
    return eval_set


def drawn_bolder(artwork: np.ndarray, radius: int) -> np.ndarray:
    """A one-ink RGBA artwork with its strokes grown by `radius` px on each side: a stroke counterfeit."""
    out = artwork.copy()
    ink = np.median(artwork[artwork[..., 3] > 127][:, :3], axis=0)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    out[..., 3] = cv2.dilate(artwork[..., 3], kernel)
    out[..., :3] = ink
    return out


def live_run(db: Path, *options: str) -> list[str]:
    """`scanner run` arguments: the sample handheld video through OpenCV, against the index at `db`."""
    return ["run", "--db", str(db), "--camera", f"opencv:{VIDEO}", *options]


@pytest.fixture(autouse=True)
def private_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Scans record by default into ~/.local/share/scanner: give every test (and its subprocesses) its own home."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder(DEFAULT_MODEL)


@pytest.fixture(scope="session")
def demo_index_path(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """The demo brand index (all bundled brands), built once per session; tests must not modify it."""
    path = tmp_path_factory.mktemp("index") / "demo.db"
    with BrandIndex.create(path, embedder.sha256, embedder.dim) as index:
        report = build_index(BRANDS, index, embedder, ScannerConfig().locate)
    assert not report.errors
    return path


@pytest.fixture(scope="session")
def photo_labels() -> dict[str, dict[str, str]]:
    with (PHOTOS / "labels.csv").open() as fh:
        return {row["file"]: row for row in csv.DictReader(fh)}


@pytest.fixture
def refs_copy(tmp_path: Path) -> Path:
    """A writable reference folder with three brands."""
    folder = tmp_path / "refs"
    for brand in ("adidas", "ferrari", "starbucks"):
        shutil.copytree(BRANDS / brand, folder / brand)
    return folder
