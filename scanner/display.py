"""The verdict screen: the frame, the located logo, and a banner in the verdict's colour; and the live
screen (preview, framing guide, last verdict or a status line) with the window that shows it.

Rendered to an image so the same code draws the device's screen and the PNGs that tests and reports
look at. For `suspect`, an inset shows the reference with the deviation heatmap over it.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .colourway import colourway_said
from .exc import ScannerError
from .result import ScanResult
from .verdict import AGAINST_PHOTO, Verdict
from .verify import MAP_FAINT

SCREEN = (800, 480)  # Raspberry Pi 7" touch display
BANNER_HEIGHT = 120
INSET = 150
FONT = cv2.FONT_HERSHEY_SIMPLEX
TEXT_MARGIN = 12  # px kept clear at the screen's right edge
# BGR
COLOURS = {
    Verdict.PASS: (60, 160, 40),
    Verdict.SUSPECT: (40, 40, 210),
    Verdict.UNKNOWN: (0, 160, 235),
    Verdict.RESCAN: (0, 160, 235),
}
ERROR_COLOUR = (90, 90, 90)
IDLE_COLOUR = (60, 60, 60)
GUIDE_COLOUR = (255, 255, 255)
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


def heatmap_overlay(
    reference: np.ndarray, heatmap: np.ndarray, side: int = INSET, relative: bool = False
) -> np.ndarray:
    """The reference at side x side with the deviation map over it: strong where the query deviates. `relative`
    (for a suspect) shows the map's peak at full strength, so that where the mark deviates most stands out as
    its words name it (verify._hottest_reasons) however faint the map; a map peaking under verify.MAP_FAINT is
    raised no further than that would raise it."""
    if relative:
        heatmap = heatmap / max(float(heatmap.max()), MAP_FAINT)
    base = cv2.resize(reference, (side, side), interpolation=cv2.INTER_AREA)
    heat = cv2.resize((np.clip(heatmap, 0, 1) * 255).astype(np.uint8), (side, side), interpolation=cv2.INTER_LINEAR)
    coloured = cv2.applyColorMap(heat, cv2.COLORMAP_JET)
    weight = (heat.astype(np.float32) / 255.0 * 0.7)[..., None]
    return (base * (1 - weight) + coloured * weight).astype(np.uint8)


EVIDENCE_SIDE = 256


def evidence_images(result: ScanResult, side: int) -> dict[str, np.ndarray]:
    """For a verified scan, {role: side x side image}: the aligned query, the reference and the heatmap over
    it (a suspect's as the screen shows it), and where a colourway was repainted the query as the verifier
    compared it (`query_compared`, in the artwork's colours); empty for a scan that was never verified."""
    if result.aligned is None or result.reference is None or result.heatmap is None:
        return {}
    suspect = result.verdict == Verdict.SUSPECT
    images = {"query_aligned": cv2.resize(result.aligned, (side, side), interpolation=cv2.INTER_LINEAR)}
    if result.compared is not None:
        images["query_compared"] = cv2.resize(result.compared, (side, side), interpolation=cv2.INTER_LINEAR)
    images["reference"] = cv2.resize(result.reference, (side, side), interpolation=cv2.INTER_AREA)
    images["heatmap"] = heatmap_overlay(result.reference, result.heatmap, side, relative=suspect)
    return images


def evidence_strip(frame: np.ndarray, result: ScanResult, side: int = 112) -> np.ndarray:
    """One row for a gallery: the located logo in the photo, then the scan's evidence images."""
    images = evidence_images(result, side)
    assert images, "only a verified scan has evidence"
    images.pop("query_compared", None)  # every gallery row the same width
    if result.box is not None:
        from .locate import crop

        photo = crop(frame, result.box, side)
    else:
        photo = cv2.resize(frame, (side, side), interpolation=cv2.INTER_AREA)
    return np.hstack([photo, *images.values()])


def write_evidence(directory: Path, stem: str, result: ScanResult) -> dict[str, str]:
    """The scan's evidence images as PNGs (EVIDENCE_SIDE square, to lay side by side); {role: path}."""
    images = evidence_images(result, EVIDENCE_SIDE)
    return {role: str(write_png(directory / f"{stem}_{role}.png", image)) for role, image in images.items()}


def _text(image: np.ndarray, text: str, origin: tuple[int, int], scale: float, thickness: int) -> None:
    cv2.putText(image, text, origin, FONT, scale, (255, 255, 255), thickness, cv2.LINE_AA)


def fit_line(head: str, tail: str, room: int, scale: float, thickness: int) -> tuple[str, float]:
    """(line, font scale) for `head + tail` within `room` px: drawn up to a quarter smaller, then `head` (a
    long brand name or reason) cut short with "..." so that `tail` (the match and authenticity) stays whole."""
    for size in (scale, scale * 0.875, scale * 0.75):
        if cv2.getTextSize(head + tail, FONT, size, thickness)[0][0] <= room:
            return head + tail, size
    while head and cv2.getTextSize(head.rstrip() + "..." + tail, FONT, size, thickness)[0][0] > room:
        head = head[:-1]
    return head.rstrip() + "..." + tail, size


def _text_line(
    image: np.ndarray, head: str, origin: tuple[int, int], scale: float, thickness: int, tail: str = ""
) -> None:
    line, size = fit_line(head, tail, image.shape[1] - origin[0] - TEXT_MARGIN, scale, thickness)
    _text(image, line, origin, size, thickness)


def _view(frame: np.ndarray | None, result: ScanResult | None, box_scale: float) -> np.ndarray:
    """The preview area (frame letterboxed, locate box drawn) above an empty banner strip."""
    width, height = SCREEN
    view_height = height - BANNER_HEIGHT
    if frame is None:
        return np.full((height, width, 3), 24, np.uint8)
    view, scale, ox, oy = _fit(frame, width, view_height)
    screen = np.vstack([view, np.zeros((BANNER_HEIGHT, width, 3), np.uint8)])
    if result is not None and result.box is not None:
        b, s = result.box, scale * box_scale
        top_left = (ox + round(b.x * s), oy + round(b.y * s))
        bottom_right = (ox + round((b.x + b.w) * s), oy + round((b.y + b.h) * s))
        cv2.rectangle(screen, top_left, bottom_right, banner_colour(result), 2)
    return screen


def banner_numbers(result: ScanResult) -> str:
    """The scores beside the brand: its match and authenticity (for an item, the mean over its views)."""
    numbers = []
    if result.brand_name and result.similarity is not None:
        numbers.append(f"match {result.similarity:.2f}")
    if result.authenticity is not None:
        numbers.append(f"authenticity {result.authenticity:.2f}")
    return "  ".join(numbers)


def shown_reason(result: ScanResult) -> str:
    """The one line of reasons a screen or a table has room for: the first, and for a pass scored in a
    colourway how the mark was printed ("consistent with the genuine reference (printed in white)"), or for a
    pass against a photo of genuine goods that it was ("... (against a genuine photo)")."""
    line = result.reasons[0] if result.reasons else ""
    if result.verdict != Verdict.PASS:
        return line
    if AGAINST_PHOTO in result.reasons:
        return f"{line} (against a genuine photo)"
    printed = colourway_said(result.reasons)
    return f"{line} ({printed})" if printed else line


def views_judged(result: ScanResult) -> int:
    """How many views of an item the verdict came from (1 for a single scan)."""
    return max(1, sum(v["authenticity"] is not None and v["brand"] == result.brand for v in result.views))


def _banner(screen: np.ndarray, result: ScanResult) -> None:
    width, height = SCREEN
    top = height - BANNER_HEIGHT
    if result.verdict == Verdict.SUSPECT and result.heatmap is not None and result.reference is not None:
        inset = heatmap_overlay(result.reference, result.heatmap, relative=True)
        screen[10 : 10 + INSET, width - INSET - 10 : width - 10] = inset
        _text(screen, "deviation vs reference", (width - INSET - 10, INSET + 28), 0.45, 1)
    screen[top:] = banner_colour(result)
    if result.error is not None:
        _text(screen, "ERROR", (20, top + 45), 1.2, 3)
        _text_line(screen, result.error, (20, top + 85), 0.55, 1)
        return
    headline = HEADLINES[result.verdict] if result.verdict else "?"
    _text(screen, headline, (20, top + 48), 1.4, 3)
    if (judged := views_judged(result)) > 1:  # beside the headline: the scores after the brand are the mean
        right = 20 + cv2.getTextSize(headline, FONT, 1.4, 3)[0][0] + 12
        _text(screen, f"{judged} views", (right, top + 45), 0.6, 2)
    head, tail = result.brand_name or "", banner_numbers(result)
    if head or tail:
        _text_line(screen, head, (330, top + 45), 0.7, 2, tail=f"  {tail}" if head and tail else tail)
    if result.reasons:
        _text_line(screen, shown_reason(result), (20, top + 95), 0.65, 2)


def _guide(screen: np.ndarray) -> None:
    """Corner brackets around the centre of the preview: where to put the logo."""
    width, height = SCREEN[0], SCREEN[1] - BANNER_HEIGHT
    side = int(height * 0.7)
    x0, y0 = (width - side) // 2, (height - side) // 2
    arm = side // 6
    for cx, cy, dx, dy in (
        (x0, y0, 1, 1),
        (x0 + side, y0, -1, 1),
        (x0, y0 + side, 1, -1),
        (x0 + side, y0 + side, -1, -1),
    ):
        cv2.line(screen, (cx, cy), (cx + dx * arm, cy), GUIDE_COLOUR, 3, cv2.LINE_AA)
        cv2.line(screen, (cx, cy), (cx, cy + dy * arm), GUIDE_COLOUR, 3, cv2.LINE_AA)


def render_screen(frame: np.ndarray | None, result: ScanResult, box_scale: float = 1.0) -> np.ndarray:
    """The verdict screen for one scan (the `scan --screens` PNGs)."""
    screen = _view(frame, result, box_scale)
    _banner(screen, result)
    return screen


def render_live(preview: np.ndarray, result: ScanResult | None, status: str, box_scale: float = 1.0) -> np.ndarray:
    """The live screen: preview with the framing guide, and the last verdict's banner or a status line."""
    screen = _view(preview, result, box_scale)
    _guide(screen)
    if result is not None:
        _banner(screen, result)
    else:
        screen[SCREEN[1] - BANNER_HEIGHT :] = IDLE_COLOUR
        _text(screen, status, (20, SCREEN[1] - BANNER_HEIGHT // 2 + 10), 0.8, 2)
    return screen


class Window:
    """An OpenCV window on the device's display (fullscreen on the Pi). Needs an OpenCV build with a GUI."""

    def __init__(self, title: str = "scanner", fullscreen: bool = True) -> None:
        self.title, self.fullscreen = title, fullscreen

    def __enter__(self) -> Window:
        try:
            cv2.namedWindow(self.title, cv2.WINDOW_NORMAL | cv2.WINDOW_GUI_NORMAL)  # no toolbar
            if self.fullscreen:
                cv2.setWindowProperty(self.title, cv2.WND_PROP_FULLSCREEN, cv2.WINDOW_FULLSCREEN)
            else:
                cv2.resizeWindow(self.title, *SCREEN)
        except cv2.error as err:
            raise ScannerError(
                "cannot open a window: this OpenCV has no GUI or there is no display (DISPLAY unset). "
                "Use --headless, or install opencv-python / apt's python3-opencv"
            ) from err
        return self

    def show(self, image: np.ndarray) -> None:
        cv2.imshow(self.title, image)

    def key(self, wait_ms: int = 1) -> int | None:
        """The key pressed within wait_ms (also lets the window redraw), or None."""
        code = cv2.waitKey(max(1, wait_ms))
        return None if code == -1 else code & 0xFF

    def __exit__(self, *exc: object) -> None:
        cv2.destroyWindow(self.title)
        cv2.waitKey(1)


def write_png(path: Path, image: np.ndarray) -> Path:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ScannerError(f"cannot create the folder {path.parent}: {err.strerror}; choose another folder") from err
    if not cv2.imwrite(str(path), image):
        raise ScannerError(f"could not write {path}: check the folder exists and has space")
    return path


def write_screen(path: Path, frame: np.ndarray | None, result: ScanResult) -> Path:
    return write_png(path, render_screen(frame, result))
