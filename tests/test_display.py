import cv2
import numpy as np
import pytest

from scanner.display import (
    BANNER_HEIGHT,
    COLOURS,
    ERROR_COLOUR,
    INSET,
    SCREEN,
    evidence_images,
    fit_line,
    heatmap_overlay,
    render_screen,
    write_screen,
)
from scanner.locate import Box
from scanner.result import ScanResult
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


def _suspect(**changes) -> ScanResult:  # type: ignore[no-untyped-def]
    fields = dict(
        verdict=Verdict.SUSPECT,
        brand="acme",
        brand_name="Acme",
        similarity=0.8,
        authenticity=0.1,
        reasons=["element missing near top right"],
    )
    return ScanResult(**(fields | changes))


def test_suspect_shows_the_heatmap_inset():
    heatmap = np.zeros((128, 128), np.float32)
    heatmap[:64, 64:] = 1.0
    result = _suspect(heatmap=heatmap, reference=np.full((224, 224, 3), 255, np.uint8))
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


def test_long_brand_and_reason_stay_on_the_screen():
    """A long brand name and a long reason are drawn smaller, then cut short, never past the screen's right
    edge, and the match and authenticity figures are always shown whole."""
    result = _suspect(
        brand_name="Mercedes-Benz Group Financial Services",
        similarity=0.71,
        authenticity=0.15,
        reasons=["no enrolled brand matches, nor does any other part of the frame (closest: mercedes, 0.41)"],
    )
    screen = render_screen(FRAME, result)
    banner = screen[SCREEN[1] - BANNER_HEIGHT :]
    assert not (banner[:, SCREEN[0] - 10 :] > 200).all(axis=2).any()  # nothing drawn in the last 10 px
    room = SCREEN[0] - 330 - 12
    line, scale = fit_line(str(result.brand_name), "  match 0.71  authenticity 0.15", room, 0.7, 2)
    assert line.startswith("Merc") and line.endswith("...  match 0.71  authenticity 0.15") and scale < 0.7
    assert cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)[0][0] <= room
    assert fit_line("Nike", "  match 0.85", room, 0.7, 2) == ("Nike  match 0.85", 0.7)  # short: as it was


def test_a_suspects_faint_heatmap_shows_where_it_is_hottest_at_full_strength():
    """A suspect's map may peak at 0.3: its inset and evidence show that peak as a map peaking at 1.0 would, so
    the place its words name stands out. A pass's evidence keeps the map as measured, faint."""
    faint = np.zeros((128, 128), np.float32)
    faint[:64, 64:] = 0.3
    reference = np.full((224, 224, 3), 255, np.uint8)
    strong_inset = heatmap_overlay(reference, faint / 0.3, relative=True)
    screen = render_screen(FRAME, _suspect(heatmap=faint, reference=reference))
    inset = screen[10 : 10 + INSET, SCREEN[0] - INSET - 10 : SCREEN[0] - 10]
    assert np.array_equal(inset, strong_inset) and inset[10, INSET - 10][2] > 100  # red where it is hottest
    aligned = np.zeros((128, 128, 3), np.uint8)
    suspect = evidence_images(_suspect(heatmap=faint, reference=reference, aligned=aligned), 128)["heatmap"]
    passed = _suspect(heatmap=faint, reference=reference, aligned=aligned, verdict=Verdict.PASS)
    as_measured = evidence_images(passed, 128)["heatmap"]
    assert suspect[10, 118][2] > 100 and suspect[10, 118][0] < 100  # red, as on the screen
    assert int(as_measured[10, 118].min()) > 150  # the pass's is a faint tint over the white reference
    blank = heatmap_overlay(reference, np.full((128, 128), 0.01, np.float32), relative=True)
    assert int(blank[60, 60].min()) > 150  # a map of nothing is raised at most 20-fold: still nearly white


def test_a_pass_in_a_colourway_says_how_it_was_printed():
    """The banner's line reads "consistent with the genuine reference (printed in white)": the words are drawn
    wider than the reason alone, and a suspect's line is its reason alone."""
    white = "printed in white: compared in the artwork's colours"
    banner = slice(SCREEN[1] - 40, SCREEN[1])

    def inked_columns(verdict: Verdict, reasons: list[str]) -> int:
        screen = render_screen(FRAME, _suspect(verdict=verdict, reasons=reasons))[banner]
        return int((screen == 255).all(axis=2).any(axis=0).sum())

    consistent = "consistent with the genuine reference"
    assert inked_columns(Verdict.PASS, [consistent, white]) > inked_columns(Verdict.PASS, [consistent]) + 100
    assert inked_columns(Verdict.SUSPECT, ["element missing", white]) == inked_columns(
        Verdict.SUSPECT, ["element missing"]
    )
