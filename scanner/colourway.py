"""Genuine colourways: a mark printed in black, grey or white, compared in the artwork's colours.

Goods carry a brand's mark in black or white ink, or reversed out of a field of the brand's colour, as often as
in the artwork's own colour, and all of those are genuine. The learned verifier was trained on marks printed in
their artwork's colour, so it reads a white-on-dark print as a deviation. Before it scores one, the aligned
query is repainted along the one axis that separates its mark from what surrounds it: the mark's colour becomes
the artwork's ink and the surroundings the reference's background. Shape, strokes and parts stay where they are,
so the deviations the model judges survive; only the colourway is taken out.

What counts as a colourway print, so that a counterfeit's colour is never explained away (tools/counterfeits.py
turns a hue, or prints a neutral mark in a colour):
- the mark in a neutral ink (black, grey or white) where the artwork's ink has a colour, on a ground of any
  colour (a ground of a colour is a print reversed out of a field); or
- a neutral artwork printed in the other neutral (a black mark printed white).
The mark must be printed in one flat ink that stands off its ground: an embossed mark, which is its own surface
lit on one side and shaded on the other, is left as it is, as is a mark in a colour where the artwork has another.
On the calibration split's 700 photos the repaint changes no verdict; on its colourway photos
(`tools/make_heldout_set.py --colourways`) it takes the genuine marks flagged from 40 to 18 of 300.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .locate import dilated, disc

COMPARED = "compared in the artwork's colours"  # how a colourway's reason ends
RING = (2, 8)  # px at 128: the surroundings a mark is told from, outside the reference's mask
NEUTRAL_CHROMA = 14.0  # Lab a*b* distance from grey under which an ink reads as black, grey or white
CHROMATIC = 30.0  # ...and over which the artwork's ink has a colour of its own
MIN_CONTRAST = 20.0  # Lab distance between mark and surroundings under which there is no ink to repaint (an
# embossed mark is its surface, about 12% darker)
MIN_PIXELS = 30
TWO_TONE = 0.8  # share of the mark's and of the surroundings' pixels that must lie on their own side
NEUTRAL_SWAP = 40.0  # L* apart: a neutral artwork printed in the other neutral (black for white, white for black)


@dataclass(frozen=True)
class Colourway:
    """How the query's mark is printed against the artwork: `kind` is "one colour" or "reversed" (a light
    neutral mark on a ground of a colour)."""

    kind: str
    mark: np.ndarray  # BGR of the query's mark
    surroundings: np.ndarray  # BGR just outside it

    @property
    def words(self) -> str:
        lightness = _lightness(self.mark)
        ink = "white" if lightness > 70 else "black" if lightness < 30 else "grey"
        ground = " on a coloured ground" if self.kind == "reversed" else ""
        return f"printed in {ink}{ground}: {COMPARED}"


def colourway_said(reasons: list[str]) -> str | None:
    """The colourway a scan's reasons name ("printed in white"), or None."""
    return next((r.removesuffix(f": {COMPARED}") for r in reasons if r.endswith(f": {COMPARED}")), None)


def _luma(bgr: np.ndarray) -> float:
    return float(0.114 * bgr[0] + 0.587 * bgr[1] + 0.299 * bgr[2])


def _lab(bgr: np.ndarray) -> np.ndarray:
    """L* (0-100), a*, b* of one BGR colour."""
    pixel = np.clip(bgr, 0, 255).astype(np.float32).reshape(1, 1, 3) / 255.0
    return cv2.cvtColor(pixel, cv2.COLOR_BGR2LAB)[0, 0].astype(np.float32)


def _chroma(bgr: np.ndarray) -> float:
    lab = _lab(bgr)
    return float(np.hypot(lab[1], lab[2]))


def _lightness(bgr: np.ndarray) -> float:
    return float(_lab(bgr)[0])


def _delta_e(one: np.ndarray, other: np.ndarray) -> float:
    return float(np.linalg.norm(_lab(one) - _lab(other)))


def _ring(mask: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray]:
    """(inside, surroundings) pixel masks at side x side: the mark eroded a little, and a band around it."""
    scale = side / 128
    inner, outer = (max(1, round(r * scale)) for r in RING)
    ink = (mask > 127).astype(np.uint8)
    inside = cv2.erode(ink, disc(1)) > 0
    return inside, dilated(ink, outer) & ~dilated(ink, inner)


def _placed(pixels: np.ndarray, mark: np.ndarray, surroundings: np.ndarray) -> np.ndarray:
    """Where each BGR pixel lies on the axis from `mark` (0) to `surroundings` (1)."""
    axis = surroundings - mark
    return (pixels.astype(np.float32) - mark) @ axis / float(axis @ axis)


def _two_tone(
    aligned: np.ndarray, inside: np.ndarray, around: np.ndarray, mark: np.ndarray, surroundings: np.ndarray
) -> bool:
    """Whether the mark is printed in one flat ink: nearly all its pixels nearer its colour than the
    surroundings', and nearly all the surroundings' nearer theirs. An embossed mark has no ink of its own; its
    relief lights one side and shades the other, so half its pixels lie on the wrong side."""
    return bool(
        np.mean(_placed(aligned[inside], mark, surroundings) < 0.5) >= TWO_TONE
        and np.mean(_placed(aligned[around], mark, surroundings) > 0.5) >= TWO_TONE
    )


@dataclass(frozen=True)
class ColourwayLayout:
    """What the colourway reader needs of one reference, worked out once per reference (Alignment's
    `colourway_layout`): where its mark and its surroundings lie, and its colours."""

    inside: np.ndarray  # the mark, eroded a little
    around: np.ndarray  # a band around it
    ink: np.ndarray  # BGR median of the artwork's ink over `inside`: what a colourway is told from
    paint: np.ndarray  # the same over the whole mark: what a repainted mark takes
    background: np.ndarray  # BGR median of the reference outside the mark: what its surroundings take


def colourway_layout(reference: np.ndarray, ref_mask: np.ndarray) -> ColourwayLayout | None:
    """The reference's layout for the reader, or None where it has too little mark or background to read by."""
    inside, around = _ring(ref_mask, ref_mask.shape[0])
    mark, outside = ref_mask > 127, ref_mask <= 127
    if inside.sum() < MIN_PIXELS or around.sum() < MIN_PIXELS or outside.sum() < MIN_PIXELS:
        return None

    def median(where: np.ndarray) -> np.ndarray:
        return np.median(reference[where], axis=0).astype(np.float32)

    return ColourwayLayout(inside, around, median(inside), median(mark), median(outside))


def read_colourway(aligned: np.ndarray, layout: ColourwayLayout) -> Colourway | None:
    """The colourway the aligned query is printed in, or None where it is printed as the artwork is (or where
    there is too little contrast to tell)."""
    inside, around = layout.inside, layout.around
    mark = np.median(aligned[inside], axis=0).astype(np.float32)
    if _chroma(mark) >= NEUTRAL_CHROMA:
        return None  # a mark in a colour is judged as printed (most scans stop here): the colour checks see it
    surroundings = np.median(aligned[around], axis=0).astype(np.float32)
    if _delta_e(mark, surroundings) < MIN_CONTRAST or not _two_tone(aligned, inside, around, mark, surroundings):
        return None
    if _chroma(layout.ink) > CHROMATIC:
        reversed_out = _chroma(surroundings) > CHROMATIC and _luma(mark) > _luma(surroundings)
        return Colourway("reversed" if reversed_out else "one colour", mark, surroundings)
    if abs(_lightness(mark) - _lightness(layout.ink)) > NEUTRAL_SWAP:
        return Colourway("one colour", mark, surroundings)  # a black mark printed white, or a white one black
    return None


def in_artwork_colours(aligned: np.ndarray, layout: ColourwayLayout, way: Colourway) -> np.ndarray:
    """The aligned query repainted so its mark takes the artwork's ink and its surroundings the reference's
    background: each pixel placed along the axis from the mark's colour to the surroundings'."""
    ink, background = layout.paint, layout.background
    pixels = aligned.astype(np.float32)
    axis = way.surroundings - way.mark
    t = _placed(pixels, way.mark, way.surroundings)[..., None]
    # What lies off the axis (texture, noise, light) is kept, scaled as the axis is, so the repainted query
    # still looks photographed.
    off_axis = pixels - way.mark - t * axis
    scale = float(np.linalg.norm(background - ink)) / max(float(np.linalg.norm(axis)), 1e-6)
    t = np.clip(t, -0.25, 1.25)
    return np.clip(ink + t * (background - ink) + scale * off_axis, 0, 255).astype(np.uint8)
