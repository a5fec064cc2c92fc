import cv2
import numpy as np
import pytest

from scanner.display import BANNER_HEIGHT, COLOURS, ERROR_COLOUR, INSET, SCREEN, render_screen, write_screen
from scanner.locate import Box
from scanner.pipeline import ScanResult
from scanner.verdict import Verdict

FRAME = np.full((480, 640, 3), 90, np.uint8)


def _banner_pixel(screen: np.ndarray) -> tuple[int, int, int]:
    # Bottom-right corner of the banner: away from the text.
    return tuple(int(c) for c in screen[SCREEN[1] - 5, SCREEN[0] - 5])


@pytest.mark.parametrize("verdict", list(Verdict))
def test_banner_takes_the_verdict_colour(verdict):
    result = ScanResult(
        verdict=verdict,
        brand="acme",
        brand_name="Acme",
        similarity=0.8,
        reasons=["because"],
        box=Box(200, 100, 240, 240),
    )
    screen = render_screen(FRAME, result)
    assert screen.shape == (SCREEN[1], SCREEN[0], 3)
    assert _banner_pixel(screen) == COLOURS[verdict]
    # The preview area above the banner shows the frame, not the banner colour.
    assert tuple(int(c) for c in screen[20, 400]) == (90, 90, 90)
    # The locate box is drawn in the verdict colour.
    assert (screen[: SCREEN[1] - BANNER_HEIGHT] == COLOURS[verdict]).all(axis=2).any()


def test_suspect_shows_the_heatmap_inset():
    heatmap = np.zeros((128, 128), np.float32)
    heatmap[:64, 64:] = 1.0
    result = ScanResult(
        verdict=Verdict.SUSPECT,
        brand="acme",
        brand_name="Acme",
        similarity=0.8,
        authenticity=0.1,
        reasons=["element missing near top right"],
        heatmap=heatmap,
        reference=np.full((224, 224, 3), 255, np.uint8),
    )
    screen = render_screen(FRAME, result)
    inset = screen[10 : 10 + INSET, SCREEN[0] - INSET - 10 : SCREEN[0] - 10]
    hot, cold = inset[10, INSET - 10], inset[INSET - 10, 10]
    assert hot[2] > 100 and hot[0] < 100  # red end of the colour map where the deviation is
    assert tuple(int(c) for c in cold) == (255, 255, 255)  # untouched reference elsewhere


def test_error_screen_without_a_frame():
    screen = render_screen(None, ScanResult(image="x.jpg", error="x.jpg is empty (0 bytes)"))
    assert _banner_pixel(screen) == ERROR_COLOUR


def test_write_screen_makes_a_png(tmp_path):
    path = write_screen(tmp_path / "out" / "s.png", FRAME, ScanResult(verdict=Verdict.PASS, reasons=["ok"]))
    assert cv2.imread(str(path)).shape == (SCREEN[1], SCREEN[0], 3)
