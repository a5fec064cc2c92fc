"""Nearest-neighbour search over reference embeddings: exact numpy for small indexes, a persisted usearch
HNSW graph (int8 vectors, memory-mapped) for large ones.

SQLite stays the source of truth; the graph is derived from it, saved beside the index as `<db>.usearch`
with a `<db>.usearch.json` stamp of the index revision it was built from. A missing or stale graph (the
stamp differs: references were added or removed since) is rebuilt from SQLite, never trusted.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from .exc import BrandIndexError

logger = logging.getLogger(__name__)

ANN_MIN_REFERENCES = 20_000  # below this, exact search is as fast and has nothing to go stale
CONNECTIVITY, EXPANSION_ADD, EXPANSION_SEARCH = 16, 128, 128  # chosen by tools/bench_index.py (docs/index.md)


def usearch_available() -> bool:
    try:
        import usearch.index  # noqa: F401
    except ImportError:
        return False
    return True


class ExactSearch:
    def __init__(self, ids: np.ndarray, matrix: np.ndarray) -> None:
        self.ids, self.matrix = ids, matrix

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, query: np.ndarray, k: int, breadth: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(reference ids, cosine similarities), best first; exact, so `breadth` changes nothing."""
        scores = self.matrix @ query
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top])]
        return self.ids[top], scores[top]


class GraphSearch:
    """A usearch HNSW index over int8-quantised unit vectors, memory-mapped from disk."""

    def __init__(self, path: Path, breadth: int = EXPANSION_SEARCH) -> None:
        from usearch.index import Index

        index = Index.restore(str(path), view=True)
        if index is None:
            raise BrandIndexError(f"{path} is not a usearch index: delete it and it is rebuilt from the brand index")
        index.expansion_search = breadth  # type: ignore[misc]  # settable at run time; the stub says not
        self.index = index

    def __len__(self) -> int:
        return len(self.index)

    def search(self, query: np.ndarray, k: int, breadth: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(reference ids, cosine similarities), best first; `breadth` overrides the candidates kept for this
        search only."""
        if not breadth:
            found = self.index.search(query, k, threads=1)
        else:
            usual = self.index.expansion_search
            self.index.expansion_search = breadth  # type: ignore[misc]
            try:
                found = self.index.search(query, k, threads=1)
            finally:
                self.index.expansion_search = usual  # type: ignore[misc]
        return np.asarray(found.keys, np.int64), 1.0 - np.asarray(found.distances, np.float32)


def graph_paths(db_path: Path) -> tuple[Path, Path]:
    return db_path.with_name(db_path.name + ".usearch"), db_path.with_name(db_path.name + ".usearch.json")


def graph_is_fresh(db_path: Path, stamp: dict) -> bool:
    graph, stamp_path = graph_paths(db_path)
    if not graph.exists() or not stamp_path.exists():
        return False
    try:
        return json.loads(stamp_path.read_text()) == stamp
    except (OSError, json.JSONDecodeError):
        return False


def build_graph(
    db_path: Path, stamp: dict, dim: int, batches: Callable[[], Iterator[tuple[np.ndarray, np.ndarray]]]
) -> None:
    """Build the graph from (ids, vectors) batches and save it atomically with its stamp."""
    from usearch.index import Index

    start = time.perf_counter()
    index = Index(ndim=dim, metric="cos", dtype="i8", connectivity=CONNECTIVITY, expansion_add=EXPANSION_ADD)
    for ids, vectors in batches():
        index.add(ids, vectors, threads=os.cpu_count() or 1)
    graph, stamp_path = graph_paths(db_path)
    partial = graph.with_name(graph.name + ".tmp")
    index.save(str(partial))
    os.replace(partial, graph)
    stamp_path.write_text(json.dumps(stamp))
    logger.warning(
        "built the search graph for %d references of %s in %.1f s",
        len(index),
        db_path.name,
        time.perf_counter() - start,
    )
