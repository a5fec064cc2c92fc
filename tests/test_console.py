"""The hub's review console in a real browser (Debian's chromium, driven by Playwright) against the hub on
loopback, and its access rules over plain HTTP. Screenshots go to test-artifacts/."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess

import httpx
import pytest

from scanner.store import ScanStore
from scanner.sync import push_outbox
from tests.conftest import ROOT
from tests.test_hub import SCANNER, Hub
from tests.test_store import CONTEXT, result

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PASSWORD = "correct horse battery"


@pytest.fixture
def console(tmp_path, demo_index_path):
    """A hub with reviewer 'ines' and the suspect scans of the bundled photos (3: the recoloured Ferrari,
    the Adidas with a part missing and the stretched Starbucks) synced from one device."""
    hub = Hub(tmp_path / "hub", None)
    subprocess.run(
        [*SCANNER, "hub", "add-reviewer", "ines", "--data", str(hub.data), "--password-stdin"],
        input=PASSWORD + "\n",
        text=True,
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    hub.start()
    store_path = tmp_path / "scans.db"
    subprocess.run(
        [
            *SCANNER,
            "scan",
            "--db",
            str(demo_index_path),
            "--store",
            str(store_path),
            "--operator",
            "ana",
            str(ROOT / "samples" / "photos"),
        ],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    with ScanStore(store_path) as store:
        assert push_outbox(store, hub.client()).sent == 3
    yield hub
    hub.kill()


def login(client: httpx.Client, password: str = PASSWORD) -> httpx.Response:
    page = client.get("/login")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    return client.post("/login", data={"username": "ines", "password": password, "csrf": csrf, "next": "/scans"})


def test_everything_is_behind_login(console):
    with httpx.Client(base_url=console.url) as client:
        assert client.get("/scans").status_code == 303
        assert client.get("/scans").headers["location"].startswith("/login")
        uuid = console.storage().list_scans(1)[0]["uuid"]
        assert client.get(f"/scans/{uuid}").status_code == 303
        assert client.get(f"/scans/{uuid}/frame.jpg").status_code == 401
        assert client.get("/decisions.csv").status_code == 401
        refused = client.post(f"/scans/{uuid}/decision", data={"decision": "false_alarm", "csrf": "x"})
        assert refused.status_code == 303  # to the login page, nothing stored
        assert console.storage().scan_detail(uuid)["decisions"] == []


def test_wrong_password_and_missing_csrf_are_refused(console):
    with httpx.Client(base_url=console.url) as client:
        assert login(client, "not the password").status_code == 401
        assert "hub_session" not in client.cookies
        no_csrf = client.post("/login", data={"username": "ines", "password": PASSWORD, "csrf": ""})
        assert no_csrf.status_code == 403


def test_decision_needs_the_session_csrf_token(console):
    with httpx.Client(base_url=console.url) as client:
        assert login(client).status_code == 303
        uuid = console.storage().list_scans(1)[0]["uuid"]
        forged = client.post(f"/scans/{uuid}/decision", data={"decision": "false_alarm", "csrf": "forged"})
        assert forged.status_code == 403
        assert console.storage().scan_detail(uuid)["decisions"] == []
        page = client.get(f"/scans/{uuid}")
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        ok = client.post(f"/scans/{uuid}/decision", data={"decision": "false_alarm", "note": "ok", "csrf": csrf})
        assert ok.status_code == 303
        rows = list(csv.DictReader(io.StringIO(client.get("/decisions.csv").text)))
        assert [(r["uuid"], r["decision"], r["reviewer"], r["note"]) for r in rows] == [
            (uuid, "false_alarm", "ines", "ok")
        ]


def test_filters_and_paging(console):
    store = ScanStore(console.data.parent / "more.db")
    for _ in range(30):
        store.record(result(), None, CONTEXT)
    push_outbox(store, console.client())
    with httpx.Client(base_url=console.url) as client:
        login(client)
        first = client.get("/scans")
        assert 'Flagged scans <span class="muted">(33)</span>' in first.text and "page 1 of 2" in first.text
        assert "page 2 of 2" in client.get("/scans?page=2").text
        acme = client.get("/scans?brand=acme")
        assert "(30)" in acme.text and "starbucks" not in acme.text
        ferrari = client.get("/scans?brand=ferrari&verdict=suspect")
        assert "(1)" in ferrari.text


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_review_in_a_real_browser(console):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.goto(f"{console.url}/scans")
        assert "/login" in page.url

        page.fill("input[name=username]", "ines")
        page.fill("input[name=password]", "wrong password")
        page.click("button[type=submit]")
        assert page.locator("[role=alert]").inner_text() == "Wrong name or password."

        page.fill("input[name=username]", "ines")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/scans")
        rows = page.locator("tr[data-uuid]")
        assert rows.count() == 3
        page.screenshot(path=str(ARTIFACTS / "console_list.png"), full_page=True)

        page.locator("tr[data-uuid]", has_text="ferrari").locator("text=Open").click()
        page.wait_for_selector("#photo")
        for image in ("#photo", "#reference", "#heatmap"):
            assert page.eval_on_selector(image, "img => img.complete && img.naturalWidth > 0"), image
        assert "colour differs from reference" in page.inner_text("main")
        # Which models judged it: the embedder and the verifier, by sha256 prefix.
        from scanner.config import DEFAULT_MODEL, DEFAULT_VERIFIER
        from scanner.embed import file_sha256

        models = f"{file_sha256(DEFAULT_MODEL)[:12]} / {file_sha256(DEFAULT_VERIFIER)[:12]}"
        assert models in page.inner_text("main")
        page.check("input[value=confirmed_counterfeit]")
        page.fill("textarea[name=note]", "Seized, case 2026-118")
        page.click("text=Save decision")
        page.wait_for_selector("#decision-note")
        page.reload()
        assert "confirmed counterfeit" in page.inner_text("#decision")
        assert page.inner_text("#decision-note") == "“Seized, case 2026-118”"
        page.screenshot(path=str(ARTIFACTS / "console_detail.png"), full_page=True)

        page.goto(f"{console.url}/scans?decision=confirmed_counterfeit")
        assert page.locator("tr[data-uuid]").count() == 1
        browser.close()


def test_an_item_scanned_from_two_views_shows_every_view(console, demo_index_path, tmp_path):
    """The flagged two-view sample item, scanned with --item and synced: its page shows both views side by
    side with each view's verdict and score, and serves them as one JPEG."""
    store_path = tmp_path / "item.db"
    item = ROOT / "samples" / "views" / "stroke_newbalance"
    subprocess.run(
        [*SCANNER, "scan", "--db", str(demo_index_path), "--store", str(store_path), "--item", str(item)],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    with ScanStore(store_path) as store:
        assert push_outbox(store, console.client()).sent == 1
        uuid = next(iter(store.uuids()))
        recorded = store.get(uuid)["result"]["views"]
    # The first view passes the thinner-lined mark and the second flags it; the scores are the device's own
    # (the int8 kernels round differently from one CPU to another, by a hundredth here and there).
    assert [v["verdict"] for v in recorded] == ["pass", "suspect"]
    shown = "; ".join(f"view {v['view']} {v['verdict']} {v['authenticity']:.2f}" for v in recorded)
    with httpx.Client(base_url=console.url) as client:
        login(client)
        page = client.get(f"/scans/{uuid}").text
        assert 'id="views"' in page and f"2 views: {shown}" in " ".join(page.split())
        views = client.get(f"/scans/{uuid}/views.jpg")
        assert views.status_code == 200 and views.content[:3] == b"\xff\xd8\xff"
        single = next(r["uuid"] for r in console.storage().list_scans() if r["brand"] == "ferrari")
        assert 'id="views"' not in client.get(f"/scans/{single}").text  # a single scan has no such figure
        listed = client.get("/scans?brand=newbalance").text
        assert "several views" in listed and "several views" not in client.get("/scans?brand=ferrari").text
