"""The brand index: an SQLite file of brands, reference images and their embeddings.

SQLite is the source of truth. Search is exact cosine similarity over an in-memory float32 matrix loaded
once on first use (v0; an approximate index for a million references is later work). The meta table
records the embedder's sha256 and dimension: opening the index with another model is refused, because
embeddings from two models are not comparable.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import sqlite_utils

from .exc import BrandIndexError, IndexModelMismatchError
from .vectors import (
    ANN_MIN_REFERENCES,
    EXPANSION_SEARCH,
    ExactSearch,
    GraphSearch,
    build_graph,
    graph_is_fresh,
    graph_paths,
    usearch_available,
)

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
REFERENCE_CACHE = 512  # decoded references kept in memory (about 200 KB each)
CANDIDATES_PER_BRAND = 8  # neighbours fetched per brand wanted: a brand with many references fills several


@dataclass(frozen=True)
class Brand:
    id: str
    name: str
    colour: str | None
    aliases: list[str]


@dataclass(frozen=True)
class Candidate:
    brand_id: str
    similarity: float
    reference_id: int
    artwork: bool = True  # the reference is the brand's artwork (it has a mark mask), not a photo


@dataclass
class ReferenceImage:
    id: int
    brand_id: str
    crop: np.ndarray  # BGR square, as embedded
    mask: np.ndarray | None  # 0/255 mark mask from the artwork's alpha, when it had one
    png: bytes | None = field(default=None, compare=False, repr=False)  # the crop as stored (scan records reuse it)
    # What the verifier derives from this reference (keypoints, resized copies), kept with it: the index keeps
    # decoded references, so each is computed once, not on every scan.
    derived: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def artwork(self) -> bool:
        """Whether this is the brand's artwork (it has a mark mask), not a photo of genuine goods."""
        return self.mask is not None

    def derive(self, key: tuple, make: Callable[[], Any]) -> Any:
        if key not in self.derived:
            self.derived[key] = make()
        return self.derived[key]


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def encode_png(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise ValueError("PNG encoding failed")
    return data.tobytes()


def decode_png(data: bytes | None, flags: int = cv2.IMREAD_UNCHANGED) -> np.ndarray | None:
    if data is None:
        return None
    return cv2.imdecode(np.frombuffer(data, np.uint8), flags)


class BrandIndex:
    """Open with `BrandIndex.open` (scanning) or `BrandIndex.create` (building); close, or use as a context manager."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = Path(path)
        self.db = sqlite_utils.Database(conn)
        self._searcher: ExactSearch | GraphSearch | None = None
        self._references: dict[int, ReferenceImage] = {}
        self._artwork: dict[str, int | None] = {}

    # -- opening -----------------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path, model_sha256: str) -> BrandIndex:
        path = Path(path)
        if not path.is_file():
            raise BrandIndexError(
                f"brand index not found: {path}. Build it with `scanner index build REFS_DIR --db {path}`"
            )
        index = cls(path, _connect(path))
        index._check(model_sha256)
        return index

    @classmethod
    def create(cls, path: Path, model_sha256: str, dim: int) -> BrandIndex:
        """Open for writing, creating the file and schema when missing."""
        path = Path(path)
        if path.exists():
            return cls.open(path, model_sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        index = cls(path, _connect(path))
        index._create_schema(model_sha256, dim)
        return index

    def _create_schema(self, model_sha256: str, dim: int) -> None:
        with self.db.conn:
            self.db.table("meta").create({"key": str, "value": str}, pk="key")
            self.db.table("brands").create(
                {"id": str, "name": str, "colour": str, "aliases": str, "threshold": float, "updated_at": str}, pk="id"
            )
            self.db.table("refs").create(
                {
                    "id": int,
                    "brand_id": str,
                    "source": str,
                    "file_sha256": str,
                    "image": bytes,
                    "mask": bytes,
                    "embedding": bytes,
                    "created_at": str,
                },
                pk="id",
                foreign_keys=[("brand_id", "brands", "id")],
            )
            self.db.table("refs").create_index(["brand_id", "source"], unique=True)
            now = utc_now()
            self.db.table("meta").insert_all(
                [
                    {"key": "schema_version", "value": str(SCHEMA_VERSION)},
                    {"key": "model_sha256", "value": model_sha256},
                    {"key": "embedding_dim", "value": str(dim)},
                    {"key": "created_at", "value": now},
                    {"key": "updated_at", "value": now},
                ]
            )

    def _check(self, model_sha256: str) -> None:
        try:
            tables = set(self.db.table_names())
        except sqlite3.DatabaseError as err:
            raise BrandIndexError(
                f"{self.path} is not a brand index ({err}). Rebuild it with `scanner index build`"
            ) from err
        if not {"meta", "brands", "refs"} <= tables:
            raise BrandIndexError(
                f"{self.path} is an SQLite file but not a brand index. Rebuild it with `scanner index build`"
            )
        meta = self.meta()
        if meta.get("schema_version") != str(SCHEMA_VERSION):
            raise BrandIndexError(
                f"{self.path} has index schema {meta.get('schema_version')}, "
                f"this scanner reads {SCHEMA_VERSION}: rebuild it with `scanner index build`"
            )
        if meta.get("model_sha256") != model_sha256:
            raise IndexModelMismatchError(
                f"{self.path} was built with model sha256 {str(meta.get('model_sha256'))[:12]}..., "
                f"but the loaded model is {model_sha256[:12]}...: rebuild the index with this model "
                f"(`scanner index build REFS_DIR --db {self.path} --rebuild`)"
            )

    def close(self) -> None:
        self.db.conn.close()

    def __enter__(self) -> BrandIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -----------------------------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        return {row["key"]: row["value"] for row in self.db.table("meta").rows}

    def info(self) -> dict:
        meta = self.meta()
        return {
            "path": str(self.path),
            "brands": self.db.table("brands").count,
            "references": self.db.table("refs").count,
            "model_sha256": meta.get("model_sha256"),
            "embedding_dim": int(meta.get("embedding_dim", 0)),
            "created_at": meta.get("created_at"),
            "updated_at": meta.get("updated_at"),
        }

    def brand(self, brand_id: str) -> Brand:
        row = self.db.table("brands").get(brand_id)
        return Brand(row["id"], row["name"], row["colour"], json.loads(row["aliases"] or "[]"))

    def brands(self) -> list[Brand]:
        return [self.brand(row["id"]) for row in self.db.table("brands").rows_where(order_by="id", select="id")]

    def reference(self, reference_id: int) -> ReferenceImage:
        """A reference's crop and mask, decoded once and kept (with what the verifier derives from them)."""
        cached = self._references.get(reference_id)
        if cached is not None:
            return cached
        row = self.db.table("refs").get(reference_id)
        crop = decode_png(row["image"], cv2.IMREAD_COLOR)
        if crop is None:
            raise BrandIndexError(f"{self.path}: reference {reference_id} has no image; rebuild the index")
        mask = decode_png(row["mask"], cv2.IMREAD_GRAYSCALE)
        reference = ReferenceImage(row["id"], row["brand_id"], crop, mask, png=row["image"])
        if len(self._references) >= REFERENCE_CACHE:
            self._references.pop(next(iter(self._references)))
        self._references[reference_id] = reference
        return reference

    def verification_reference(self, brand_id: str, matched_id: int) -> ReferenceImage:
        """What to verify a match against: artwork (a reference with a mark mask), since a photo reference
        carries its own lighting and wear. The matched reference when it is artwork: a brand enrolled in
        several colourways (a gold and a black mark, say) is verified against the one the mark is nearest;
        else the brand's first artwork, or the matched reference when the brand has none."""
        matched = self.reference(matched_id)
        if matched.artwork:
            return matched
        return self.artwork_of(brand_id) or matched

    def artwork_of(self, brand_id: str) -> ReferenceImage | None:
        """The brand's first artwork reference, or None for a brand enrolled from photos alone."""
        artwork = self._first_artwork(brand_id)
        return None if artwork is None else self.reference(artwork)

    def reference_for(self, candidate: Candidate) -> ReferenceImage:
        """verification_reference of a candidate the index returned."""
        return self.verification_reference(candidate.brand_id, candidate.reference_id)

    def has_artwork(self, brand_id: str) -> bool:
        """Whether the brand is verified against artwork; one enrolled from photos alone is verified against
        them (verification_reference)."""
        return self._first_artwork(brand_id) is not None

    def _first_artwork(self, brand_id: str) -> int | None:
        if brand_id not in self._artwork:  # asked on every scan: looked up once per brand
            row = self.db.execute(
                "select id from refs where brand_id = ? and mask is not null order by id limit 1", [brand_id]
            ).fetchone()
            self._artwork[brand_id] = int(row[0]) if row else None
        return self._artwork[brand_id]

    def source_sha(self, brand_id: str, source: str) -> str | None:
        rows = list(
            self.db.table("refs").rows_where("brand_id = ? and source = ?", [brand_id, source], select="file_sha256")
        )
        return rows[0]["file_sha256"] if rows else None

    def sources(self, brand_id: str) -> list[str]:
        return [row["source"] for row in self.db.table("refs").rows_where("brand_id = ?", [brand_id], select="source")]

    def _stamp(self) -> dict:
        """What the derived search graph must have been built from: changes with every write."""
        meta = self.meta()
        return {
            "model_sha256": meta.get("model_sha256"),
            "revision": meta.get("revision", "0"),
            "references": self.db.table("refs").count,
        }

    def _embeddings(self, batch: int = 50_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        dim = int(self.meta()["embedding_dim"])
        last = -1
        while rows := self.db.execute(
            "select id, embedding from refs where id > ? order by id limit ?", [last, batch]
        ).fetchall():
            ids = np.array([r[0] for r in rows], np.int64)
            yield ids, np.frombuffer(b"".join(r[1] for r in rows), np.float32).reshape(len(rows), dim)
            last = int(ids[-1])

    def _load_searcher(self, search_breadth: int = EXPANSION_SEARCH) -> ExactSearch | GraphSearch:
        count = self.db.table("refs").count
        if count >= ANN_MIN_REFERENCES and usearch_available():
            stamp = self._stamp()
            if not graph_is_fresh(self.path, stamp):
                build_graph(self.path, stamp, int(self.meta()["embedding_dim"]), self._embeddings)
            searcher: ExactSearch | GraphSearch = GraphSearch(graph_paths(self.path)[0], search_breadth)
        else:
            if count >= ANN_MIN_REFERENCES:
                logger.warning("usearch is not installed: exact search over %d references is slow", count)
            parts = list(self._embeddings())
            dim = int(self.meta()["embedding_dim"])
            ids = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
            matrix = np.concatenate([p[1] for p in parts]) if parts else np.zeros((0, dim), np.float32)
            searcher = ExactSearch(ids, matrix)
        logger.info("search over %d reference embeddings of %s (%s)", count, self.path, type(searcher).__name__)
        return searcher

    def load(self, search_breadth: int = EXPANSION_SEARCH) -> None:
        """Prepare search now (otherwise the first search does): exact, or the persisted graph when large,
        searched with `search_breadth` candidates ([match] search_breadth)."""
        self._searcher = self._load_searcher(search_breadth)

    @property
    def approximate(self) -> bool:
        """Whether searches go through the graph (which can miss the nearest reference) rather than exactly."""
        if self._searcher is None:
            self.load()
        return isinstance(self._searcher, GraphSearch)

    def search(self, query: np.ndarray, k: int = 5, breadth: int | None = None) -> list[Candidate]:
        """The k best brands by their best reference's cosine similarity to the unit-length query; `breadth`
        overrides [match] search_breadth for this search (graph indexes only)."""
        if self._searcher is None:
            self.load()
        assert self._searcher is not None
        if not len(self._searcher):
            return []
        ids, similarities = self._searcher.search(query, k * CANDIDATES_PER_BRAND, breadth)
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"select id, brand_id, mask is not null from refs where id in ({marks})", [int(i) for i in ids]
        )
        owner = {ref_id: (brand_id, bool(artwork)) for ref_id, brand_id, artwork in rows}
        best: dict[str, Candidate] = {}
        for ref_id, similarity in zip(ids, similarities, strict=True):
            brand_id, artwork = owner.get(int(ref_id), (None, True))
            if brand_id is not None and brand_id not in best:
                best[brand_id] = Candidate(brand_id, float(similarity), int(ref_id), artwork)
                if len(best) == k:
                    break
        return list(best.values())

    # -- writing -----------------------------------------------------------------------------------------
    def upsert_brand(
        self, brand_id: str, name: str, colour: str | None = None, aliases: list[str] | None = None
    ) -> None:
        with self.db.conn:
            self.db.table("brands").upsert(
                {
                    "id": brand_id,
                    "name": name,
                    "colour": colour,
                    "aliases": json.dumps(aliases or []),
                    "updated_at": utc_now(),
                },
                pk="id",
            )

    def has_brand(self, brand_id: str) -> bool:
        return bool(self.db.table("brands").count_where("id = ?", [brand_id]))

    def put_reference(
        self,
        brand_id: str,
        source: str,
        file_sha256: str,
        crop: np.ndarray,
        mask: np.ndarray | None,
        embedding: np.ndarray,
    ) -> None:
        """Insert or replace the reference `source` of a brand (one transaction)."""
        with self.db.conn:
            self.db.execute("delete from refs where brand_id = ? and source = ?", [brand_id, source])
            self.db.table("refs").insert(
                {
                    "brand_id": brand_id,
                    "source": source,
                    "file_sha256": file_sha256,
                    "image": encode_png(crop),
                    "mask": encode_png(mask) if mask is not None else None,
                    "embedding": embedding.astype(np.float32).tobytes(),
                    "created_at": utc_now(),
                }
            )
            self._touch()

    def remove_references(self, brand_id: str, sources: list[str]) -> None:
        with self.db.conn:
            for source in sources:
                self.db.execute("delete from refs where brand_id = ? and source = ?", [brand_id, source])
            self._touch()

    def _touch(self) -> None:
        revision = int(self.meta().get("revision", "0")) + 1
        self.db.table("meta").upsert({"key": "revision", "value": str(revision)}, pk="key")
        self.db.table("meta").upsert({"key": "updated_at", "value": utc_now()}, pk="key")
        self._searcher = None
        self._references.clear()
        self._artwork.clear()


def _connect(path: Path) -> sqlite3.Connection:
    try:
        # The live loop hands the pipeline to a worker thread; one thread at a time uses the connection.
        conn = sqlite3.connect(str(path), check_same_thread=False)
        conn.execute("pragma foreign_keys = on")
        conn.execute("pragma schema_version").fetchone()  # fails here, not later, on a non-SQLite file
    except sqlite3.DatabaseError as err:
        raise BrandIndexError(
            f"{path} is not a brand index ({err}). Rebuild it with `scanner index build REFS_DIR --db {path}`"
        ) from err
    return conn
