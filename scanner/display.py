"""The verdict screen: the frame, the located logo, and a banner in the verdict's colour.

Rendered to an image so the same code draws the device's screen and the PNGs that tests and reports
look at. For `suspect`, an inset shows the reference with the deviation heatmap over it.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .pipeline import ScanResult
from .verdict import Verdict

SCREEN = (800, 480)  # Raspberry Pi 7" touch display
BANNER_HEIGHT = 120
INSET = 150
FONT = cv2.FONT_HERSHEY_SIMPLEX
# BGR
COLOURS = {
    Verdict.PASS: (60, 160, 40),
    Verdict.SUSPECT: (40, 40, 210),
    Verdict.UNKNOWN: (0, 160, 235),
    Verdict.RESCAN: (0, 160, 235),
}
ERROR_COLOUR = (90, 90, 90)
HEADLINES = {
    Verdict.PASS: "PASS",
    Verdict.SUSPECT: "SUSPECT",
    Verdict.UNKNOWN: "UNKNOWN BRAND",
    Verdict.RESCAN: "RESCAN",
}


def banner_colour(result: ScanResult) -> tuple[int, int, int]:
    return COLOURS[result.verdict] if result.verdict else ERROR_COLOUR


def _fit(frame: np.ndarray, width: int, height: int) -> tuple[np.ndarray, float, int, int]:
    """Letterbox the frame into width x height; returns (canvas, scale, x offset, y offset)."""
    scale = min(width / frame.shape[1], height / frame.shape[0])
    resized = cv2.resize(
        frame, (round(frame.shape[1] * scale), round(frame.shape[0] * scale)), interpolation=cv2.INTER_AREA
    )
    canvas = np.full((height, width, 3), 24, np.uint8)
    x, y = (width - resized.shape[1]) // 2, (height - resized.shape[0]) // 2
    canvas[y : y + resized.shape[0], x : x + resized.shape[1]] = resized
    return canvas, scale, x, y


def _heatmap_inset(reference: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    base = cv2.resize(reference, (INSET, INSET), interpolation=cv2.INTER_AREA)
    heat = cv2.resize((heatmap * 255).astype(np.uint8), (INSET, INSET), interpolation=cv2.INTER_LINEAR)
    coloured = cv2.applyColorMap(heat, cv2.COLORMAP_JET)
    weight = (heat.astype(np.float32) / 255.0 * 0.7)[..., None]
    return (base * (1 - weight) + coloured * weight).astype(np.uint8)


def _text(image: np.ndarray, text: str, origin: tuple[int, int], scale: float, thickness: int) -> None:
    cv2.putText(image, text, origin, FONT, scale, (255, 255, 255), thickness, cv2.LINE_AA)


def _shorten(text: str, limit: int = 58) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def render_screen(frame: np.ndarray | None, result: ScanResult) -> np.ndarray:
    width, height = SCREEN
    view_height = height - BANNER_HEIGHT
    if frame is None:
        screen = np.full((height, width, 3), 24, np.uint8)
    else:
        view, scale, ox, oy = _fit(frame, width, view_height)
        screen = np.vstack([view, np.zeros((BANNER_HEIGHT, width, 3), np.uint8)])
        if result.box is not None:
            b = result.box
            cv2.rectangle(
                screen,
                (ox + round(b.x * scale), oy + round(b.y * scale)),
                (ox + round((b.x + b.w) * scale), oy + round((b.y + b.h) * scale)),
                banner_colour(result),
                2,
            )
    if result.verdict == Verdict.SUSPECT and result.heatmap is not None and result.reference is not None:
        screen[10 : 10 + INSET, width - INSET - 10 : width - 10] = _heatmap_inset(result.reference, result.heatmap)
        _text(screen, "deviation vs reference", (width - INSET - 10, INSET + 28), 0.45, 1)

    screen[view_height:] = banner_colour(result)
    top = view_height
    if result.error is not None:
        _text(screen, "ERROR", (20, top + 45), 1.2, 3)
        _text(screen, _shorten(result.error, 70), (20, top + 85), 0.55, 1)
        return screen
    headline = HEADLINES[result.verdict] if result.verdict else "?"
    _text(screen, headline, (20, top + 48), 1.4, 3)
    details = []
    if result.brand_name:
        details.append(result.brand_name)
    if result.similarity is not None and result.brand_name:
        details.append(f"match {result.similarity:.2f}")
    if result.authenticity is not None:
        details.append(f"authenticity {result.authenticity:.2f}")
    if details:
        _text(screen, "  ".join(details), (330, top + 45), 0.7, 2)
    if result.reasons:
        _text(screen, _shorten(result.reasons[0]), (20, top + 95), 0.65, 2)
    return screen


def write_screen(path: Path, frame: np.ndarray | None, result: ScanResult) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), render_screen(frame, result)):
        raise OSError(f"could not write {path}")
    return path
