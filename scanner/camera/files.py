"""Image files and folders as a frame source (`file:photo.jpg`, `file:folder/`), for batch use and tests."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..exc import CameraError, ImageError
from ..imageio import expand_paths, read_image
from .base import Camera
from .opencv_camera import fit_within

logger = logging.getLogger(__name__)


class FileCamera(Camera):
    live = False

    def __init__(self, spec: str, target: str, inference_size: tuple[int, int]) -> None:
        super().__init__(spec)
        self.target = Path(target)
        self.inference_size = inference_size
        self._paths: list[Path] = []

    def open(self) -> None:
        if not self.target.exists():
            raise CameraError(f"no such file or folder: {self.target}")
        self._paths = list(expand_paths([self.target]))
        if not self._paths:
            raise CameraError(f"no images in {self.target}")

    def close(self) -> None:
        self._paths = []

    def _grab(self) -> tuple[np.ndarray, np.ndarray] | None:
        while self._paths:
            path = self._paths.pop(0)
            try:
                image = read_image(path)
            except ImageError as err:
                logger.warning("skipping %s", err)
                continue
            return fit_within(image, self.inference_size), image
        return None
