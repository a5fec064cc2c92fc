"""A stand-in for the parts of picamera2's API the scanner uses, faithful to their behaviour on a Pi.

- `Picamera2()` raises IndexError when no camera is attached (as picamera2 does on an empty camera list).
- `create_preview_configuration(main=, lores=)` returns a configuration dict; main defaults to XBGR8888.
- `configure()` enforces what libcamera enforces: lores no larger than main, lores YUV420 on a Pi 4's ISP.
- `capture_array(name)` needs `start()`; RGB888 arrays are BGR in memory, (h, w, 3); YUV420 arrays are planar
  I420, (h * 3 / 2, w).
The frames come from `FRAMES` (BGR images), cycled.
"""

from __future__ import annotations

import cv2
import numpy as np

FRAMES: list[np.ndarray] = []
CAMERAS_ATTACHED = 1
PI_MODEL = 4  # the Pi 4's ISP offers only YUV420 on the lores stream
opened: list[Picamera2] = []


class Picamera2:
    def __init__(self, camera_num: int = 0) -> None:
        if camera_num >= CAMERAS_ATTACHED:
            raise IndexError("list index out of range")
        self.camera_config: dict | None = None
        self.started = False
        self.closed = False
        self._next = 0
        opened.append(self)

    def create_preview_configuration(
        self,
        main=None,
        lores=None,
        raw=None,
        transform=None,
        colour_space=None,
        buffer_count=4,
        controls=None,
        display="main",
        encode="main",
    ):  # noqa: ANN001
        main = {"format": "XBGR8888", "size": (640, 480), **(main or {})}
        if lores is not None:
            lores = {"format": "YUV420", "size": main["size"], **lores}
        return {
            "use_case": "preview",
            "main": main,
            "lores": lores,
            "raw": raw,
            "buffer_count": buffer_count,
            "display": display,
            "encode": encode,
            "controls": controls or {},
        }

    def configure(self, config: dict) -> None:
        if self.started:
            raise RuntimeError("Camera must be stopped before configuring")
        lores = config.get("lores")
        if lores is not None:
            if lores["size"][0] > config["main"]["size"][0] or lores["size"][1] > config["main"]["size"][1]:
                raise RuntimeError("lores stream dimensions may not exceed main stream")
            if PI_MODEL < 5 and lores["format"] != "YUV420":
                raise RuntimeError("lores stream must be YUV")
        self.camera_config = config

    def start(self) -> None:
        if self.camera_config is None:
            raise RuntimeError("Camera has not been configured")
        self.started = True

    def capture_array(self, name: str = "main") -> np.ndarray:
        if not self.started:
            raise RuntimeError("Camera is not running")
        stream = self.camera_config[name]  # type: ignore[index]
        if stream is None:
            raise KeyError(name)
        # main and lores of one request show the same scene; advance after the lores capture.
        frame = FRAMES[self._next % len(FRAMES)]
        if name == "lores":
            self._next += 1
        image = cv2.resize(frame, stream["size"], interpolation=cv2.INTER_AREA)
        if stream["format"] == "RGB888":
            return image
        if stream["format"] == "YUV420":
            return cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420)
        if stream["format"] == "XBGR8888":
            return cv2.cvtColor(image, cv2.COLOR_BGR2BGRA)
        raise ValueError(f"format {stream['format']} not faked")

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        self.stop()
        self.closed = True
