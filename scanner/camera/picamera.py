"""The Raspberry Pi camera through picamera2 (libcamera).

Two streams from one configuration: `main` (RGB888, which is BGR in memory, as OpenCV wants) for the
screen, and `lores` (YUV420, the format every Pi's ISP offers for it) at inference size for the pipeline.
picamera2 is imported only here, when this backend is chosen: it exists only on Raspberry Pi OS, from apt.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

from ..exc import CameraError
from .base import Camera

logger = logging.getLogger(__name__)


def _import_picamera2():  # type: ignore[no-untyped-def]
    try:
        from picamera2 import Picamera2
    except ModuleNotFoundError as err:
        if err.name == "libcamera":
            raise CameraError(
                "picamera2 is installed but cannot find libcamera: the virtual environment must be created with "
                "--system-site-packages (see README, Troubleshooting)"
            ) from err
        raise CameraError(
            "picamera2 is not installed: on Raspberry Pi OS run `sudo apt install python3-picamera2` and make the "
            "venv with --system-site-packages; elsewhere use --camera opencv:0"
        ) from err
    return Picamera2


class PiCamera(Camera):
    def __init__(self, spec: str, main_size: tuple[int, int], lores_size: tuple[int, int]) -> None:
        super().__init__(spec)
        if lores_size[0] % 64:
            raise CameraError(f"lores width {lores_size[0]} must be a multiple of 64 (YUV420 row alignment)")
        self.main_size, self.lores_size = main_size, lores_size
        self._camera = None

    def open(self) -> None:
        picamera2_cls = _import_picamera2()
        try:
            camera = picamera2_cls()
        except (RuntimeError, IndexError) as err:  # no camera attached, or held by another process
            raise CameraError(
                f"no Pi camera available ({err}): check the ribbon cable, `rpicam-hello --list-cameras`, and that no "
                "other program holds the camera"
            ) from err
        config = camera.create_preview_configuration(
            main={"size": self.main_size, "format": "RGB888"},
            lores={"size": self.lores_size, "format": "YUV420"},
        )
        try:
            camera.configure(config)
            camera.start()
        except RuntimeError as err:
            camera.close()
            raise CameraError(
                f"cannot start the Pi camera ({err}); on 'Cannot allocate memory' lower [camera] main_size or raise "
                "the CMA memory (see README, Troubleshooting)"
            ) from err
        self._camera = camera
        logger.info("picamera2 started: main %s RGB888, lores %s YUV420", self.main_size, self.lores_size)

    def close(self) -> None:
        if self._camera is not None:
            try:
                self._camera.stop()
            finally:
                self._camera.close()
                self._camera = None

    def _grab(self) -> tuple[np.ndarray, np.ndarray] | None:
        if self._camera is None:
            raise CameraError("the Pi camera is not open")
        preview = self._camera.capture_array("main")
        yuv = self._camera.capture_array("lores")
        image = cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR_I420)
        return image, preview
