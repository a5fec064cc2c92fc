"""Hub storage through SQLAlchemy Core: SQLite in the data folder by default, PostgreSQL for a fleet.

Scans are keyed by the device's uuid, so receiving the same scan twice stores it once. Device tokens are
kept only as SHA-256 hashes.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..exc import ScannerError

metadata = sa.MetaData()
devices = sa.Table(
    "devices",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.String(40), nullable=False),
)
scans = sa.Table(
    "scans",
    metadata,
    sa.Column("uuid", sa.String(36), primary_key=True),
    sa.Column("device", sa.String(100), sa.ForeignKey("devices.name"), nullable=False),
    sa.Column("created_at", sa.String(40)),
    sa.Column("received_at", sa.String(40), nullable=False),
    sa.Column("verdict", sa.String(16)),
    sa.Column("brand", sa.String(200)),
    sa.Column("record", sa.Text, nullable=False),  # the device's JSON record, images excluded
    sa.Column("frame_jpeg", sa.LargeBinary),
    sa.Column("heatmap_png", sa.LargeBinary),
)
sa.Index("scans_by_received", scans.c.received_at)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def database_url(data_dir: Path, database_url: str | None) -> str:
    if database_url:
        return database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    return f"sqlite:///{Path(data_dir).resolve() / 'hub.db'}"


class HubStorage:
    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":

            @sa.event.listens_for(self.engine, "connect")
            def _pragmas(conn, _record):  # type: ignore[no-untyped-def]
                conn.execute("pragma journal_mode = wal")
                conn.execute("pragma synchronous = full")
                conn.execute("pragma foreign_keys = on")

        try:
            metadata.create_all(self.engine)
        except sa.exc.OperationalError as err:
            raise ScannerError(f"cannot open the hub database: {err.orig}") from err

    @classmethod
    def open(cls, data_dir: Path, url: str | None = None) -> HubStorage:
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        return cls(database_url(data_dir, url))

    def add_device(self, name: str) -> str:
        """Register a device; returns its token (shown once, stored hashed)."""
        token = secrets.token_urlsafe(32)
        try:
            with self.engine.begin() as conn:
                conn.execute(devices.insert().values(name=name, token_sha256=token_hash(token), created_at=utc_now()))
        except IntegrityError as err:
            raise ScannerError(f"a device named {name!r} already exists") from err
        return token

    def device_for(self, token: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(devices.c.name).where(devices.c.token_sha256 == token_hash(token))).scalar()

    def put_scan(self, device: str, record: dict[str, Any], frame: bytes | None, heatmap: bytes | None) -> bool:
        """Store a scan; False when this uuid was already received (nothing changes)."""
        row = {
            "uuid": record["uuid"],
            "device": device,
            "created_at": record.get("created_at"),
            "received_at": utc_now(),
            "verdict": record.get("verdict"),
            "brand": record.get("brand"),
            "record": json.dumps(record),
            "frame_jpeg": frame,
            "heatmap_png": heatmap,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(scans.insert().values(**row))
        except IntegrityError:
            with self.engine.connect() as conn:
                if conn.execute(sa.select(scans.c.uuid).where(scans.c.uuid == record["uuid"])).scalar() is None:
                    raise
            return False
        return True

    def list_scans(self, limit: int | None = None) -> list[dict[str, Any]]:
        query = sa.select(
            scans.c.uuid, scans.c.device, scans.c.verdict, scans.c.brand, scans.c.created_at, scans.c.received_at
        ).order_by(scans.c.received_at.desc(), scans.c.uuid)
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def count_scans(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(scans)).scalar_one())

    def dispose(self) -> None:
        self.engine.dispose()
