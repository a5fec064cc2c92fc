"""Brands enrolled from photos of genuine goods and no artwork: verified photo against photo, and judged by
their own threshold (`photo_suspect_threshold`, tools/calibrate_verifier.py --photo-references)."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import replace

import cv2
import numpy as np
import pytest

from scanner.config import DEFAULT_VERIFIER, ScannerConfig
from scanner.display import shown_reason
from scanner.exc import ModelError
from scanner.pipeline import Pipeline
from scanner.verdict import AGAINST_PHOTO, CONSISTENT, Verdict
from tests.conftest import BRANDS, ROOT, copied_verifier, labelled_set

sys.path.insert(0, str(ROOT / "tools"))
from calibrate_verifier import main as calibrate  # noqa: E402
from enrol_photos import main as enrol_photos  # noqa: E402
from synth_photos import counterfeit_photo, load_mark, photograph, photograph_views  # noqa: E402


def _refs(tmp_path, *slugs: str):
    refs = tmp_path / "refs"
    for slug in slugs:
        shutil.copytree(BRANDS / slug, refs / slug)
    return refs


def _photo_index(tmp_path, *slugs: str):
    db = tmp_path / "photos.db"
    assert enrol_photos([str(_refs(tmp_path, *slugs)), "--db", str(db), "--per-brand", "1", "--photos-only"]) == 0
    return db


def _with_thresholds(photo: float) -> ScannerConfig:
    config = ScannerConfig()
    return replace(config, verify=replace(config.verify, photo_suspect_threshold=photo))


def test_a_photos_only_index_names_its_brands_and_is_made_new(tmp_path):
    from scanner.embed import Embedder
    from scanner.index import BrandIndex

    db = _photo_index(tmp_path, "mcdonalds", "starbucks")
    with BrandIndex.open(db, Embedder(ScannerConfig().model.path).sha256) as index:
        assert index.brand("mcdonalds").name == "McDonald's"
        photos = index.db.execute("select count(*), count(mask) from refs where brand_id = 'mcdonalds'").fetchone()
    assert tuple(photos) == (1, 0)  # one photo, no artwork mask
    with pytest.raises(SystemExit):
        enrol_photos([str(tmp_path / "refs"), "--db", str(db), "--photos-only"])  # never over an existing index


def test_a_photo_reference_is_judged_by_the_photo_threshold(tmp_path, demo_index_path):
    """The same genuine McDonald's photo: against a photo reference, a photo threshold of 1 flags it and one of
    0 does not; against the artwork the photo threshold plays no part."""
    photo = photograph(load_mark(BRANDS / "mcdonalds" / "logo.png"), np.random.default_rng(5), "genuine")
    db = _photo_index(tmp_path, "mcdonalds", "starbucks", "adidas")
    with Pipeline(_with_thresholds(1.0), db) as strict, Pipeline(_with_thresholds(1e-6), db) as lenient:
        flagged, passed = strict.scan(photo), lenient.scan(photo)
    assert flagged.brand == passed.brand == "mcdonalds"
    assert flagged.authenticity == passed.authenticity
    assert flagged.verdict is Verdict.SUSPECT and passed.verdict is Verdict.PASS
    # Either way the words say it was compared with a photo, and a pass's one line on the screen says so too.
    assert flagged.reasons[-1] == passed.reasons[-1] == AGAINST_PHOTO
    assert shown_reason(passed) == f"{CONSISTENT} (against a genuine photo)"
    assert shown_reason(flagged) == flagged.reasons[0] != AGAINST_PHOTO
    with Pipeline(_with_thresholds(1.0), demo_index_path) as against_artwork:
        judged = against_artwork.scan(photo)
    assert judged.brand == "mcdonalds" and judged.verdict is Verdict.PASS
    assert AGAINST_PHOTO not in judged.reasons and shown_reason(judged) == CONSISTENT


def test_photo_references_are_scored_by_the_model_trained_on_them(tmp_path, demo_index_path):
    """With [verify] photo_model set to verifier v8 (trained with photo references), a mark against a photo
    reference is scored by it, at its own photo threshold, and against artwork by [verify] model; the result
    names the model that scored it. The shipped config's empty photo_model uses the artwork's model for both."""
    config = ScannerConfig()
    config = replace(
        config, verify=replace(config.verify, photo_model=str(ROOT / "models" / "verifier_v8_int8.tflite"))
    )
    photo = photograph(load_mark(BRANDS / "mcdonalds" / "logo.png"), np.random.default_rng(5), "genuine")
    db = _photo_index(tmp_path, "mcdonalds", "starbucks", "adidas")
    with Pipeline(config, db) as photos, Pipeline(config, demo_index_path) as artwork:
        assert photos.verifier is not None and photos.photo_verifier is not None
        trained = json.loads(photos.photo_verifier.path.with_suffix(".json").read_text())
        assert trained["photo_references"] and photos.photo_suspect_threshold == trained["photo_suspect_threshold"]
        against_photo, against_artwork = photos.scan(photo), artwork.scan(photo)
    assert against_photo.brand == against_artwork.brand == "mcdonalds"
    assert against_photo.verifier_sha256 == photos.photo_verifier.sha256 != photos.verifier.sha256
    assert against_artwork.verifier_sha256 == photos.verifier.sha256
    with Pipeline(ScannerConfig(), db) as single:
        assert single.photo_verifier is single.verifier
        assert single.scan(photo).verifier_sha256 == single.verifier.sha256


def test_a_photo_model_that_takes_another_pair_is_refused(tmp_path):
    """One alignment serves both models, so a photo model aligned otherwise is refused by name."""
    model = tmp_path / "other.tflite"
    shutil.copy(DEFAULT_VERIFIER, model)
    calibration = json.loads(DEFAULT_VERIFIER.with_suffix(".json").read_text())
    model.with_suffix(".json").write_text(json.dumps({**calibration, "alignment": "similarity"}))
    config = ScannerConfig()
    config = replace(config, verify=replace(config.verify, photo_model=str(model)))
    with pytest.raises(ModelError, match="photo_model"):
        Pipeline(config, _photo_index(tmp_path, "mcdonalds"))


def test_photo_threshold_is_calibrated_on_photos_and_recorded_beside_the_model(tmp_path, capsys):
    """Two genuine photos and one counterfeit of each of three brands, the brands enrolled from a photo each."""
    eval_set = labelled_set(tmp_path, ("mcdonalds", "starbucks", "adidas"))
    rows = ["file,expected,brand,kind,magnitude"]
    for folder in sorted((eval_set / "refs").iterdir()):
        slug, mark = folder.name, load_mark(folder / "logo.png")
        for n in range(2):
            name = f"photos/genuine_{slug}_{n}.jpg"
            cv2.imwrite(str(eval_set / name), photograph(mark, np.random.default_rng(n), "genuine", rich=True))
            rows.append(f"{name},pass,{slug},genuine,")
        fake, kind, _, _ = counterfeit_photo(mark, "missing", 0.9, np.random.default_rng(7))
        cv2.imwrite(str(eval_set / f"photos/{kind}_{slug}.jpg"), fake)
        rows.append(f"photos/{kind}_{slug}.jpg,suspect,{slug},{kind},0.9")
    (eval_set / "labels.csv").write_text("\n".join(rows) + "\n")

    model, before = copied_verifier(tmp_path)
    args = ["--model", str(model), "--set", str(eval_set), "--flag", "0.5", "--photo-references", "1"]
    assert calibrate(args) == 0
    after = json.loads(model.with_suffix(".json").read_text())
    assert after["suspect_threshold"] == before["suspect_threshold"]  # the artwork's operating point stays
    assert 0.0 < after["photo_suspect_threshold"] < 1.0
    assert after["photo_calibrated_with"] == "1 genuine photo per brand, no artwork"
    printed = capsys.readouterr().out
    assert "photo_suspect_threshold" in printed and "no check beside the score" in printed
    with pytest.raises(SystemExit):
        calibrate(["--model", str(model), "--views-set", str(eval_set), "--photo-references", "1"])


def test_an_item_of_a_photo_enrolled_brand_is_judged_by_the_photo_threshold(tmp_path, demo_index_path):
    """Two views of genuine McDonald's goods: a brand enrolled from photos alone takes its photo threshold for
    the views' mean, a brand with artwork the calibrated views threshold."""
    views = photograph_views(load_mark(BRANDS / "mcdonalds" / "logo.png"), np.random.default_rng(2), 2, rich=True)
    config = _with_thresholds(1e-6)
    config = replace(config, verify=replace(config.verify, views_suspect_threshold=1.0))
    db = _photo_index(tmp_path, "mcdonalds", "starbucks", "adidas")
    with Pipeline(config, db) as photos, Pipeline(config, demo_index_path) as artwork:
        against_photos = photos.combine([photos.scan(v) for v in views], views)[1]
        against_artwork = artwork.combine([artwork.scan(v) for v in views], views)[1]
    assert against_photos.brand == against_artwork.brand == "mcdonalds"
    assert len([v for v in against_photos.views if v.get("authenticity") is not None]) == 2
    assert against_photos.verdict is Verdict.PASS and against_artwork.verdict is Verdict.SUSPECT
