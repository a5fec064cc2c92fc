import sqlite3

import numpy as np
import pytest

from scanner.exc import BrandIndexError, IndexModelMismatchError
from scanner.index import BrandIndex

SHA = "a" * 64


def _unit(seed: int, dim: int = 8) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=dim).astype(np.float32)
    return v / np.linalg.norm(v)


def _crop() -> np.ndarray:
    return np.zeros((16, 16, 3), np.uint8)


@pytest.fixture
def index(tmp_path):
    idx = BrandIndex.create(tmp_path / "i.db", SHA, 8)
    for brand in ("alpha", "beta"):
        idx.upsert_brand(brand, brand.title())
    idx.put_reference("alpha", "refs:a1.png", "s1", _crop(), None, _unit(1))
    idx.put_reference("alpha", "refs:a2.png", "s2", _crop(), None, _unit(2))
    idx.put_reference("beta", "refs:b1.png", "s3", _crop(), np.full((16, 16), 255, np.uint8), _unit(3))
    yield idx
    idx.close()


def test_search_returns_best_reference_per_brand(index):
    hits = index.search(_unit(2), k=5)
    assert [h.brand_id for h in hits] == ["alpha", "beta"]
    assert hits[0].similarity == pytest.approx(1.0, abs=1e-5)
    assert index.reference(hits[0].reference_id).brand_id == "alpha"


def test_a_candidate_says_whether_its_reference_is_artwork(index):
    """alpha's references have no mark mask (photos), beta's has one (artwork): the pipeline's thresholds
    differ by kind."""
    assert {h.brand_id: h.artwork for h in index.search(_unit(2), k=5)} == {"alpha": False, "beta": True}


def test_reference_round_trips_image_and_mask(index):
    hit = index.search(_unit(3), k=1)[0]
    ref = index.reference(hit.reference_id)
    assert ref.crop.shape == (16, 16, 3) and ref.mask is not None and ref.mask.shape == (16, 16)


def test_replacing_a_source_keeps_one_row(index):
    index.put_reference("alpha", "refs:a1.png", "s1-new", _crop(), None, _unit(4))
    assert index.info()["references"] == 3
    assert index.source_sha("alpha", "refs:a1.png") == "s1-new"
    assert index.search(_unit(4), k=1)[0].similarity == pytest.approx(1.0, abs=1e-5)  # matrix reloaded


def test_info_reports_counts_and_model(index):
    info = index.info()
    assert (info["brands"], info["references"], info["model_sha256"], info["embedding_dim"]) == (2, 3, SHA, 8)
    assert info["created_at"]


def test_reopen_with_another_model_is_refused(index, tmp_path):
    index.close()
    with pytest.raises(IndexModelMismatchError, match="rebuild the index"):
        BrandIndex.open(tmp_path / "i.db", "b" * 64)


def test_missing_index_names_the_build_command(tmp_path):
    with pytest.raises(BrandIndexError, match="scanner index build"):
        BrandIndex.open(tmp_path / "none.db", SHA)


def test_garbage_file_is_not_an_index(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"\x00garbage" * 512)
    with pytest.raises(BrandIndexError, match="not a brand index"):
        BrandIndex.open(path, SHA)


def test_other_sqlite_file_is_not_an_index(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table notes (x)")
    with pytest.raises(BrandIndexError, match="not a brand index"):
        BrandIndex.open(path, SHA)


def test_empty_index_search(tmp_path):
    with BrandIndex.create(tmp_path / "e.db", SHA, 8) as idx:
        assert idx.search(_unit(0)) == []


def test_a_match_is_verified_against_the_artwork_it_matched_or_else_the_first(index):
    """beta enrolled in a second colourway: a mark nearest that artwork is verified against it; alpha, a
    photo brand, gains an artwork, which its photo matches are then verified against."""
    gold = np.full((16, 16, 3), 200, np.uint8)
    index.put_reference("beta", "refs:b2.png", "s4", gold, np.full((16, 16), 255, np.uint8), _unit(5))
    index.put_reference("alpha", "refs:a3.png", "s5", _crop(), np.full((16, 16), 255, np.uint8), _unit(6))
    beta_first, beta_gold = (index.search(_unit(seed), k=1)[0] for seed in (3, 5))
    assert beta_gold.reference_id != beta_first.reference_id
    assert index.verification_reference("beta", beta_gold.reference_id).id == beta_gold.reference_id
    assert index.verification_reference("beta", beta_first.reference_id).id == beta_first.reference_id
    photo = index.search(_unit(1), k=1)[0]
    assert photo.brand_id == "alpha" and not photo.artwork
    artwork = index.verification_reference("alpha", photo.reference_id)
    assert artwork.mask is not None and artwork.id == index.search(_unit(6), k=1)[0].reference_id


def test_a_brands_artwork_is_its_first_artwork_reference_and_none_for_a_photo_brand(index):
    beta_artwork = index.artwork_of("beta")
    assert beta_artwork is not None and beta_artwork.mask is not None
    assert beta_artwork.id == index.search(_unit(3), k=1)[0].reference_id
    assert index.artwork_of("alpha") is None  # enrolled from photos alone
    assert index.reference_for(index.search(_unit(1), k=1)[0]).brand_id == "alpha"  # so its photo is verified
