"""The colour checks of scanner/colour.py: a whole ink in another colour (colour_deviation), and a part of an
ink in another colour than the rest of it (part_colour)."""

import cv2
import numpy as np
import pytest

from scanner.colour import colour_deviation, ink_layout, part_colour

ORANGE, SURFACE, MAGENTA = (20, 120, 240), (150, 50, 110), (170, 60, 200)  # BGR
SIDE = 128


def _disc_pair(ink: tuple[int, int, int], surface: tuple[int, int, int], paint) -> float:  # type: ignore[no-untyped-def]
    """colour_deviation of an ink disc artwork against the same disc as `paint` prints it on `surface`."""
    mask = np.zeros((128, 128), np.uint8)
    cv2.circle(mask, (64, 64), 36, 255, -1)
    reference = np.full((128, 128, 3), 255, np.uint8)
    reference[mask > 0] = ink
    aligned = np.empty_like(reference)
    aligned[:] = surface
    aligned[mask > 0] = np.clip(paint(np.float32(ink), np.float32(surface)), 0, 255).astype(np.uint8)
    return colour_deviation(aligned, ink_layout(reference, mask))


PURPLE = (200, 60, 200)  # BGR: the goods under the orange ink


@pytest.mark.parametrize(
    "paint",
    [
        lambda ink, surface: ink,  # printed as drawn
        lambda ink, surface: ink * np.float32([1.08, 1.0, 0.92]),  # white balance drift
        lambda ink, surface: 0.5 * ink + 0.5 * surface,  # faded: the surface shows through
        lambda ink, surface: surface * 0.9,  # embossed: no ink, a little shade
        lambda ink, surface: 0.4 * ink + 0.6 * 200,  # foil shine: the ink towards grey
    ],
)
def test_colour_deviation_forgives_light_fading_relief_and_shine(paint):
    assert _disc_pair(ORANGE, PURPLE, paint) < 8


def test_colour_deviation_sees_a_mark_in_another_ink():
    assert _disc_pair(ORANGE, PURPLE, lambda ink, surface: np.float32((40, 160, 60))) > 40  # green
    assert _disc_pair(ORANGE, PURPLE, lambda ink, surface: np.float32((200, 90, 40))) > 30  # blue, towards the surface


def test_colour_deviation_needs_a_flat_ink_and_a_surface():
    mask = np.zeros((128, 128), np.uint8)
    cv2.circle(mask, (64, 64), 36, 255, -1)
    gradient = np.zeros((128, 128, 3), np.uint8)
    gradient[..., 2] = np.arange(128, dtype=np.uint8)[None, :] * 2  # a red ramp: no colour covers 8% of the mark
    gradient[..., 1] = np.arange(128, dtype=np.uint8)[:, None]
    assert colour_deviation(gradient, ink_layout(gradient, mask)) is None
    assert colour_deviation(gradient, ink_layout(gradient, np.full((128, 128), 255, np.uint8))) is None  # no room


def _rings() -> np.ndarray:
    """Two orange rings and a dot: parts of one ink, apart from each other."""
    mask = np.zeros((SIDE, SIDE), np.uint8)
    cv2.circle(mask, (64, 64), 50, 255, 9)
    cv2.circle(mask, (64, 64), 26, 255, 9)
    cv2.circle(mask, (64, 64), 7, 255, -1)
    return mask


def _print(mask: np.ndarray, inks: dict[tuple[int, int, int], np.ndarray], light: np.ndarray) -> np.ndarray:
    """The mark's inks on the purple surface, lit by `light` (a per-pixel factor), slightly soft."""
    image = np.empty((SIDE, SIDE, 3), np.float32)
    image[:] = SURFACE
    for colour, where in inks.items():
        image[where > 0] = colour
    image = cv2.GaussianBlur(image * light[..., None], (0, 0), 0.8)
    return np.clip(image, 0, 255).astype(np.uint8)


def _layout():  # type: ignore[no-untyped-def]
    mask = _rings()
    artwork = np.full((SIDE, SIDE, 3), 255, np.uint8)
    artwork[mask > 0] = ORANGE
    return ink_layout(artwork, mask)


YY, XX = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32)
GLARE = np.exp(-((XX - 100) ** 2 + (YY - 64) ** 2) / 300)  # a specular spot on the right of the outer ring


@pytest.mark.parametrize(
    "light",
    [
        np.ones((SIDE, SIDE), np.float32),  # even light
        0.5 + XX / SIDE * 0.7,  # a strong gradient across the goods
        np.where(XX < 60, 0.45, 1.0).astype(np.float32),  # a cast shadow over the left half
    ],
)
def test_light_and_shade_leave_every_part_its_inks_colour(light):
    assert part_colour(_print(_rings(), {ORANGE: _rings()}, light), _layout()).deviation < 4


def test_glare_moves_a_part_towards_white_not_off_its_colour():
    """A shine blended towards white in the encoded values (not in linear light) strays a little, 4.4 here,
    a third of the shipped bound."""
    glared = _print(_rings(), {ORANGE: _rings()}, np.ones((SIDE, SIDE), np.float32)).astype(np.float32)
    glared = glared + (255 - glared) * 0.6 * GLARE[..., None]
    assert part_colour(glared.astype(np.uint8), _layout()).deviation < 6


def test_an_element_in_another_colour_is_found_where_it_is():
    """The inner ring and dot printed magenta: between the orange ink and the purple goods, so the whole-ink
    check forgives it as a faded print; against the rest of the ink it stands far off, at the centre."""
    inner = _rings().copy()
    cv2.circle(inner, (64, 64), 46, 0, -1)  # keep only the outer ring orange
    centre = _rings() - inner
    printed = _print(_rings(), {ORANGE: inner, MAGENTA: centre}, np.ones((SIDE, SIDE), np.float32))
    found = part_colour(printed, _layout())
    assert found.deviation > 20
    ys, xs = np.nonzero(found.where)
    assert 30 < xs.mean() < 98 and 30 < ys.mean() < 98  # the part named is the recoloured centre
    assert colour_deviation(printed, _layout()) < 23.6  # the shipped whole-ink bound passes it


def test_a_black_ink_has_no_colour_to_compare():
    mask = _rings()
    artwork = np.full((SIDE, SIDE, 3), 255, np.uint8)
    artwork[mask > 0] = (15, 15, 15)
    printed = _print(mask, {(10, 10, 12): mask}, np.ones((SIDE, SIDE), np.float32))
    assert part_colour(printed, ink_layout(artwork, mask)) is None
