"""Stroke weight against the artwork (scanner/stroke.py), on a drawn mark printed as a photo would show it."""

import cv2
import numpy as np
import pytest

from scanner.stroke import STROKE_SIDE, edge_layout, stroke_offset, stroke_words

INK = (140, 60, 20)  # BGR: a dark blue
STROKE = 12  # px at STROKE_SIDE


def _mask(stroke: int, scale: float = 1.0) -> np.ndarray:
    """A ring, a bar across it and a dot: outer and inner edges, straight and curved, at several distances
    from the centre."""
    mask = np.zeros((STROKE_SIDE, STROKE_SIDE), np.uint8)
    c = STROKE_SIDE // 2
    cv2.circle(mask, (c, c), round(80 * scale), 255, stroke, cv2.LINE_AA)
    half = round(60 * scale)
    cv2.line(mask, (c - half, c + round(10 * scale)), (c + half, c + round(10 * scale)), 255, stroke, cv2.LINE_AA)
    cv2.circle(mask, (c, c - round(35 * scale)), round(14 * scale) + (stroke - STROKE) // 2, 255, -1, cv2.LINE_AA)
    return mask


def _artwork() -> tuple[np.ndarray, np.ndarray]:
    mask = _mask(STROKE)
    image = np.full((STROKE_SIDE, STROKE_SIDE, 3), 255, np.float32)
    alpha = mask[..., None] / 255.0
    return (image * (1 - alpha) + np.float32(INK) * alpha).astype(np.uint8), (mask > 127).astype(np.uint8) * 255


def _photo(stroke: int, scale: float = 1.0, blur: float = 1.0, seed: int = 0) -> np.ndarray:
    """The mark printed on a beige surface under uneven light, slightly out of focus, with sensor noise."""
    rng = np.random.default_rng(seed)
    alpha = _mask(stroke, scale)[..., None] / 255.0
    surface = np.float32([170, 200, 215])
    image = surface * (1 - alpha) + np.float32(INK) * 1.1 * alpha
    ramp = np.linspace(0.8, 1.1, STROKE_SIDE, dtype=np.float32)[None, :, None]
    image = cv2.GaussianBlur(image * ramp, (0, 0), blur) + rng.normal(0, 3, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("scale", [1.0, 0.985, 1.015])
@pytest.mark.parametrize("blur", [0.6, 1.6])
def test_a_genuine_print_keeps_its_strokes(scale, blur):
    """Light, focus, noise and a residual scale the alignment leaves move no stroke edge."""
    layout = edge_layout(*_artwork())
    assert abs(stroke_offset(_photo(STROKE, scale, blur), layout)) < 0.35


@pytest.mark.parametrize(("grown", "low", "high"), [(4, 1.6, 2.4), (-4, -2.4, -1.6), (2, 0.6, 1.4)])
def test_thicker_and_thinner_strokes_are_measured_per_side(grown, low, high):
    """A stroke drawn 4 px wider moves each of its two edges out by 2 px."""
    layout = edge_layout(*_artwork())
    assert low < stroke_offset(_photo(STROKE + grown, blur=1.0, seed=1), layout) < high


def test_a_thicker_stroke_the_alignment_shrank_is_still_measured():
    """ECC lays a bolder mark's outer edges on the artwork's by shrinking it a little; its inner edges then
    lie further in. Fitted as a common offset plus a scale, the stroke still reads about 2 px (0.3 without
    the scale term)."""
    layout = edge_layout(*_artwork())
    assert stroke_offset(_photo(STROKE + 4, scale=0.98, seed=2), layout) > 1.3


def test_nothing_to_measure_gives_none():
    image, _ = _artwork()
    assert edge_layout(image, np.zeros_like(image[..., 0])) is None
    assert stroke_offset(_photo(STROKE), None) is None


def test_the_words_say_how_much_wider_the_lines_are():
    """Strokes grown by 2 px on each side of the artwork's 12 px lines are a third wider."""
    layout = edge_layout(*_artwork())
    assert layout.stroke_width == pytest.approx(STROKE, abs=1.5)
    assert stroke_words(2.0, layout) == f"lines drawn about {round(400 / layout.stroke_width)}% thicker than reference"
    assert 28 <= round(400 / layout.stroke_width) <= 38
    assert stroke_words(-2.0, layout).endswith(f"{round(400 / layout.stroke_width)}% thinner than reference")
