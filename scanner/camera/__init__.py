"""Frame sources behind one interface, chosen by a spec string: `picamera2`, `opencv:N`, `opencv:PATH_OR_URL`,
`file:PATH`. Backends import their hardware libraries only when chosen."""

from __future__ import annotations

from ..config import CameraConfig
from ..exc import CameraError
from .base import Camera, Frame

__all__ = ["Camera", "Frame", "open_camera"]


def open_camera(spec: str, config: CameraConfig) -> Camera:
    """A Camera for `spec` (not yet opened: use it as a context manager)."""
    kind, _, target = spec.partition(":")
    if kind == "picamera2" and not target:
        from .picamera import PiCamera

        return PiCamera(spec, config.main_size, config.lores_size)
    if kind == "opencv" and target:
        from .opencv_camera import OpenCVCamera

        return OpenCVCamera(spec, target, config.lores_size)
    if kind == "file" and target:
        from .files import FileCamera

        return FileCamera(spec, target, config.lores_size)
    raise CameraError(f"unknown camera {spec!r}: use picamera2, opencv:N, opencv:PATH_OR_URL or file:PATH")
