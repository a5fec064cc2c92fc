"""The derived search graph: built from SQLite when an index is large, persisted, rebuilt when stale."""

import json

import numpy as np
import pytest

from scanner import index as index_module
from scanner import vectors
from scanner.index import BrandIndex

pytest.importorskip("usearch")
SHA = "c" * 64
DIM = 32


def _unit(rng, n):
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture
def big_index(tmp_path, monkeypatch):
    """An index of 600 references (30 brands) with the graph threshold lowered to 100."""
    monkeypatch.setattr(index_module, "ANN_MIN_REFERENCES", 100)
    rng = np.random.default_rng(0)
    path = tmp_path / "big.db"
    crop = np.zeros((8, 8, 3), np.uint8)
    with BrandIndex.create(path, SHA, DIM) as idx:
        for b in range(30):
            idx.upsert_brand(f"b{b}", f"B{b}")
            for r, vector in enumerate(_unit(rng, 20)):
                idx.put_reference(f"b{b}", f"refs:{r}", "x", crop, None, vector)
    return path


def test_large_index_builds_and_reuses_a_graph(big_index):
    graph, stamp = vectors.graph_paths(big_index)
    with BrandIndex.open(big_index, SHA) as idx:
        idx.load()
        assert isinstance(idx._searcher, vectors.GraphSearch)
    assert graph.exists() and json.loads(stamp.read_text())["references"] == 600
    built = graph.stat().st_mtime_ns
    with BrandIndex.open(big_index, SHA) as idx:
        idx.load()
    assert graph.stat().st_mtime_ns == built  # fresh: loaded, not rebuilt


def test_graph_answers_like_exact_search(big_index, monkeypatch):
    # Built on one thread: on every core the links depend on how the threads interleave, and under load (CI
    # beside another job) a build once agreed on only 44 of 50. One thread gives one graph: 49 of 50 here.
    monkeypatch.setattr(vectors.os, "cpu_count", lambda: 1)
    rng = np.random.default_rng(1)
    with BrandIndex.open(big_index, SHA) as idx:
        vectors_by_id = dict(idx.db.execute("select id, embedding from refs").fetchall())
        ids = np.array(list(vectors_by_id), np.int64)
        matrix = np.stack([np.frombuffer(vectors_by_id[i], np.float32) for i in ids])
        exact = vectors.ExactSearch(ids, matrix)
        agree, close = 0, 0
        for q in _unit(rng, 50):
            graph_best = idx.search(q, 1)[0]
            ref_id, similarity = exact.search(q, 1)
            agree += graph_best.reference_id == int(ref_id[0])
            true_similarity = float(matrix[list(ids).index(graph_best.reference_id)] @ q)
            close += float(similarity[0]) - true_similarity < 0.03
    # Random vectors have near-ties that int8 graph vectors can order the other way: what the graph returns is
    # the true nearest or one within int8 rounding of it, all but once or twice (measured: 49 of 50 agree, and
    # all 50 within 0.03; on every core under load once 48 agree and one answer 0.057 short, once 44 agree).
    assert agree >= 46 and close >= 48


def test_stale_graph_is_rebuilt_after_a_write(big_index):
    graph, stamp = vectors.graph_paths(big_index)
    with BrandIndex.open(big_index, SHA) as idx:
        idx.load()
        before = json.loads(stamp.read_text())
        idx.put_reference(
            "b0", "refs:new", "y", np.zeros((8, 8, 3), np.uint8), None, _unit(np.random.default_rng(5), 1)[0]
        )
        hit = idx.search(
            np.frombuffer(
                idx.db.execute("select embedding from refs where source = 'refs:new'").fetchone()[0], np.float32
            ),
            1,
        )[0]
    after = json.loads(stamp.read_text())
    assert after["references"] == 601 and after["revision"] != before["revision"]
    assert hit.brand_id == "b0" and hit.similarity > 0.99


def test_unreadable_stamp_means_rebuild(big_index):
    graph, stamp = vectors.graph_paths(big_index)
    with BrandIndex.open(big_index, SHA) as idx:
        idx.load()
    stamp.write_text("{not json")
    with BrandIndex.open(big_index, SHA) as idx:
        idx.load()
    assert json.loads(stamp.read_text())["references"] == 600


def test_small_index_stays_exact(tmp_path):
    with BrandIndex.create(tmp_path / "small.db", SHA, DIM) as idx:
        idx.upsert_brand("a", "A")
        idx.put_reference(
            "a", "refs:1", "x", np.zeros((8, 8, 3), np.uint8), None, _unit(np.random.default_rng(0), 1)[0]
        )
        idx.load()
        assert isinstance(idx._searcher, vectors.ExactSearch)
    assert not vectors.graph_paths(tmp_path / "small.db")[0].exists()


def test_search_breadth_reaches_the_graph(big_index):
    """[match] search_breadth is the graph's expansion_search; a stored reference is found at any breadth."""
    for breadth in (16, 400):
        with BrandIndex.open(big_index, SHA) as idx:
            brand, blob = idx.db.execute("select brand_id, embedding from refs where id = 7").fetchone()
            idx.load(breadth)
            assert isinstance(idx._searcher, vectors.GraphSearch) and idx._searcher.index.expansion_search == breadth
            assert idx.search(np.frombuffer(blob, np.float32), 1)[0].brand_id == brand


def test_search_breadth_must_be_positive(tmp_path):
    from scanner.config import ConfigError, load_config

    path = tmp_path / "s.toml"
    path.write_text("[match]\nsearch_breadth = 0\n")
    with pytest.raises(ConfigError, match="search_breadth"):
        load_config(path)


def _exact(idx):
    rows = dict(idx.db.execute("select id, embedding from refs").fetchall())
    ids = np.array(list(rows), np.int64)
    return vectors.ExactSearch(ids, np.stack([np.frombuffer(rows[i], np.float32) for i in ids]))


def test_one_search_can_look_wider(big_index, tmp_path):
    """search(..., breadth=) widens that one search (the pipeline's second look at a located logo that matched
    nothing) and leaves the graph's setting as it was; an exact index is not approximate."""
    queries = _unit(np.random.default_rng(2), 50)
    with BrandIndex.open(big_index, SHA) as idx:
        idx.load(1)
        assert idx.approximate
        exact = _exact(idx)
        truth = [int(exact.search(q, 1)[0][0]) for q in queries]
        narrow = sum(idx.search(q, 1)[0].reference_id == t for q, t in zip(queries, truth, strict=True))
        wide = sum(idx.search(q, 1, breadth=400)[0].reference_id == t for q, t in zip(queries, truth, strict=True))
        assert idx._searcher.index.expansion_search == 1
    assert wide >= 46 and wide > narrow  # measured: 43 and 48 of 50
    with BrandIndex.create(tmp_path / "small.db", SHA, DIM) as small:
        small.upsert_brand("a", "A")
        small.put_reference("a", "refs:0", "x", np.zeros((8, 8, 3), np.uint8), None, queries[0])
        assert not small.approximate
