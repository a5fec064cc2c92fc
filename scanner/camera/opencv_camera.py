"""USB cameras, video files and streams through OpenCV's VideoCapture (`opencv:0`, `opencv:clip.mp4`, `opencv:rtsp://…`)."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from ..exc import CameraError
from .base import Camera

logger = logging.getLogger(__name__)

MAX_FAILED_READS = 30  # a live camera that stops delivering for this many reads is treated as gone


def fit_within(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scale down (never up) so the image fits in size=(width, height), keeping its aspect."""
    height, width = image.shape[:2]
    scale = min(size[0] / width, size[1] / height)
    if scale >= 1:
        return image
    return cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)


class OpenCVCamera(Camera):
    def __init__(self, spec: str, target: str, inference_size: tuple[int, int]) -> None:
        super().__init__(spec)
        self.device = int(target) if target.isdigit() else None
        self.target = target
        self.inference_size = inference_size
        self.live = self.device is not None or "://" in target
        self._capture: cv2.VideoCapture | None = None
        self._failures = 0

    def open(self) -> None:
        if self.device is None and "://" not in self.target and not Path(self.target).is_file():
            raise CameraError(f"video file not found: {self.target}")
        capture = cv2.VideoCapture(self.device if self.device is not None else self.target)
        if not capture.isOpened():
            hint = (
                "is it plugged in? `v4l2-ctl --list-devices` lists cameras"
                if self.device is not None
                else ("is it a video OpenCV can decode (mp4, avi, mkv)?")
            )
            raise CameraError(f"cannot open {self.spec}: {hint}")
        if self.device is not None:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.inference_size[0])
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.inference_size[1])
        fps = capture.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and fps > 0 else None
        self._capture = capture
        logger.info("opened %s (%s fps)", self.spec, self.fps)

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def _grab(self) -> tuple[np.ndarray, np.ndarray] | None:
        if self._capture is None:
            raise CameraError(f"{self.spec} is not open")
        while True:
            ok, frame = self._capture.read()
            if ok and frame is not None:
                self._failures = 0
                return fit_within(frame, self.inference_size), frame
            if not self.live:
                return None  # end of the video file
            self._failures += 1
            if self._failures >= MAX_FAILED_READS:
                raise CameraError(f"{self.spec} stopped delivering frames: check the cable and power")
