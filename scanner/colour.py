"""Colour checks of an aligned mark against its artwork's inks, beside the learned score (scanner/verify.py
`judge`). Both read the artwork's flat ink colours once per reference (InkLayout) and only against artwork:
a photo reference carries its own light in its colours.

- colour_deviation: the whole of an ink printed in another colour. A genuine print can only show a mix of
  the ink, the goods' surface and grey, so the distance from that triangle is how far the colour is off.
- part_colour: one part of an ink in another colour than the rest of it (an element recoloured). The
  triangle forgives that when the new colour lies between the ink and a coloured surface (a magenta ring
  in an orange mark on purple goods), so each part of an ink is compared with the rest of the same ink in
  the same photo instead, in chromaticity of linear RGB: light and shade scale a colour's linear RGB and
  keep its chromaticity, glare and fading move it towards neutral, and a recoloured part moves it off the
  line from neutral through the ink's own chromaticity.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

INK_BIN = 8.0  # Lab a*b* units per bin when the reference artwork's ink colours are counted
INK_SHARE = 0.08  # an ink colour is checked when it covers at least this share of the mark
MIN_PIXELS = 20  # fewer pixels than this say nothing about a colour
# part_colour: parts are PART_SIDE-px squares at the compared side (128: a quarter of it), every half side,
# holding PART_PIXELS of the ink at least. On the calibration split 32 px parts left the genuine photos'
# largest value at 8.4 and put three counterfeits the score passes above it (24 and 40 px: the same three).
PART_SIDE = 32
PART_PIXELS = 60
DARK = 0.02  # linear luminance under which chromaticity is sensor noise (a black ink, a deep shadow)
NEUTRAL = np.full(2, 100 / 3, np.float32)


@dataclass
class InkLayout:
    """What colour_deviation reads off a reference once: its flat ink colours, each with where it is (away
    from the antialiased edges), and the ring just outside the mark where the goods' surface shows."""

    inks: list[tuple[np.ndarray, np.ndarray]]  # (a*b* colour, mask)
    ring: np.ndarray


def ink_layout(reference: np.ndarray, ref_mask: np.ndarray) -> InkLayout:
    """The reference artwork's inks covering INK_SHARE of the mark each (a gradient fill spreads over many
    bins and yields none), and its surface ring, 2-4 px outside the mark at 128 px."""
    ab = cv2.cvtColor(reference, cv2.COLOR_BGR2LAB)[..., 1:].astype(np.float32) - 128
    inner = cv2.erode(ref_mask, np.ones((3, 3), np.uint8)) > 0
    bins = np.round(ab / INK_BIN).astype(np.int32)
    keys = bins[..., 0] * 64 + bins[..., 1]
    values, counts = np.unique(keys[inner], return_counts=True)
    enough = max(MIN_PIXELS, INK_SHARE * int(inner.sum()))
    inks = []
    for value in values[counts >= enough]:
        where = inner & (keys == value)
        inks.append((np.median(ab[where], axis=0), where))
    near, touching = cv2.dilate(ref_mask, np.ones((9, 9), np.uint8)), cv2.dilate(ref_mask, np.ones((3, 3), np.uint8))
    return InkLayout(inks, (near > 0) & (touching == 0))


NO_INKS = InkLayout([], np.zeros((0, 0), bool))  # nothing to check the colours against


def _line_distances(points: np.ndarray, start: np.ndarray, end: np.ndarray, ray: bool = False) -> np.ndarray:
    """Distances of (N, 2) points from the segment start-end, or with `ray` from the ray that starts at
    `start` and runs through `end` and on (from `start` itself when the two coincide)."""
    direction, offsets = end - start, points - start
    length = float(direction @ direction)
    along = offsets @ direction / length if length > 1e-6 else np.zeros(len(points))
    along = np.clip(along, 0, None if ray else 1)
    return np.linalg.norm(offsets - along[:, None] * direction, axis=1)


def _triangle_distance(p: np.ndarray, corners: tuple[np.ndarray, np.ndarray, np.ndarray]) -> float:
    """Distance from point `p` to the triangle `corners` (0 inside), in the plane."""
    a, b, c = corners
    sides = [(a, b), (b, c), (c, a)]
    signs = [(v[0] - u[0]) * (p[1] - u[1]) - (v[1] - u[1]) * (p[0] - u[0]) for u, v in sides]
    if all(x >= 0 for x in signs) or all(x <= 0 for x in signs):
        return 0.0
    return min(float(_line_distances(p[None], u, v)[0]) for u, v in sides)


def colour_deviation(aligned: np.ndarray, layout: InkLayout) -> float | None:
    """How far the aligned mark's colours lie from any colour its genuine ink can take on these goods, in Lab
    a*b* units (None when the reference has no flat ink colour or the mark's surroundings are too small).

    Per ink colour of the reference (`layout`: ink_layout of the reference), the query's median colour where
    that ink should be is compared with the triangle of what a genuine print can show there: the ink itself,
    the goods' surface (a faded or embossed print lets it through; measured on the ring) and neutral grey
    (foil shine, glare, blur). A white-balance drift moves a colour a few units; a mark printed in another
    colour lands far off. The largest distance over the inks is returned: one wrong-coloured ink is enough."""
    if not layout.inks or layout.ring.sum() < MIN_PIXELS:
        return None
    ab = cv2.cvtColor(aligned, cv2.COLOR_BGR2LAB)[..., 1:].astype(np.float32) - 128
    surface, grey = np.median(ab[layout.ring], axis=0), np.zeros(2, np.float32)
    return max(_triangle_distance(np.median(ab[where], axis=0), (ink, surface, grey)) for ink, where in layout.inks)


@dataclass(frozen=True)
class PartColour:
    """How far the most off-colour part of an ink strays (chromaticity units: percent of linear RGB), and
    where that part is (a mask over the compared image)."""

    deviation: float
    where: np.ndarray


_ENCODED = np.arange(256, dtype=np.float32) / 255
_LINEAR = np.where(_ENCODED <= 0.04045, _ENCODED / 12.92, ((_ENCODED + 0.055) / 1.055) ** 2.4).astype(np.float32)


def _chromaticity(bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(blue and green shares of linear RGB in percent, linear luminance) per pixel."""
    linear = _LINEAR[bgr]  # sRGB decoding, looked up
    shares = linear[..., :2] / (linear.sum(axis=-1, keepdims=True) + 1e-4) * 100
    return shares, linear @ np.array([0.0722, 0.7152, 0.2126], np.float32)


def part_colour(aligned: np.ndarray, layout: InkLayout) -> PartColour | None:
    """The part of any of the reference's inks whose colour in the photo strays furthest from the rest of
    that ink (see the module's docstring); None when no ink is bright enough to have a colour to compare.
    The aligned query must be registered on the reference: misplaced, a part reads the surface's colour.
    A part's colour is its mean (the squares overlap by half, so one lies mostly on any recoloured element),
    summed for every square at once from integral images."""
    shares, luminance = _chromaticity(aligned)
    worst: tuple[float, np.ndarray, int, int] | None = None  # (deviation, ink mask, y, x)
    starts = np.arange(0, aligned.shape[0] - PART_SIDE + 1, PART_SIDE // 2)
    ys, xs = np.meshgrid(starts, starts, indexing="ij")
    for _, where in layout.inks:
        if np.median(luminance[where]) < DARK:
            continue
        ink = np.median(shares[where], axis=0)
        weight = where.astype(np.float32)
        sums = cv2.integral(np.dstack([weight, weight * luminance, weight[..., None] * shares]))
        totals = (
            sums[ys + PART_SIDE, xs + PART_SIDE] - sums[ys, xs + PART_SIDE] - sums[ys + PART_SIDE, xs] + sums[ys, xs]
        )
        count = totals[..., 0]
        means = totals[..., 1:] / np.maximum(count, 1)[..., None]
        kept = (count >= PART_PIXELS) & (means[..., 0] >= DARK)
        if not kept.any():
            continue
        # Off the ray from neutral through the ink's chromaticity: the ink's own colour in any light, shade,
        # glare or fading.
        deviations = _line_distances(means[..., 1:][kept], NEUTRAL, ink, ray=True)
        best = int(deviations.argmax())
        if worst is None or deviations[best] > worst[0]:
            worst = (float(deviations[best]), where, int(ys[kept][best]), int(xs[kept][best]))
    if worst is None:
        return None
    deviation, where, y, x = worst
    part = np.zeros_like(where)
    part[y : y + PART_SIDE, x : x + PART_SIDE] = where[y : y + PART_SIDE, x : x + PART_SIDE]
    return PartColour(deviation, part)
