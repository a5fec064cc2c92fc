"""Device side of the hub protocol (docs/sync.md): push flagged scans from the outbox, pull signed index updates.

Delivery is at-least-once from the device and exactly-once at the hub: a scan is PUT to its own URL
(`/api/v1/scans/<uuid>`), so a retry after a lost acknowledgement finds the scan already there and is
acknowledged again. The outbox entry is marked acknowledged only after a 200 or 201.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import logging
import os
import random
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import signing
from .exc import BrandIndexError, HubUnavailableError, IndexUpdateError, SyncError
from .index import BrandIndex
from .protocol import IMAGE_FIELDS
from .store import ScanStore

logger = logging.getLogger(__name__)

BACKOFF_BASE_S = 5.0
BACKOFF_CAP_S = 3600.0  # a hub down for days is retried hourly, never given up on
TIMEOUT_S = 20.0
REFUSED_TOKEN = "the hub refused this device's token (401): check [hub] token or --token"


def backoff_seconds(attempts: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: uniform in [half, all] of min(cap, base * 2^attempts)."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** min(attempts, 20))
    return (rng or random).uniform(ceiling / 2, ceiling)


class HubClient:
    def __init__(self, url: str, token: str, timeout: float = TIMEOUT_S) -> None:
        if not url.startswith(("http://", "https://")):
            raise SyncError(f"hub URL must start with http:// or https://, got {url!r}")
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout

    def _request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(
            self.url + path,
            data=body,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()
        # HTTPException: the hub went away mid-response (IncompleteRead, RemoteDisconnected): same as down.
        except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
            raise HubUnavailableError(f"hub {self.url} unreachable: {getattr(err, 'reason', err)}") from err

    def whoami(self) -> str:
        """The device name the hub knows this token by; SyncError when unreachable or refused."""
        status, body = self._request("GET", "/api/v1/devices/me")
        if status == 401:
            raise HubUnavailableError(REFUSED_TOKEN)
        if status != 200:
            raise SyncError(f"hub answered {status} to the token check")
        return str(json.loads(body)["device"])

    def put_scan(self, scan: dict[str, Any]) -> int:
        status, body = self._request("PUT", f"/api/v1/scans/{scan['uuid']}", json.dumps(scan).encode())
        if status == 401:
            raise HubUnavailableError(REFUSED_TOKEN)
        if status not in (200, 201):
            raise SyncError(f"hub answered {status} for scan {scan['uuid']}: {body[:200]!r}")
        return status

    def manifest(self) -> dict[str, Any] | None:
        status, body = self._request("GET", "/api/v1/index/manifest")
        if status == 404:
            return None
        if status != 200:
            raise SyncError(f"hub answered {status} for the index manifest")
        return json.loads(body)

    def download(self, file_name: str, destination: Path) -> None:
        status, body = self._request("GET", f"/api/v1/index/files/{file_name}")
        if status != 200:
            raise SyncError(f"hub answered {status} for {file_name}")
        with destination.open("wb") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())


def scan_payload(row: dict[str, Any]) -> dict[str, Any]:
    """The JSON body for one scan: its record, with the images base64-encoded."""
    payload = {k: v for k, v in row.items() if k not in (*IMAGE_FIELDS, "acked_at", "attempts", "last_error", "queued")}
    for name in IMAGE_FIELDS:
        payload[name] = base64.b64encode(row[name]).decode() if row.get(name) else None
    return payload


@dataclass
class PushReport:
    sent: int = 0
    already_there: int = 0
    failed: int = 0
    pending: int = 0
    error: str | None = None


def push_outbox(store: ScanStore, client: HubClient, ignore_backoff: bool = False, batch: int = 100) -> PushReport:
    """Send every due flagged scan; stop at the first connection failure (the hub is down: try later)."""
    report = PushReport()
    while items := store.due(time.time(), batch, ignore_backoff):
        progressed = False
        for item in items:
            try:
                status = client.put_scan(scan_payload(store.get(item.uuid)))
            except SyncError as err:
                store.mark_failed(item.uuid, str(err), time.time() + backoff_seconds(item.attempts))
                report.failed += 1
                report.error = str(err)
                if isinstance(err, HubUnavailableError):  # the next scan would fail the same way: try later
                    report.pending = store.pending_count()
                    return report
                continue
            store.mark_acked(item.uuid)
            progressed = True
            if status == 201:
                report.sent += 1
            else:
                report.already_there += 1
        if not progressed:
            break
    report.pending = store.pending_count()
    return report


class SyncWorker:
    """Pushes the outbox in the background every `interval` seconds until stopped (for `scanner run`)."""

    def __init__(self, store: ScanStore, client: HubClient, interval: float = 30.0) -> None:
        self.store, self.client, self.interval = store, client, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hub-sync", daemon=True)

    def start(self) -> SyncWorker:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self._push()
            self._stop.wait(self.interval)
        self._push()  # a last try on the way out, so a scan made just before quitting is not left for next time

    def _push(self) -> None:
        try:
            report = push_outbox(self.store, self.client)
        except Exception:  # never let a sync problem take the scanner down
            logger.exception("background sync failed")
            return
        if report.sent or report.error:
            logger.info("sync: %d sent, %d pending (%s)", report.sent, report.pending, report.error or "ok")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + TIMEOUT_S)


@dataclass
class IndexUpdate:
    installed: bool
    version: int | None
    message: str


def local_index_version(index_path: Path) -> int:
    """Version stamped by the hub into the installed index (0: none, or not one from the hub)."""
    if not index_path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{index_path}?mode=ro", uri=True) as conn:
            row = conn.execute("select value from meta where key = 'index_version'").fetchone()
    except sqlite3.DatabaseError:
        return 0
    return int(row[0]) if row else 0


def update_index(client: HubClient, index_path: Path, public_key: str, model_sha256: str) -> IndexUpdate:
    """Install the hub's newest signed index if it is newer; anything wrong leaves the current index in place."""
    published = client.manifest()
    if published is None:
        return IndexUpdate(False, None, "the hub has no index published")
    manifest, signature = published.get("manifest"), published.get("signature")
    if not isinstance(manifest, dict) or not isinstance(signature, str):
        raise IndexUpdateError("the hub's index manifest is malformed: rejected")
    signing.verify(manifest, signature, public_key)
    version = int(manifest["version"])
    if manifest["model_sha256"] != model_sha256:
        raise IndexUpdateError(
            f"index version {version} was built for model {manifest['model_sha256'][:12]}..., this device runs "
            f"{model_sha256[:12]}...: rejected; update the model first"
        )
    current = local_index_version(index_path)
    if version <= current:
        return IndexUpdate(False, current, f"brand index is up to date (version {current})")
    download = index_path.with_name(f".{index_path.name}.download")
    try:
        client.download(manifest["file"], download)
        digest = hashlib.sha256(download.read_bytes()).hexdigest()
        if digest != manifest["sha256"] or download.stat().st_size != manifest["size"]:
            raise IndexUpdateError(f"downloaded index does not match its signed sha256 ({digest[:12]}...): rejected")
        try:
            with BrandIndex.open(download, model_sha256) as candidate:
                if int(candidate.meta().get("index_version", -1)) != version:
                    raise IndexUpdateError("downloaded index carries another version than its manifest: rejected")
        except BrandIndexError as err:
            raise IndexUpdateError(f"downloaded index is not a usable brand index ({err}): rejected") from err
        os.replace(download, index_path)  # atomic on one filesystem: readers see the old or the new file
        directory = os.open(index_path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    finally:
        download.unlink(missing_ok=True)
    return IndexUpdate(True, version, f"installed brand index version {version}")
