"""Reading image files for batch scans and enrolment, with a clear error for anything that is not a whole image."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np

from .exc import ImageError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
SVG_SUFFIX = ".svg"


def svg_supported() -> bool:
    try:
        import cairosvg  # noqa: F401
    except ImportError:
        return False
    return True


def read_image(path: Path, keep_alpha: bool = False) -> np.ndarray:
    """Decode an image file to BGR (or BGRA with keep_alpha) uint8, or raise ImageError saying why not."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ImageError(f"cannot read {path}: {err.strerror}") from err
    if not data:
        raise ImageError(f"{path} is empty (0 bytes)")
    if path.suffix.lower() == SVG_SUFFIX:
        data = _render_svg(path, data)
    _check_complete(path, data)
    flags = cv2.IMREAD_UNCHANGED if keep_alpha else cv2.IMREAD_COLOR
    image = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if image is None:
        raise ImageError(f"{path} is not a readable image (PNG, JPEG or WebP expected)")
    if keep_alpha and image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if keep_alpha and image.shape[2] == 3:
        image = np.dstack([image, np.full(image.shape[:2], 255, np.uint8)])
    if image.dtype != np.uint8:
        image = (image / 257).astype(np.uint8)  # 16-bit PNG
    return image


def _check_complete(path: Path, data: bytes) -> None:
    """OpenCV decodes a truncated JPEG or PNG into a half-grey picture without complaint; refuse it here."""
    if data[:3] == b"\xff\xd8\xff" and not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        raise ImageError(f"{path} is a truncated JPEG (no end marker): copy the file again")
    if data[:8] == b"\x89PNG\r\n\x1a\n" and b"IEND" not in data[-16:]:
        raise ImageError(f"{path} is a truncated PNG (no IEND chunk): copy the file again")


def _render_svg(path: Path, data: bytes) -> bytes:
    if not svg_supported():
        raise ImageError(f"{path}: SVG needs cairosvg; `pip install 'scanner[svg]'` or convert it to PNG")
    import cairosvg

    try:
        return cairosvg.svg2png(bytestring=data, output_width=256, output_height=256)
    except Exception as err:  # cairosvg raises a variety of XML and parsing errors
        raise ImageError(f"{path} is not a renderable SVG: {err}") from err


def image_suffixes() -> tuple[str, ...]:
    return IMAGE_SUFFIXES + ((SVG_SUFFIX,) if svg_supported() else ())


def expand_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """Files as given, and for each folder its image files (sorted, recursively)."""
    suffixes = image_suffixes()
    for path in paths:
        path = Path(path)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
        else:
            yield path


def composite_on_background(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """BGRA artwork -> (BGR on a plain contrasting background, alpha mask); BGR passes through with no mask.

    Light marks (a white logo) go on dark grey, everything else on white, so the mark stays visible.
    """
    if image.ndim == 3 and image.shape[2] == 4:
        alpha = image[..., 3]
        if alpha.min() < 250:
            weights = alpha[..., None].astype(np.float32) / 255.0
            visible = alpha > 127
            mark_grey = cv2.cvtColor(image[..., :3], cv2.COLOR_BGR2GRAY)[visible]
            background = 32.0 if visible.any() and float(np.median(mark_grey)) > 190 else 255.0
            bgr = image[..., :3].astype(np.float32) * weights + background * (1 - weights)
            return bgr.astype(np.uint8), visible.astype(np.uint8) * 255
        return image[..., :3].copy(), None
    return image, None
