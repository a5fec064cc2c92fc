"""Publishing a brand index: copy it into the hub's data folder, stamp its version, sign the manifest."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import signing
from ..exc import ScannerError
from .app import index_dir

KEY_FILE = "hub_signing_key.pem"


def current_manifest(data_dir: Path) -> dict[str, Any] | None:
    path = index_dir(data_dir) / "manifest.json"
    return json.loads(path.read_text())["manifest"] if path.exists() else None


def publish_index(db: Path, data_dir: Path) -> dict[str, Any]:
    key = signing.load_private_key(Path(data_dir) / KEY_FILE)
    previous = current_manifest(data_dir)
    version = (previous["version"] if previous else 0) + 1
    folder = index_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"index-{version}.db"
    staging = folder / f".index-{version}.db.tmp"
    shutil.copyfile(db, staging)
    try:
        with sqlite3.connect(staging) as conn:
            meta = dict(conn.execute("select key, value from meta").fetchall())
            conn.execute("insert or replace into meta (key, value) values ('index_version', ?)", (str(version),))
    except sqlite3.DatabaseError as err:
        staging.unlink(missing_ok=True)
        raise ScannerError(f"{db} is not a brand index: {err}") from err
    os.replace(staging, target)
    data = target.read_bytes()
    manifest = {
        "version": version,
        "file": target.name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "model_sha256": meta.get("model_sha256"),
        "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    published = {"manifest": manifest, "signature": signing.sign(manifest, key)}
    staging_manifest = folder / ".manifest.json.tmp"
    staging_manifest.write_text(json.dumps(published, indent=2))
    os.replace(staging_manifest, folder / "manifest.json")
    return manifest
