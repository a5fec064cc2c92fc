"""The hub as a real process on loopback, against SQLite and PostgreSQL storage, and the device's sync:
delivery exactly once through hub crashes and outages, token checks, and signed index updates."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from scanner.exc import IndexUpdateError, SyncError
from scanner.hub.storage import HubStorage, database_url, metadata
from scanner.store import ScanStore
from scanner.sync import HubClient, push_outbox, scan_payload, update_index
from tests.conftest import ROOT, live_run
from tests.test_store import CONTEXT, result

PG_URL = os.environ.get("SCANNER_TEST_DATABASE_URL")
SCANNER = [sys.executable, "-m", "scanner.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hub:
    """A `scanner hub serve` process with its data folder, one registered device, and a signing key."""

    def __init__(self, data: Path, db_url: str | None) -> None:
        self.data, self.db_url, self.port = data, db_url, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        extra = ["--database-url", db_url] if db_url else []
        self.extra = extra
        self.public_key = self.cli("hub", "keygen", "--data", str(data)).strip()
        self.token = self.cli("hub", "add-device", "kit-01", "--data", str(data), *extra).strip()

    def cli(self, *args: str) -> str:
        out = subprocess.run([*SCANNER, *args], capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert out.returncode == 0, out.stderr
        return out.stdout

    def start(self) -> None:
        command = [*SCANNER, "hub", "serve", "--data", str(self.data), "--port", str(self.port), *self.extra]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/api/v1/health", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("hub did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def storage(self) -> HubStorage:
        return HubStorage(database_url(self.data, self.db_url))

    def count(self) -> int:
        storage = self.storage()
        try:
            return storage.count_scans()
        finally:
            storage.dispose()

    def client(self, token: str | None = None) -> HubClient:
        return HubClient(self.url, token or self.token, timeout=10)


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request, tmp_path):
    if request.param == "postgresql":
        if not PG_URL:
            pytest.skip("set SCANNER_TEST_DATABASE_URL to a PostgreSQL database (.ci/run does)")
        storage = HubStorage(database_url(tmp_path, PG_URL))
        metadata.drop_all(storage.engine)  # a clean database per test
        storage.dispose()
    instance = Hub(tmp_path / "hub", PG_URL if request.param == "postgresql" else None)
    instance.start()
    yield instance
    instance.kill()


def flagged_store(path: Path, count: int, frame_side: int = 32) -> ScanStore:
    store = ScanStore(path)
    frame = np.random.default_rng(0).integers(0, 256, (frame_side, frame_side, 3), dtype=np.uint8)
    for _ in range(count):
        store.record(result(), frame, CONTEXT)
    return store


def test_flagged_scans_reach_the_hub_once_with_their_evidence(hub, tmp_path):
    store = flagged_store(tmp_path / "scans.db", 3)
    store.record(result(verdict=__import__("scanner.verdict").verdict.Verdict.PASS), None, CONTEXT)  # not flagged
    report = push_outbox(store, hub.client())
    assert (report.sent, report.pending, report.error) == (3, 0, None)
    rows = [
        json.loads(line) for line in hub.cli("hub", "list", "--data", str(hub.data), "--json", *hub.extra).splitlines()
    ]
    assert {r["uuid"] for r in rows} == {i for i in store.uuids() if store.get(i)["verdict"] == "suspect"}
    assert all(set(r) >= {"uuid", "device", "verdict", "brand", "received_at"} for r in rows)
    assert {(r["device"], r["verdict"], r["brand"]) for r in rows} == {("kit-01", "suspect", "acme")}
    stored = hub.storage()
    try:
        with stored.engine.connect() as conn:
            frame = conn.execute(__import__("sqlalchemy").text("select frame_jpeg from scans limit 1")).scalar()
    finally:
        stored.dispose()
    assert bytes(frame)[:3] == b"\xff\xd8\xff"
    assert push_outbox(store, hub.client()).sent == 0  # nothing left to send


def test_the_same_scan_twice_is_one_record(hub, tmp_path):
    store = flagged_store(tmp_path / "scans.db", 1)
    payload = scan_payload(store.get(next(iter(store.uuids()))))
    client = hub.client()
    assert client.put_scan(payload) == 201
    assert client.put_scan(payload) == 200
    assert hub.count() == 1


@pytest.mark.parametrize("token", [None, "not-a-real-token"])
def test_missing_or_wrong_token_is_401_and_nothing_is_stored(hub, tmp_path, token):
    store = flagged_store(tmp_path / "scans.db", 1)
    payload = json.dumps(scan_payload(store.get(next(iter(store.uuids()))))).encode()
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(
        f"{hub.url}/api/v1/scans/{json.loads(payload)['uuid']}", data=payload, method="PUT", headers=headers
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=10)
    assert err.value.code == 401
    with pytest.raises(SyncError, match="refused this device's token"):
        hub.client(token or "x").whoami()
    assert hub.count() == 0


def test_hub_down_while_1000_scans_accumulate_then_every_one_arrives_once(hub, tmp_path):
    hub.kill()
    store = flagged_store(tmp_path / "scans.db", 1000)
    report = push_outbox(store, hub.client())
    assert report.sent == 0 and report.pending == 1000 and "unreachable" in report.error
    assert store.due(time.time()) == [] or len(store.due(time.time())) < 1000  # backing off, not hammering
    hub.start()
    report = push_outbox(store, hub.client(), ignore_backoff=True)
    assert (report.sent, report.pending) == (1000, 0)
    assert hub.count() == 1000
    assert push_outbox(store, hub.client(), ignore_backoff=True).sent == 0


def test_hub_dying_mid_response_is_a_hub_that_is_down(tmp_path):
    """A hub killed while it answers leaves a truncated response (IncompleteRead): the client reports the hub
    unreachable and the outbox keeps the scan, instead of the sync crashing (seen once in CI)."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def answer_half_then_die() -> None:
        for _ in range(2):
            conn, _ = server.accept()
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 61\r\n\r\n{")
            conn.close()

    threading.Thread(target=answer_half_then_die, daemon=True).start()
    client = HubClient(f"http://127.0.0.1:{port}", "token")
    with pytest.raises(SyncError, match="unreachable"):
        client.whoami()
    store = flagged_store(tmp_path / "scans.db", 1)
    report = push_outbox(store, client)
    server.close()
    assert report.sent == 0 and report.pending == 1 and "unreachable" in report.error


def test_hub_killed_mid_upload_then_restarted_loses_and_doubles_nothing(hub, tmp_path):
    store = flagged_store(tmp_path / "scans.db", 300, frame_side=400)  # ~100-200 KB per scan
    pusher = ScanStore(store.path)
    outcome: dict = {}
    thread = threading.Thread(target=lambda: outcome.update(first=push_outbox(pusher, hub.client())))
    thread.start()
    time.sleep(0.4)
    hub.kill()  # SIGKILL while uploads are in flight
    thread.join(timeout=120)
    first = outcome["first"]
    assert first.error and 0 < first.sent < 300, first
    hub.start()
    second = push_outbox(store, hub.client(), ignore_backoff=True)
    assert second.pending == 0 and first.sent + second.sent + second.already_there == 300
    assert hub.count() == 300


BURST_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    from scanner.store import ScanStore
    from tests.test_store import CONTEXT, result
    store = ScanStore(sys.argv[1])
    frame = np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    while True:
        print(store.record(result(), frame, CONTEXT), flush=True)  # printed only after the commit returned
""")


def test_device_killed_mid_burst_keeps_every_committed_scan(tmp_path):
    path = tmp_path / "scans.db"
    device = subprocess.Popen(
        [sys.executable, "-c", BURST_SCRIPT, str(path)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    committed = []
    assert device.stdout is not None
    while len(committed) < 40:
        committed.append(device.stdout.readline().strip())
    device.send_signal(signal.SIGKILL)
    device.wait(timeout=10)
    committed += [line.strip() for line in device.stdout if line.strip()]
    with ScanStore(path) as store:
        assert store.integrity_check() == "ok"
        assert set(committed) <= store.uuids()
        assert store.pending_count() == len(store.uuids())  # each scan and its outbox entry: both or neither


@pytest.fixture
def published(hub, tmp_path, demo_index_path, embedder):
    """The demo index published on the hub, and a device holding an older copy."""
    manifest = json.loads(hub.cli("hub", "publish-index", str(demo_index_path), "--data", str(hub.data)))
    device_index = tmp_path / "device" / "brands.db"
    device_index.parent.mkdir()
    device_index.write_bytes(demo_index_path.read_bytes())
    return manifest, device_index


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_signed_index_update_is_installed_once(hub, published, embedder):
    manifest, device_index = published
    update = update_index(hub.client(), device_index, hub.public_key, embedder.sha256)
    assert update.installed and update.version == 1 == manifest["version"]
    assert _sha(device_index) == manifest["sha256"]
    again = update_index(hub.client(), device_index, hub.public_key, embedder.sha256)
    assert not again.installed and "up to date" in again.message


def test_tampered_index_file_is_rejected_and_the_old_index_kept(hub, published, embedder):
    manifest, device_index = published
    before = _sha(device_index)
    served = hub.data / "index" / manifest["file"]
    data = bytearray(served.read_bytes())
    data[-100] ^= 0xFF
    served.write_bytes(bytes(data))
    with pytest.raises(IndexUpdateError, match="does not match its signed sha256"):
        update_index(hub.client(), device_index, hub.public_key, embedder.sha256)
    assert _sha(device_index) == before
    assert not list(device_index.parent.glob(".*download"))


def test_manifest_edited_after_signing_is_rejected(hub, published, embedder):
    _, device_index = published
    path = hub.data / "index" / "manifest.json"
    signed = json.loads(path.read_text())
    signed["manifest"]["version"] = 99
    path.write_text(json.dumps(signed))
    before = _sha(device_index)
    with pytest.raises(IndexUpdateError, match="signature does not verify"):
        update_index(hub.client(), device_index, hub.public_key, embedder.sha256)
    assert _sha(device_index) == before


def test_index_signed_by_another_key_is_rejected(hub, published, embedder, tmp_path):
    from scanner import signing

    _, device_index = published
    other_key = signing.generate_key(tmp_path / "other.pem")
    with pytest.raises(IndexUpdateError, match="signature does not verify"):
        update_index(hub.client(), device_index, other_key, embedder.sha256)


def test_index_for_another_model_is_rejected(hub, published):
    _, device_index = published
    with pytest.raises(IndexUpdateError, match="built for model"):
        update_index(hub.client(), device_index, hub.public_key, "f" * 64)


def test_cli_records_scans_and_sync_pushes_the_flagged_ones(hub, tmp_path, demo_index_path):
    store = tmp_path / "scans.db"
    photos = ROOT / "samples" / "photos"
    out = hub.cli(
        "scan",
        "--db",
        str(demo_index_path),
        "--store",
        str(store),
        "--json",
        "--operator",
        "ana",
        str(photos / "genuine_ferrari_0.jpg"),
        str(photos / "colour_ferrari_0.jpg"),
    )
    records = [json.loads(line)["record"] for line in out.splitlines()]
    assert all(records)
    listed = [json.loads(line) for line in hub.cli("scans", "list", "--store", str(store), "--json").splitlines()]
    assert {r["uuid"] for r in listed} == set(records) and {r["operator"] for r in listed} == {"ana"}
    shown = json.loads(hub.cli("scans", "show", records[1], "--store", str(store), "--image", str(tmp_path / "f.jpg")))
    assert (
        shown["verdict"] == "suspect" and shown["queued"] == 1 and (tmp_path / "f.jpg").read_bytes()[:2] == b"\xff\xd8"
    )
    csv_text = hub.cli("scans", "export", "--store", str(store), "--format", "csv")
    assert csv_text.splitlines()[0].startswith("uuid,created_at,device_id") and len(csv_text.splitlines()) == 3

    synced = hub.cli("sync", "--store", str(store), "--hub", hub.url, "--token", hub.token)
    assert "this device is 'kit-01'" in synced and "scans: 1 sent, 0 already at the hub, 0 pending" in synced
    assert hub.count() == 1


def test_cli_no_record_leaves_no_store(tmp_path, demo_index_path):
    store = tmp_path / "scans.db"
    out = subprocess.run(
        [
            *SCANNER,
            "scan",
            "--db",
            str(demo_index_path),
            "--store",
            str(store),
            "--no-record",
            str(ROOT / "samples" / "photos" / "genuine_bmw_0.jpg"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 0 and not store.exists()


def test_live_run_syncs_flagged_scans_in_the_background(hub, tmp_path, demo_index_path):
    config = tmp_path / "scanner.toml"
    config.write_text(
        f'[hub]\nurl = "{hub.url}"\ntoken = "{hub.token}"\nsync_interval = 60\n'
        f'[store]\npath = "{tmp_path / "scans.db"}"\n'
    )
    hub.cli("--config", str(config), *live_run(demo_index_path, "--headless", "--auto"))
    assert hub.count() == 1  # the recoloured Ferrari mark; pass, unknown and rescan stay on the device
    with ScanStore(tmp_path / "scans.db") as store:
        assert len(store.uuids()) == 4 and store.pending_count() == 0


def test_sync_reports_an_unreachable_hub_and_keeps_the_queue(tmp_path):
    store = flagged_store(tmp_path / "scans.db", 2)
    store.close()
    out = subprocess.run(
        [
            *SCANNER,
            "sync",
            "--store",
            str(tmp_path / "scans.db"),
            "--hub",
            f"http://127.0.0.1:{free_port()}",
            "--token",
            "t",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "unreachable" in out.stderr and "2 flagged scans stay queued" in out.stderr


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_database_from_an_older_hub_gains_the_new_columns_and_keeps_its_scans(backend, tmp_path):
    """create_all makes only missing tables: a hub database from before views_jpeg gets the column added when
    the hub opens it, its scans kept."""
    import sqlalchemy as sa

    if backend == "postgresql" and not PG_URL:
        pytest.skip("set SCANNER_TEST_DATABASE_URL to a PostgreSQL database (.ci/run does)")
    url = database_url(tmp_path, PG_URL if backend == "postgresql" else None)
    storage = HubStorage(url)
    with storage.engine.begin() as conn:
        for table in ("decisions", "scans", "devices"):
            conn.execute(sa.text(f"delete from {table}"))  # PostgreSQL's database is shared between tests
        conn.execute(sa.text("alter table scans drop column views_jpeg"))  # as an older hub made it
    storage.add_device("old-kit")
    with storage.engine.begin() as conn:
        conn.execute(
            sa.text("insert into scans (uuid, device, received_at, record) values ('u1', 'old-kit', 't', '{}')")
        )
    storage.dispose()
    reopened = HubStorage(url)
    try:
        assert reopened.count_scans() == 1 and reopened.scan_image("u1", "views_jpeg") is None
        assert reopened.put_scan("old-kit", {"uuid": "u2"}, {"views_jpeg": b"\xff\xd8\xff views"})
        assert reopened.scan_image("u2", "views_jpeg") == b"\xff\xd8\xff views"
    finally:
        reopened.dispose()
