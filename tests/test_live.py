"""The live loop: the steady trigger, a real video through the OpenCV backend in headless mode, and the
Pi camera path (fake picamera2, gpiozero MockFactory button)."""

import json
import subprocess
import sys
import threading
import time

import numpy as np
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from scanner.camera import open_camera
from scanner.config import CameraConfig, GpioConfig, LiveConfig, QualityConfig, ScannerConfig
from scanner.gpio import GpioIndicator, NullIndicator
from scanner.imageio import read_image
from scanner.live import LiveOptions, SteadyTrigger, run_live
from scanner.pipeline import Pipeline
from scanner.verdict import Verdict
from tests import fake_picamera2
from tests.conftest import BRANDS, PHOTOS, ROOT, live_run

LIVE = LiveConfig(steady_frames=4)
QUALITY = QualityConfig()


def _noisy(image: np.ndarray, seed: int) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0, 2, image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


def test_steady_trigger_fires_once_per_held_item():
    photo, other = read_image(PHOTOS / "genuine_ferrari_0.jpg"), read_image(PHOTOS / "genuine_nike_0.jpg")
    trigger = SteadyTrigger(LIVE, QUALITY)
    fired = [trigger.update(_noisy(photo, i)) for i in range(10)]
    assert fired == [False] * 4 + [True] + [False] * 5  # first frame has nothing to compare with
    fired = [trigger.update(_noisy(other, i)) for i in range(10)]
    assert fired.count(True) == 1  # moved to another item: re-armed, fires again


def test_steady_trigger_ignores_a_still_blurred_view():
    import cv2

    blurred = cv2.GaussianBlur(read_image(PHOTOS / "genuine_ferrari_0.jpg"), (0, 0), 8)
    trigger = SteadyTrigger(LIVE, QUALITY)
    assert not any(trigger.update(_noisy(blurred, i)) for i in range(12))


def test_headless_video_gives_one_verdict_per_held_item(demo_index_path):
    """The sample video holds four items up in turn: a genuine mark, an altered one, an unenrolled one, a dark frame."""
    command = [sys.executable, "-m", "scanner.cli", *live_run(demo_index_path, "--headless", "--auto")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["verdict"], r["brand"]) for r in rows] == [
        ("pass", "ferrari"),
        ("suspect", "ferrari"),
        ("unknown", None),
        ("rescan", None),
    ]
    assert [r["frame"] for r in rows] == sorted(r["frame"] for r in rows)
    assert all(set(r["timings_ms"]) >= {"quality", "total"} for r in rows)


def test_pi_camera_button_scan_lights_the_led(demo_index_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "picamera2", fake_picamera2)
    monkeypatch.setattr(fake_picamera2, "FRAMES", [read_image(PHOTOS / "genuine_ferrari_0.jpg")])
    previous, Device.pin_factory = Device.pin_factory, MockFactory()
    config = ScannerConfig()
    results = []
    try:
        with (
            Pipeline(config, demo_index_path) as pipeline,
            open_camera("picamera2", CameraConfig()) as camera,
            GpioIndicator(GpioConfig()) as indicator,
        ):
            button = Device.pin_factory.pin(GpioConfig().trigger_pin)
            threading.Timer(0.3, button.drive_low).start()
            scans = run_live(
                pipeline,
                camera,
                LiveOptions(auto=False, max_scans=1),
                config.live,
                config.quality,
                lambda frame, result: results.append((frame, result)),
                None,
                indicator,
            )
            green = Device.pin_factory.pin(GpioConfig().green_pin).state
    finally:
        Device.pin_factory.reset()
        Device.pin_factory = previous
    assert scans == 1
    frame, result = results[0]
    assert (result.verdict, result.brand) == (Verdict.PASS, "ferrari")
    assert frame.preview.shape == (960, 1280, 3) and frame.image.shape == (480, 640, 3)
    assert green


def test_two_views_of_one_item_give_one_verdict(demo_index_path, monkeypatch):
    """[live] views = 2 on the Pi camera path: the item is held steady, turned, held again; one result comes
    out, from both views, and the line under the preview asks for the second view in between."""
    from scanner.live import status_line

    sys.path.insert(0, str(ROOT / "tools"))
    from synth_photos import load_mark, photograph_views

    first, second = photograph_views(load_mark(BRANDS / "ferrari" / "logo.png"), np.random.default_rng(8), 2, rich=True)
    monkeypatch.setitem(sys.modules, "picamera2", fake_picamera2)
    monkeypatch.setattr(fake_picamera2, "FRAMES", [first] * 12 + [second] * 12)
    config = ScannerConfig()
    live = LiveConfig(steady_frames=4, views=2)
    results = []

    class Cues(NullIndicator):  # what the LEDs and buzzer were told, in order
        said: list[str] = []

        def show(self, verdict):
            self.said.append(verdict.value)

        def view_taken(self):
            self.said.append("view taken")

    with Pipeline(config, demo_index_path) as pipeline, open_camera("picamera2", CameraConfig()) as camera:
        scans = run_live(
            pipeline,
            camera,
            LiveOptions(auto=True, max_scans=1),
            live,
            config.quality,
            lambda frame, result: results.append(result),
            None,
            Cues(),
        )
    assert scans == 1 and len(results) == 1
    assert Cues.said == ["view taken", "pass"]
    item = results[0]
    assert (item.verdict, item.brand) == (Verdict.PASS, "ferrari")
    assert [v["verdict"] for v in item.views] == ["pass", "pass"]
    assert "in 2 views" in item.reasons[0]
    assert len(item.view_frames) == 2  # both frames, for the record's side-by-side image
    assert status_line(True, False, (1, 2)) == "view 1 of 2 taken: turn the item a little, then hold"


def test_views_still_due_when_the_video_ends_are_judged_and_kept(demo_index_path):
    """`scanner run --views 2` ([live] views = 2) on the sample video, whose four items are each held once: the
    first two (a genuine and an altered Ferrari mark) are taken as two views of one item, the dark frame is a
    rescan at once and is not a view, and the unenrolled mark left waiting for its second view is judged alone
    when the video ends."""
    command = [sys.executable, "-m", "scanner.cli", *live_run(demo_index_path, "--headless", "--auto", "--views", "2")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["verdict"], len(r.get("views", []))) for r in rows] == [("suspect", 2), ("rescan", 0), ("unknown", 1)]
    assert [v["verdict"] for v in rows[0]["views"]] == ["pass", "suspect"]


def test_an_item_waiting_too_long_for_its_next_view_is_judged_from_those_taken(demo_index_path):
    from scanner.camera import Frame
    from scanner.live import ItemViews

    frame = Frame(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4, 3), np.uint8), 0)
    with Pipeline(ScannerConfig(), demo_index_path) as pipeline:
        first = pipeline.scan(read_image(PHOTOS / "genuine_ferrari_0.jpg"))
        item = ItemViews(pipeline, 2, "all", wait_seconds=5.0)
        assert item.add(frame, first) is None
        assert item.overdue(time.monotonic() + 1) is None and item.taken == 1
        _, alone = item.overdue(time.monotonic() + 6)
    assert alone.verdict is Verdict.PASS and [v["view"] for v in alone.views] == [1] and item.taken == 0
    assert item.flush() is None  # nothing left waiting
