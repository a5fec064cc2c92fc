"""The device's scan record: a SQLite file of every scan (evidence), and the outbox of flagged ones.

Durability: WAL journal with `synchronous=FULL`, one transaction per scan, so a committed scan survives a
power cut and a scan cut off mid-write leaves no trace. Flagged scans (`suspect`, and `unknown` when
configured) enter the outbox in the same transaction as the scan; they leave it only when the hub has
acknowledged them. When the file outgrows its budget, images are dropped from synced or unflagged scans,
oldest first; a flagged scan the hub has not acknowledged keeps its image whatever the size.
"""

from __future__ import annotations

import errno
import json
import logging
import sqlite3
import uuid as uuidlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .exc import StoreError
from .protocol import IMAGE_FIELDS
from .result import ScanResult

logger = logging.getLogger(__name__)

# Migration N brings the file from user_version N to N + 1; never edit one that has shipped, add another.
MIGRATIONS = [
    """
    create table scans (
        uuid text primary key,
        created_at text not null,
        device_id text not null,
        operator text not null default '',
        source text,
        verdict text,
        brand text,
        brand_name text,
        similarity real,
        authenticity real,
        reasons text not null default '[]',
        error text,
        result text not null,
        model_sha256 text,
        index_version text,
        note text,
        latitude real,
        longitude real,
        frame_jpeg blob,
        heatmap_png blob,
        images_evicted integer not null default 0
    );
    create index scans_by_time on scans (created_at);
    create table outbox (
        uuid text primary key references scans (uuid),
        queued_at text not null,
        attempts integer not null default 0,
        next_attempt_at real not null default 0,
        last_error text,
        acked_at text
    );
    create index outbox_due on outbox (acked_at, next_attempt_at);
    """,
    # 2: the reference the scan was verified against, so a reviewer can compare side by side.
    """
    alter table scans add column reference_png blob;
    """,
    # 3: which authenticity model judged the scan (null: the v0 rules, or a scan never verified).
    """
    alter table scans add column verifier_sha256 text;
    """,
    # 4: an item scanned from several views keeps all of them, side by side (scanner/views.py).
    """
    alter table scans add column views_jpeg blob;
    """,
]
LIST_COLUMNS = (
    "uuid",
    "created_at",
    "device_id",
    "operator",
    "source",
    "verdict",
    "brand",
    "brand_name",
    "similarity",
    "authenticity",
    "reasons",
    "error",
    "note",
    "latitude",
    "longitude",
)
JPEG_QUALITY = 90
VIEWS_HEIGHT = 240  # px: an item's views side by side, enough to show the goods from each angle


@dataclass(frozen=True)
class RecordContext:
    """Who, where and with what a scan was made."""

    device_id: str
    operator: str = ""
    model_sha256: str | None = None
    verifier_sha256: str | None = None
    index_version: str | None = None
    note: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class OutboxItem:
    uuid: str
    attempts: int


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _write_failure(err: BaseException) -> str | None:
    """A message for storage that refused the write (full, or an I/O error such as a file-size limit), else None."""
    name = getattr(err, "sqlite_errorname", "")
    if name == "SQLITE_FULL" or getattr(err, "errno", None) == errno.ENOSPC:
        return "disk full: scan not recorded"
    if name.startswith("SQLITE_IOERR") or getattr(err, "errno", None) == errno.EFBIG:
        return "disk write failed (storage full or failing): scan not recorded"
    return None


class ScanStore:
    def __init__(self, path: Path, max_bytes: int = 0, flag_unknown: bool = False) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.flag_unknown = flag_unknown
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(str(self.path), timeout=10, isolation_level=None, check_same_thread=False)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("pragma journal_mode = wal")
            self.conn.execute("pragma synchronous = full")
            self.conn.execute("pragma foreign_keys = on")
            self._migrate()
        except sqlite3.DatabaseError as err:
            raise StoreError(f"cannot open the scan store {self.path}: {err}") from err
        except OSError as err:
            raise StoreError(f"cannot create the scan store {self.path}: {err.strerror}") from err

    def _migrate(self) -> None:
        version = self.conn.execute("pragma user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StoreError(f"{self.path} was written by a newer scanner (schema {version}); update this one")
        for number in range(version, len(MIGRATIONS)):
            self.conn.execute("begin immediate")
            try:
                for statement in filter(str.strip, MIGRATIONS[number].split(";")):
                    self.conn.execute(statement)
                self.conn.execute(f"pragma user_version = {number + 1}")
                self.conn.execute("commit")
            except BaseException:
                if self.conn.in_transaction:  # SQLite may have rolled back already (disk full, I/O error)
                    self.conn.execute("rollback")
                raise
            logger.info("scan store %s migrated to schema %d", self.path, number + 1)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> ScanStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- recording ---------------------------------------------------------------------------------------
    def flagged(self, result: ScanResult) -> bool:
        verdict = result.verdict.value if result.verdict else None
        return verdict == "suspect" or (self.flag_unknown and verdict == "unknown")

    def record(self, result: ScanResult, frame: np.ndarray | None, context: RecordContext) -> str:
        """Commit one scan (and its outbox entry when flagged); returns its uuid. All or nothing."""
        scan_id = str(uuidlib.uuid4())
        row = {
            "uuid": scan_id,
            "created_at": utc_now(),
            "device_id": context.device_id,
            "operator": context.operator,
            "source": result.image,
            "verdict": result.verdict.value if result.verdict else None,
            "brand": result.brand,
            "brand_name": result.brand_name,
            "similarity": result.similarity,
            "authenticity": result.authenticity,
            "reasons": json.dumps(result.reasons),
            "error": result.error,
            "result": json.dumps(result.to_json()),
            "model_sha256": context.model_sha256,
            "verifier_sha256": (result.verifier_sha256 or context.verifier_sha256)
            if result.authenticity is not None
            else None,
            "index_version": context.index_version,
            "note": context.note,
            "latitude": context.latitude,
            "longitude": context.longitude,
            "frame_jpeg": _jpeg(frame),
            "heatmap_png": _heatmap_png(result.heatmap),
            "reference_png": result.reference_png or _png(result.reference),  # the index's bytes: no re-encoding
            "views_jpeg": _views_jpeg(result.view_frames),
        }
        columns = ", ".join(row)
        marks = ", ".join(f":{name}" for name in row)
        try:
            self.conn.execute("begin immediate")
            try:
                self.conn.execute(f"insert into scans ({columns}) values ({marks})", row)
                if self.flagged(result):
                    self.conn.execute(
                        "insert into outbox (uuid, queued_at) values (?, ?)", (scan_id, row["created_at"])
                    )
                self.conn.execute("commit")
            except BaseException:
                if self.conn.in_transaction:  # SQLite may have rolled back already (disk full, I/O error)
                    self.conn.execute("rollback")
                raise
        except (sqlite3.OperationalError, OSError) as err:
            if failure := _write_failure(err):
                raise StoreError(
                    f"{failure} ({err}); earlier scans are intact. Free space on {self.path.parent}, "
                    "or sync so images of synced scans can be dropped"
                ) from err
            raise StoreError(f"cannot record the scan in {self.path}: {err}") from err
        if self.max_bytes:
            self.enforce_limit()
        return scan_id

    # -- reading -----------------------------------------------------------------------------------------
    def scans(self, limit: int | None = None, verdict: str | None = None) -> list[dict[str, Any]]:
        sql = f"select {', '.join(LIST_COLUMNS)} from scans"
        args: list[Any] = []
        if verdict:
            sql += " where verdict = ?"
            args.append(verdict)
        sql += " order by created_at desc, rowid desc"
        if limit:
            sql += " limit ?"
            args.append(limit)
        return [_decode(dict(r)) for r in self.conn.execute(sql, args)]

    def get(self, scan_id: str) -> dict[str, Any]:
        row = self.conn.execute(
            "select s.*, o.acked_at, o.attempts, o.last_error, o.uuid is not null as queued "
            "from scans s left join outbox o using (uuid) where s.uuid = ?",
            (scan_id,),
        ).fetchone()
        if row is None:
            raise StoreError(f"no scan {scan_id} in {self.path}")
        return _decode(dict(row))

    def uuids(self) -> set[str]:
        return {r[0] for r in self.conn.execute("select uuid from scans")}

    def integrity_check(self) -> str:
        return str(self.conn.execute("pragma integrity_check").fetchone()[0])

    # -- outbox ------------------------------------------------------------------------------------------
    def due(self, now: float, limit: int = 100, ignore_backoff: bool = False) -> list[OutboxItem]:
        sql = "select uuid, attempts from outbox where acked_at is null"
        args: list[Any] = []
        if not ignore_backoff:
            sql += " and next_attempt_at <= ?"
            args.append(now)
        sql += " order by queued_at limit ?"
        args.append(limit)
        return [OutboxItem(r["uuid"], r["attempts"]) for r in self.conn.execute(sql, args)]

    def pending_count(self) -> int:
        return int(self.conn.execute("select count(*) from outbox where acked_at is null").fetchone()[0])

    def mark_acked(self, scan_id: str) -> None:
        self.conn.execute("update outbox set acked_at = ?, last_error = null where uuid = ?", (utc_now(), scan_id))

    def mark_failed(self, scan_id: str, error: str, next_attempt_at: float) -> None:
        self.conn.execute(
            "update outbox set attempts = attempts + 1, last_error = ?, next_attempt_at = ? where uuid = ?",
            (error[:500], next_attempt_at, scan_id),
        )

    # -- disk budget -------------------------------------------------------------------------------------
    def used_bytes(self) -> int:
        pages, free, size = (
            self.conn.execute(f"pragma {p}").fetchone()[0] for p in ("page_count", "freelist_count", "page_size")
        )
        wal = self.path.with_name(self.path.name + "-wal")
        return (pages - free) * size + (wal.stat().st_size if wal.exists() else 0)

    def enforce_limit(self) -> int:
        """Drop images of synced or unflagged scans, oldest first, until under max_bytes; returns how many."""
        evicted = 0
        while self.used_bytes() > self.max_bytes:
            victims = [
                r[0]
                for r in self.conn.execute(
                    "select s.uuid from scans s left join outbox o using (uuid) "
                    f"where s.images_evicted = 0 and ({' or '.join(f's.{f} is not null' for f in IMAGE_FIELDS)}) "
                    "and (o.uuid is null or o.acked_at is not null) order by s.created_at limit 20"
                )
            ]
            if not victims:
                logger.warning(
                    "scan store %s is over its %d-byte budget, but every image left belongs to a "
                    "flagged scan not yet synced: keeping them",
                    self.path,
                    self.max_bytes,
                )
                break
            marks = ",".join("?" * len(victims))
            self.conn.execute(
                f"update scans set {', '.join(f'{f} = null' for f in IMAGE_FIELDS)}, images_evicted = 1 "
                f"where uuid in ({marks})",
                victims,
            )
            self.conn.execute("pragma wal_checkpoint(truncate)")
            evicted += len(victims)
        if evicted:
            logger.warning(
                "scan store over %d bytes: dropped the images of %d synced or unflagged scans", self.max_bytes, evicted
            )
        return evicted

    def rows_for_export(self) -> Iterator[dict[str, Any]]:
        for row in self.conn.execute(
            f"select {', '.join(LIST_COLUMNS)}, model_sha256, verifier_sha256, index_version from scans "
            "order by created_at"
        ):
            yield _decode(dict(row))


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    if isinstance(row.get("reasons"), str):
        row["reasons"] = json.loads(row["reasons"])
    if isinstance(row.get("result"), str):
        row["result"] = json.loads(row["result"])
    return row


def _jpeg(frame: np.ndarray | None) -> bytes | None:
    if frame is None:
        return None
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return data.tobytes() if ok else None


def _views_jpeg(frames: list[np.ndarray]) -> bytes | None:
    """An item's views side by side, each VIEWS_HEIGHT px high (None for fewer than two)."""
    if len(frames) < 2:
        return None
    scaled = [cv2.resize(f, (round(f.shape[1] * VIEWS_HEIGHT / f.shape[0]), VIEWS_HEIGHT)) for f in frames]
    gap = np.full((VIEWS_HEIGHT, 8, 3), 255, np.uint8)
    sheet = np.hstack([part for frame in scaled for part in (frame, gap)][:-1])
    return _jpeg(sheet)


def _png(image: np.ndarray | None) -> bytes | None:
    if image is None:
        return None
    ok, data = cv2.imencode(".png", image)
    return data.tobytes() if ok else None


def _heatmap_png(heatmap: np.ndarray | None) -> bytes | None:
    """The deviation map as red with alpha = deviation: it lays straight over the reference in any viewer."""
    if heatmap is None:
        return None
    alpha = (np.clip(heatmap, 0, 1) * 255).astype(np.uint8)
    bgra = np.dstack([np.zeros_like(alpha), np.zeros_like(alpha), np.full_like(alpha, 220), alpha])
    ok, data = cv2.imencode(".png", bgra)
    return data.tobytes() if ok else None
