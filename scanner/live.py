"""The live scanning loop: preview, triggers (button, key, or auto when steady), scans off the display thread.

The loop owns the camera and the screen; a worker thread owns the pipeline, so the preview keeps moving
while a frame is scanned. With a finite source (a video or image files) and no screen, scans run inline
instead: no frame is dropped and the output is the same on every run.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from .camera import Camera, Frame
from .config import LiveConfig, QualityConfig
from .display import Window, render_live
from .gpio import NullIndicator
from .pipeline import Pipeline
from .quality import analysis_grey, sharpness
from .result import ScanResult
from .verdict import Verdict
from .views import wants_more_views

logger = logging.getLogger(__name__)

KEY_QUIT = {ord("q"), 27}  # q, Esc
KEY_SCAN = {ord(" "), 13}  # space, Enter
STILL_SIZE = (80, 60)
MIN_BANNER_SECONDS = 1.0  # a verdict stays at least this long, even if the camera moves at once


class SteadyTrigger:
    """Fires once the view has been still and sharp for `steady_frames` frames; re-arms after the view moves.

    One scan per item held up to the camera, and none while the operator is still aiming.
    """

    def __init__(self, live: LiveConfig, quality: QualityConfig) -> None:
        self.live, self.quality = live, quality
        self._previous: np.ndarray | None = None
        self._still = 0
        self._armed = True
        self.moving = False

    def update(self, image: np.ndarray) -> bool:
        grey = analysis_grey(image)
        small = cv2.resize(grey, STILL_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)
        change = float(np.abs(small - self._previous).mean()) if self._previous is not None else 255.0
        self._previous = small
        self.moving = change > 3 * self.live.steady_change
        if self.moving:
            self._armed = True
        sharp = sharpness(grey) >= self.quality.min_sharpness
        self._still = self._still + 1 if change < self.live.steady_change and sharp else 0
        if self._armed and self._still >= self.live.steady_frames:
            self._armed, self._still = False, 0
            return True
        return False


class InlineWorker:
    """Scans in the caller's thread."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self._done: list[tuple[Frame, ScanResult]] = []

    @property
    def busy(self) -> bool:
        return False

    def submit(self, frame: Frame) -> None:
        self._done.append((frame, self.pipeline.scan(frame.image)))

    def poll(self) -> tuple[Frame, ScanResult] | None:
        return self._done.pop(0) if self._done else None

    def close(self) -> list[tuple[Frame, ScanResult]]:
        done, self._done = self._done, []
        return done


class ThreadWorker:
    """Scans one frame at a time on its own thread; a trigger while busy is ignored."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self._jobs: queue.Queue[Frame | None] = queue.Queue(maxsize=1)
        self._results: queue.Queue[tuple[Frame, ScanResult]] = queue.Queue()
        self._busy = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scan-worker", daemon=True)
        self._thread.start()

    @property
    def busy(self) -> bool:
        return self._busy.is_set()

    def submit(self, frame: Frame) -> None:
        self._busy.set()
        self._jobs.put(frame)

    def _run(self) -> None:
        while (frame := self._jobs.get()) is not None:
            try:
                self._results.put((frame, self.pipeline.scan(frame.image)))
            except Exception:  # keep the loop alive; the operator sees no verdict and can rescan
                logger.exception("scan failed")
            finally:
                self._busy.clear()

    def poll(self) -> tuple[Frame, ScanResult] | None:
        try:
            return self._results.get_nowait()
        except queue.Empty:
            return None

    def close(self) -> list[tuple[Frame, ScanResult]]:
        self._jobs.put(None)
        self._thread.join(timeout=30)
        done = []
        while (item := self.poll()) is not None:
            done.append(item)
        return done


class ItemViews:
    """Gathers the scans of one item until it has `views` of them, then gives the item's result
    (Pipeline.combine). A frame sent to rescan is passed on at once, to say what to fix, and is not a view.
    Views still due when the operator walks away (`overdue`) or the loop ends (`flush`) do not hold the item back:
    it is judged from the views taken, and recorded."""

    def __init__(self, pipeline: Pipeline, views: int, more_views_for: str = "all", wait_seconds: float = 0.0) -> None:
        self.pipeline, self.views, self.more_views_for = pipeline, views, more_views_for
        self.wait_seconds = wait_seconds
        self._taken: list[tuple[Frame, ScanResult]] = []
        self._last = 0.0  # when the last view came in (time.monotonic)

    @property
    def taken(self) -> int:
        """Views of the current item scanned so far."""
        return len(self._taken)

    def add(self, frame: Frame, result: ScanResult) -> tuple[Frame, ScanResult] | None:
        """The result to show and record: this scan's, the item's once complete, or None while views are due."""
        if self.views == 1 or result.verdict is Verdict.RESCAN:
            return frame, result
        if not self._taken and not wants_more_views(result, self.more_views_for):
            return frame, result
        self._taken.append((frame, result))
        self._last = time.monotonic()
        return None if len(self._taken) < self.views else self.flush()

    def overdue(self, now: float) -> tuple[Frame, ScanResult] | None:
        """The item judged from the views taken, once the next has been due for `wait_seconds` (0: never)."""
        if self._taken and self.wait_seconds and now - self._last > self.wait_seconds:
            return self.flush()
        return None

    def flush(self) -> tuple[Frame, ScanResult] | None:
        """The item judged from the views taken so far (None when there are none), and a fresh start."""
        if not self._taken:
            return None
        taken, self._taken = self._taken, []
        shown, combined = self.pipeline.combine([r for _, r in taken], [frame.image for frame, _ in taken])
        return taken[shown][0], combined


@dataclass
class LiveOptions:
    auto: bool
    max_scans: int | None = None


def status_line(auto: bool, busy: bool, views: tuple[int, int] = (0, 1)) -> str:
    """The line under the preview; `views`: (views of the current item taken, views per item)."""
    if busy:
        return "scanning..."
    taken, wanted = views
    if taken:
        return f"view {taken} of {wanted} taken: turn the item a little, then " + ("hold" if auto else "scan")
    return "auto: hold the logo steady in the frame" if auto else "press the button or SPACE to scan"


def box_scale(frame: Frame) -> float:
    """Factor from pipeline-image coordinates to preview coordinates (the Pi's lores vs main streams)."""
    return frame.preview.shape[1] / frame.image.shape[1]


def run_live(
    pipeline: Pipeline,
    camera: Camera,
    options: LiveOptions,
    config: LiveConfig,
    quality: QualityConfig,
    on_result: Callable[[Frame, ScanResult], None],
    window: Window | None = None,
    indicator: NullIndicator | None = None,
) -> int:
    """Run until `q`, the end of a finite source, or max_scans; returns the number of scans."""
    indicator = indicator or NullIndicator()
    pressed = threading.Event()
    indicator.on_trigger(pressed.set)
    worker = InlineWorker(pipeline) if window is None and not camera.live else ThreadWorker(pipeline)
    steady = SteadyTrigger(config, quality)
    item = ItemViews(pipeline, config.views, config.more_views_for, config.view_wait_seconds)
    pace = 1.0 / camera.fps if window is not None and not camera.live and camera.fps else 0.0
    shown: tuple[ScanResult, float] | None = None
    scans = 0

    def room() -> bool:
        """Whether another result may still be shown (max_scans)."""
        return options.max_scans is None or scans < options.max_scans

    def finish(frame: Frame, result: ScanResult) -> None:
        nonlocal shown, scans
        shown = (result, time.monotonic())
        scans += 1
        indicator.show(result.verdict)
        on_result(frame, result)

    try:
        while room():
            started = time.monotonic()
            frame = camera.read()
            if frame is None:
                break
            trigger = pressed.is_set()
            pressed.clear()
            if steady.update(frame.image) and options.auto:
                trigger = True
            if shown and (
                time.monotonic() - shown[1] > config.banner_seconds
                or (steady.moving and time.monotonic() - shown[1] > MIN_BANNER_SECONDS)
            ):
                shown = None  # the verdict belonged to the item that was in view; the view has moved on
            if window is not None:
                recent = shown[0] if shown else None
                status = status_line(options.auto, worker.busy, (item.taken, config.views))
                window.show(render_live(frame.preview, recent, status, box_scale(frame)))
                key = window.key(max(1, int((pace - (time.monotonic() - started)) * 1000)))
                if key in KEY_QUIT:
                    break
                trigger = trigger or key in KEY_SCAN
            if trigger and not worker.busy:
                worker.submit(frame)
            if (done := worker.poll()) is not None:
                if (ready := item.add(*done)) is not None:
                    finish(*ready)
                else:
                    shown = None  # the banner of the item before is no longer about what is in view
                    indicator.view_taken()
            elif not worker.busy and (ready := item.overdue(time.monotonic())) is not None:
                finish(*ready)
    finally:
        for done in worker.close():
            if room() and (ready := item.add(*done)) is not None:
                finish(*ready)
        if room() and (ready := item.flush()) is not None:
            finish(*ready)  # a view taken is never lost: the item is judged from what was taken
    return scans
