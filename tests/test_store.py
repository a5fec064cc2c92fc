import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from scanner.exc import StoreError
from scanner.locate import Box
from scanner.result import ScanResult
from scanner.store import MIGRATIONS, RecordContext, ScanStore
from scanner.verdict import Verdict
from tests.conftest import ROOT

CONTEXT = RecordContext(device_id="kit-01", operator="ana", model_sha256="m" * 64, index_version="3")
FRAME = np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8)


def result(verdict: Verdict = Verdict.SUSPECT, brand: str | None = "acme") -> ScanResult:
    return ScanResult(
        image="photo.jpg",
        verdict=verdict,
        brand=brand,
        brand_name="Acme",
        similarity=0.8,
        authenticity=0.2 if verdict == Verdict.SUSPECT else 0.9,
        reasons=["colour differs"],
        box=Box(1, 2, 3, 4),
        heatmap=np.full((8, 8), 0.5, np.float32),
    )


@pytest.fixture
def store(tmp_path):
    with ScanStore(tmp_path / "scans.db") as s:
        yield s


def test_record_keeps_the_evidence(store):
    scan_id = store.record(result(), FRAME, CONTEXT)
    row = store.get(scan_id)
    assert (row["device_id"], row["operator"], row["verdict"], row["brand"]) == ("kit-01", "ana", "suspect", "acme")
    assert row["reasons"] == ["colour differs"] and row["result"]["box"] == [1, 2, 3, 4]
    assert row["frame_jpeg"][:3] == b"\xff\xd8\xff" and row["heatmap_png"][:4] == b"\x89PNG"
    assert row["created_at"].endswith("+00:00") and row["model_sha256"] == "m" * 64
    assert row["queued"] == 1


def test_only_flagged_scans_are_queued(tmp_path):
    with ScanStore(tmp_path / "a.db") as strict, ScanStore(tmp_path / "b.db", flag_unknown=True) as wide:
        for s in (strict, wide):
            for verdict in Verdict:
                s.record(result(verdict), FRAME, CONTEXT)
        assert strict.pending_count() == 1 and wide.pending_count() == 2


def test_wal_and_full_sync(store):
    assert store.conn.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("pragma synchronous").fetchone()[0] == 2  # FULL


def test_schema_version_and_newer_file_refused(tmp_path):
    path = tmp_path / "s.db"
    with ScanStore(path) as s:
        assert s.conn.execute("pragma user_version").fetchone()[0] == len(MIGRATIONS)
        s.conn.execute(f"pragma user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(StoreError, match="newer scanner"):
        ScanStore(path)


def test_not_a_database(tmp_path):
    path = tmp_path / "s.db"
    path.write_bytes(b"garbage" * 1000)
    with pytest.raises(StoreError, match="cannot open the scan store"):
        ScanStore(path)


def test_outbox_backoff_and_ack(store):
    first = store.record(result(), FRAME, CONTEXT)
    store.record(result(), FRAME, CONTEXT)
    assert len(store.due(now=0)) == 2
    store.mark_failed(first, "hub down", next_attempt_at=1000.0)
    assert [i.uuid for i in store.due(now=999)] != [first] and len(store.due(now=999)) == 1
    assert len(store.due(now=999, ignore_backoff=True)) == 2
    store.mark_acked(first)
    assert store.pending_count() == 1 and store.get(first)["acked_at"]


def test_budget_evicts_synced_and_unflagged_images_never_pending_flagged(tmp_path):
    big = np.random.default_rng(1).integers(0, 256, (480, 640, 3), dtype=np.uint8)  # ~250 KB as JPEG
    with ScanStore(tmp_path / "s.db", max_bytes=0) as s:
        pending = [s.record(result(Verdict.SUSPECT), big, CONTEXT) for _ in range(3)]
        synced = s.record(result(Verdict.SUSPECT), big, CONTEXT)
        s.mark_acked(synced)
        plain = [s.record(result(Verdict.PASS), big, CONTEXT) for _ in range(3)]
        s.max_bytes = int(s.used_bytes() * 0.6)
        evicted = s.enforce_limit()
        assert evicted >= 3
        assert all(s.get(u)["frame_jpeg"] for u in pending)
        assert not s.get(synced)["frame_jpeg"] and s.get(synced)["images_evicted"] == 1
        assert all(s.get(u)["verdict"] == "pass" for u in plain)  # records stay, only images go
        s.max_bytes = 1  # impossible: only pending flagged images are left
        s.enforce_limit()
        assert all(s.get(u)["frame_jpeg"] for u in pending)


def test_list_and_filter(store):
    for verdict in (Verdict.PASS, Verdict.SUSPECT, Verdict.PASS):
        store.record(result(verdict), None, CONTEXT)
    assert [r["verdict"] for r in store.scans(verdict="pass")] == ["pass", "pass"]
    assert len(store.scans(limit=2)) == 2


FILL_SCRIPT = textwrap.dedent("""
    import json, resource, signal, sys
    import numpy as np
    from scanner.exc import StoreError
    from scanner.store import ScanStore
    from tests.test_store import CONTEXT, result
    store = ScanStore(sys.argv[1])
    if sys.argv[2] == "rlimit":  # the process may not write files past 2 MB
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (2_000_000, 2_000_000))
    frame = np.random.default_rng(2).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    done = []
    try:
        for _ in range(100):
            done.append(store.record(result(), frame, CONTEXT))
    except StoreError as err:
        print(json.dumps({"done": done, "error": str(err)}))
    else:
        print(json.dumps({"done": done, "error": None}))
""")


def _fill(path: Path, mode: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", FILL_SCRIPT, str(path), mode], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["error"] and 0 < len(report["done"]) < 100, report
    with ScanStore(path) as s:
        assert s.integrity_check() == "ok"
        assert s.uuids() == set(report["done"])  # every committed scan is there, the failed one is not
    return report


def test_file_size_limit_is_a_clear_error_and_nothing_is_corrupted(tmp_path):
    report = _fill(tmp_path / "limited.db", "rlimit")
    assert report["error"].startswith("disk write failed (storage full or failing): scan not recorded")


@pytest.fixture
def small_filesystem(tmp_path):
    mountpoint = tmp_path / "small"
    mountpoint.mkdir()
    if (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mountpoint)], capture_output=True
        ).returncode
        != 0
    ):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mountpoint
    subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def test_full_filesystem_is_a_clear_error_and_nothing_is_corrupted(small_filesystem):
    report = _fill(small_filesystem / "scans.db", "disk")
    assert report["error"].startswith("disk full: scan not recorded"), report["error"]


def _older_store(path: Path, version: int, scan_id: str) -> Path:
    """A store file as a scanner at schema `version` left it, holding one passed scan."""
    import sqlite3

    conn = sqlite3.connect(path)
    for migration in MIGRATIONS[:version]:
        conn.executescript(migration)
    conn.execute(
        "insert into scans (uuid, created_at, device_id, verdict, result) values (?, 't', 'kit-01', 'pass', '{}')",
        (scan_id,),
    )
    conn.execute(f"pragma user_version = {version}")
    conn.commit()
    conn.close()
    return path


def test_verifier_is_recorded_and_an_older_store_is_upgraded_in_place(tmp_path):
    """A store written before migration 3 keeps its scans and gains the verifier column."""
    path = _older_store(tmp_path / "old.db", 2, "old-1")
    context = RecordContext(device_id="kit-01", model_sha256="m" * 64, verifier_sha256="v" * 64)
    with ScanStore(path) as s:
        assert s.conn.execute("pragma user_version").fetchone()[0] == len(MIGRATIONS) >= 3
        assert s.get("old-1")["verdict"] == "pass" and s.get("old-1")["verifier_sha256"] is None
        verified = s.record(result(), FRAME, context)
        unverified = result(Verdict.UNKNOWN, None)
        unverified.authenticity = None
        unknown = s.record(unverified, FRAME, context)
        assert s.get(verified)["verifier_sha256"] == "v" * 64
        assert s.get(unknown)["verifier_sha256"] is None  # never verified: no verifier judged it
        exported = {r["uuid"]: r["verifier_sha256"] for r in s.rows_for_export()}
        assert exported == {"old-1": None, verified: "v" * 64, unknown: None}


def test_an_item_keeps_every_view_side_by_side_and_a_single_scan_none(store):
    """An item scanned from two views (scanner/views.py) records both frames as one JPEG; the budget drops it
    like the other images once the scan is synced."""
    import cv2

    from scanner.store import VIEWS_HEIGHT

    item = result()
    item.view_frames = [FRAME, np.zeros((60, 160, 3), np.uint8)]  # 160x120 and 160x60
    both = store.get(store.record(item, FRAME, CONTEXT))["views_jpeg"]
    sheet = cv2.imdecode(np.frombuffer(both, np.uint8), cv2.IMREAD_COLOR)
    assert sheet.shape == (VIEWS_HEIGHT, 320 + 8 + 640, 3)  # each view at the same height, a gap between
    assert store.get(store.record(result(), FRAME, CONTEXT))["views_jpeg"] is None
    passed = result(Verdict.PASS)
    passed.view_frames = item.view_frames
    unflagged = store.record(passed, FRAME, CONTEXT)
    store.max_bytes = 1  # over budget: the images of scans not waiting for the hub go
    assert store.enforce_limit() >= 1 and store.get(unflagged)["views_jpeg"] is None


def test_an_older_store_gains_the_views_column_and_keeps_its_scans(tmp_path):
    path = _older_store(tmp_path / "v3.db", 3, "old")
    with ScanStore(path) as s:
        assert s.get("old")["verdict"] == "pass" and s.get("old")["views_jpeg"] is None
        item = result()
        item.view_frames = [FRAME, FRAME]
        assert s.get(s.record(item, FRAME, CONTEXT))["views_jpeg"][:3] == b"\xff\xd8\xff"
