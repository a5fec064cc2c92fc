import shutil

import cv2
import numpy as np
import pytest

from scanner.config import LocateConfig
from scanner.enroll import build_index, enroll_images
from scanner.exc import ScannerError
from scanner.index import BrandIndex
from tests.conftest import PHOTOS

CONFIG = LocateConfig()


@pytest.fixture
def index(tmp_path, embedder):
    with BrandIndex.create(tmp_path / "i.db", embedder.sha256, embedder.dim) as idx:
        yield idx


def test_build_reads_brand_json(index, embedder, refs_copy):
    report = build_index(refs_copy, index, embedder, CONFIG)
    assert (report.added, report.errors) == (3, [])
    brand = index.brand("ferrari")
    assert (brand.name, brand.colour) == ("Ferrari", "#D40000")


def test_reference_keeps_the_artwork_mask(index, embedder, refs_copy):
    build_index(refs_copy, index, embedder, CONFIG)
    hit = [
        c for c in index.search(np.ones(embedder.dim, np.float32) / np.sqrt(embedder.dim), 3) if c.brand_id == "adidas"
    ]
    ref = index.reference(hit[0].reference_id)
    assert ref.mask is not None and ref.mask.shape == (224, 224) and 0 < (ref.mask > 0).mean() < 0.8


def test_rebuild_updates_only_what_changed(index, embedder, refs_copy):
    build_index(refs_copy, index, embedder, CONFIG)
    again = build_index(refs_copy, index, embedder, CONFIG)
    assert (again.added, again.updated, again.unchanged, again.removed) == (0, 0, 3, 0)

    logo = refs_copy / "ferrari" / "logo.png"
    image = cv2.imread(str(logo), cv2.IMREAD_UNCHANGED)
    cv2.imwrite(str(logo), cv2.flip(image, 1))
    shutil.copy(refs_copy / "adidas" / "logo.png", refs_copy / "adidas" / "alt.png")
    (refs_copy / "starbucks" / "logo.png").unlink()
    cv2.imwrite(str(refs_copy / "starbucks" / "new.png"), image)
    changed = build_index(refs_copy, index, embedder, CONFIG)
    assert (changed.added, changed.updated, changed.unchanged, changed.removed) == (2, 1, 1, 1)
    assert sorted(index.sources("starbucks")) == ["refs:new.png"]


def test_bad_reference_image_is_reported_and_the_rest_indexed(index, embedder, refs_copy):
    (refs_copy / "adidas" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    report = build_index(refs_copy, index, embedder, CONFIG)
    assert report.added == 3 and len(report.errors) == 1 and "broken.png" in report.errors[0]


def test_empty_reference_folder_is_an_error(index, embedder, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ScannerError, match="no brand subfolders"):
        build_index(tmp_path / "empty", index, embedder, CONFIG)


def test_enrol_a_photo_then_it_matches_itself(index, embedder):
    photo = PHOTOS / "unknown_shell_0.jpg"
    report = enroll_images(index, embedder, CONFIG, "shell", [photo], "Shell")
    assert report.added == 1 and index.brand("shell").name == "Shell"
    again = enroll_images(index, embedder, CONFIG, "shell", [photo], None)
    assert (again.added, again.unchanged) == (0, 1)
    assert index.info()["references"] == 1


def test_enrol_missing_file_is_reported(index, embedder, tmp_path):
    report = enroll_images(index, embedder, CONFIG, "x", [tmp_path / "nope.jpg"], None)
    assert report.added == 0 and "no such file" in report.errors[0]
