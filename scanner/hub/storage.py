"""Hub storage through SQLAlchemy Core: SQLite in the data folder by default, PostgreSQL for a fleet.

Scans are keyed by the device's uuid, so receiving the same scan twice stores it once. Device tokens are
kept only as SHA-256 hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
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
    sa.Column("reference_png", sa.LargeBinary),
    sa.Column("views_jpeg", sa.LargeBinary),  # an item's views side by side (added after the first release)
)
sa.Index("scans_by_received", scans.c.received_at)
reviewers = sa.Table(
    "reviewers",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("password_hash", sa.String(300), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
)
sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_sha256", sa.String(64), primary_key=True),
    sa.Column("reviewer", sa.String(100), sa.ForeignKey("reviewers.name"), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)
decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("uuid", sa.String(36), sa.ForeignKey("scans.uuid"), nullable=False),
    sa.Column("decision", sa.String(32), nullable=False),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("reviewer", sa.String(100), sa.ForeignKey("reviewers.name"), nullable=False),
    sa.Column("decided_at", sa.String(40), nullable=False),
)
sa.Index("decisions_by_scan", decisions.c.uuid, decisions.c.id)
DECISIONS = ("confirmed_counterfeit", "false_alarm")
SESSION_SECONDS = 8 * 3600


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# scrypt (stdlib): memory-hard, so a stolen hub database does not give up reviewer passwords cheaply.
SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), dklen=32, n=int(n), r=int(r), p=int(p))
    except ValueError:
        return False
    return hmac.compare_digest(candidate.hex(), digest)


DUMMY_HASH = hash_password("unused")  # checked for unknown names too, so timing does not reveal who exists


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
            self._add_missing_columns()
        except sa.exc.OperationalError as err:
            raise ScannerError(f"cannot open the hub database: {err.orig}") from err

    def _add_missing_columns(self) -> None:
        """A database made by an older hub gains the nullable columns added since (create_all makes only missing
        tables): the scans it holds keep their rows, with nothing in the new columns."""
        with self.engine.begin() as conn:
            for table in metadata.sorted_tables:
                present = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
                for column in table.columns:
                    if column.name not in present:
                        kind = column.type.compile(dialect=conn.dialect)
                        conn.execute(sa.text(f"alter table {table.name} add column {column.name} {kind}"))

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

    def put_scan(self, device: str, record: dict[str, Any], images: dict[str, bytes | None]) -> bool:
        """Store a scan; False when this uuid was already received (nothing changes)."""
        row = {
            "uuid": record["uuid"],
            "device": device,
            "created_at": record.get("created_at"),
            "received_at": utc_now(),
            "verdict": record.get("verdict"),
            "brand": record.get("brand"),
            "record": json.dumps(record),
            **images,
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

    # -- review console --------------------------------------------------------------------------------
    def add_reviewer(self, name: str, password: str) -> None:
        with self.engine.begin() as conn:
            if conn.execute(sa.select(reviewers.c.name).where(reviewers.c.name == name)).scalar():
                conn.execute(
                    reviewers.update().where(reviewers.c.name == name).values(password_hash=hash_password(password))
                )
            else:
                conn.execute(
                    reviewers.insert().values(name=name, password_hash=hash_password(password), created_at=utc_now())
                )

    def check_password(self, name: str, password: str) -> bool:
        with self.engine.connect() as conn:
            stored = conn.execute(sa.select(reviewers.c.password_hash).where(reviewers.c.name == name)).scalar()
        if stored is None:
            verify_password(password, DUMMY_HASH)  # the same work for unknown names: timing does not tell who exists
            return False
        return verify_password(password, stored)

    def open_session(self, reviewer: str) -> tuple[str, str]:
        """(session token for the cookie, CSRF token for its forms)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(sessions.delete().where(sessions.c.expires_at < time.time()))
            conn.execute(
                sessions.insert().values(
                    token_sha256=token_hash(token),
                    reviewer=reviewer,
                    csrf=csrf,
                    expires_at=time.time() + SESSION_SECONDS,
                )
            )
        return token, csrf

    def session(self, token: str) -> tuple[str, str] | None:
        """(reviewer, csrf) for a live session token, else None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(sessions.c.reviewer, sessions.c.csrf)
                .where(sessions.c.token_sha256 == token_hash(token))
                .where(sessions.c.expires_at > time.time())
            ).first()
        return (row.reviewer, row.csrf) if row else None

    def close_session(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sessions.delete().where(sessions.c.token_sha256 == token_hash(token)))

    def review_page(self, filters: dict[str, str], page: int, per_page: int) -> tuple[list[dict[str, Any]], int]:
        """Scans newest first matching the filters, with their latest decision; and the total count."""
        latest = (
            sa.select(decisions.c.uuid, sa.func.max(decisions.c.id).label("id")).group_by(decisions.c.uuid).subquery()
        )
        query = sa.select(
            scans.c.uuid,
            scans.c.device,
            scans.c.verdict,
            scans.c.brand,
            scans.c.created_at,
            scans.c.received_at,
            decisions.c.decision,
            decisions.c.reviewer,
            (scans.c.views_jpeg.is_not(None)).label("has_views"),
        ).select_from(
            scans.outerjoin(latest, latest.c.uuid == scans.c.uuid).outerjoin(decisions, decisions.c.id == latest.c.id)
        )
        conditions = []
        for column in ("brand", "verdict", "device"):
            if filters.get(column):
                conditions.append(getattr(scans.c, column) == filters[column])
        if filters.get("date_from"):
            conditions.append(scans.c.created_at >= filters["date_from"])
        if filters.get("date_to"):
            conditions.append(scans.c.created_at < filters["date_to"] + "T99")  # the whole end day
        if filters.get("decision") == "undecided":
            conditions.append(decisions.c.decision.is_(None))
        elif filters.get("decision"):
            conditions.append(decisions.c.decision == filters["decision"])
        query = query.where(*conditions)
        with self.engine.connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
            rows = conn.execute(
                query.order_by(scans.c.created_at.desc(), scans.c.uuid).limit(per_page).offset((page - 1) * per_page)
            )
            return [dict(r._mapping) for r in rows], int(total)

    def scan_detail(self, scan_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(
                    scans.c.uuid,
                    scans.c.device,
                    scans.c.received_at,
                    scans.c.record,
                    (scans.c.frame_jpeg.is_not(None)).label("has_frame"),
                    (scans.c.heatmap_png.is_not(None)).label("has_heatmap"),
                    (scans.c.reference_png.is_not(None)).label("has_reference"),
                    (scans.c.views_jpeg.is_not(None)).label("has_views"),
                ).where(scans.c.uuid == scan_id)
            ).first()
            if row is None:
                return None
            history = conn.execute(
                sa.select(decisions).where(decisions.c.uuid == scan_id).order_by(decisions.c.id.desc())
            )
            detail = {
                **dict(row._mapping),
                "record": json.loads(row.record),
                "decisions": [dict(d._mapping) for d in history],
            }
        return detail

    def scan_image(self, scan_id: str, column: str) -> bytes | None:
        with self.engine.connect() as conn:
            value = conn.execute(sa.select(getattr(scans.c, column)).where(scans.c.uuid == scan_id)).scalar()
        return bytes(value) if value is not None else None

    def decide(self, scan_id: str, decision: str, note: str, reviewer: str) -> None:
        if decision not in DECISIONS:
            raise ValueError(f"decision must be one of {DECISIONS}")
        with self.engine.begin() as conn:
            conn.execute(
                decisions.insert().values(
                    uuid=scan_id, decision=decision, note=note, reviewer=reviewer, decided_at=utc_now()
                )
            )

    def decisions_export(self) -> list[dict[str, Any]]:
        query = (
            sa.select(
                decisions.c.uuid,
                scans.c.device,
                scans.c.brand,
                scans.c.verdict,
                scans.c.created_at,
                decisions.c.decision,
                decisions.c.note,
                decisions.c.reviewer,
                decisions.c.decided_at,
            )
            .select_from(decisions.join(scans, scans.c.uuid == decisions.c.uuid))
            .order_by(decisions.c.id)
        )
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def count_scans(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(scans)).scalar_one())

    def dispose(self) -> None:
        self.engine.dispose()
