"""Counterfeit kinds made on a brand's artwork, each with a magnitude from subtle (0) to obvious (1).

    mark, where, description = counterfeit(mark_rgba, "moved", magnitude=0.3, rng=rng)

`where` is a 0/255 mask, in the artwork's own pixels, of what changed: the target of the verifier's
deviation map. `description` says what was done in an inspector's words ("one element moved by about 6%
of the mark's size"). A change too small to see (a mirrored element that is symmetric, say) raises
`Invisible`, so every counterfeit sample really differs from the genuine mark.

Kinds, as seen on real fakes: proportions (stretched or squashed), colour (the whole mark's hue shifted),
element colour (one part in the wrong colour), missing (one part left out), moved (one part displaced),
mirrored (one part flipped), stroke (lines thicker or thinner), warp (a part distorted). Changed letters
and a different typeface are not made: simple-icons marks are outlines, with no text to re-set.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

KINDS = ("proportions", "colour", "element_colour", "missing", "moved", "mirrored", "stroke", "warp")
INK = 127  # alpha above this is mark
MIN_VISIBLE = 0.015  # share of the mark's area that must change for a counterfeit to count
PART_KINDS = ("element_colour", "missing", "moved", "mirrored", "warp")  # change one part of the mark...
WHOLE_MIRROR = "mirror image of the genuine mark"  # ...except an obvious mirrored one, which flips the whole


class Invisible(Exception):
    """The chosen change leaves the mark (nearly) as it was."""


def _ink(mark: np.ndarray) -> np.ndarray:
    return mark[..., 3] > INK


def changed(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """0/255 mask where the mark's presence or its colour differs between two RGBA artworks."""
    a0, a1 = before[..., 3].astype(np.int16), after[..., 3].astype(np.int16)
    presence = np.abs(a0 - a1) > 100
    both = (a0 > INK) & (a1 > INK)
    lab0 = cv2.cvtColor(before[..., :3], cv2.COLOR_BGR2LAB).astype(np.float32)
    lab1 = cv2.cvtColor(after[..., :3], cv2.COLOR_BGR2LAB).astype(np.float32)
    colour = both & (np.linalg.norm(lab0 - lab1, axis=2) > 25)
    return ((presence | colour) * 255).astype(np.uint8)


def _element(mark: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of one part of the mark, about `share` of its area: a separate component when one has
    a fitting size (a letter, a dot, an emblem), else a round patch of a single-piece mark."""
    ink = _ink(mark).astype(np.uint8)
    total = int(ink.sum())
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA] / max(1, total)
    fitting = [i + 1 for i, a in enumerate(areas) if share / 3 <= a <= min(0.6, share * 3)]
    if fitting:
        return labels == fitting[rng.integers(len(fitting))]
    ys, xs = np.nonzero(ink)
    pick = rng.integers(len(xs))
    radius = math.sqrt(share * total / math.pi) * 1.3  # the patch also covers gaps between strokes
    yy, xx = np.mgrid[0 : mark.shape[0], 0 : mark.shape[1]]
    return (((xx - xs[pick]) ** 2 + (yy - ys[pick]) ** 2) <= radius**2) & (ink > 0)


def _hue_shift(bgr: np.ndarray, degrees: float) -> np.ndarray:
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    hsv[..., 0] = (hsv[..., 0].astype(int) + int(round(degrees / 2))) % 180
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def _recolour(mark: np.ndarray, region: np.ndarray, magnitude: float, rng: np.random.Generator) -> tuple:
    """Chromatic ink: hue turned by 30-110 degrees; black, grey or white ink: printed in a colour."""
    out = mark.copy()
    saturation = cv2.cvtColor(mark[..., :3], cv2.COLOR_BGR2HSV)[..., 1][region].mean()
    if saturation > 60:
        degrees = (30 + 80 * magnitude) * rng.choice([-1, 1])
        out[..., :3][region] = _hue_shift(mark[..., :3], degrees)[region]
        return out, f"hue turned by about {abs(degrees):.0f} degrees"
    hue = int(rng.integers(0, 180))
    colour = cv2.cvtColor(np.uint8([[[hue, 90 + 150 * magnitude, 200]]]), cv2.COLOR_HSV2BGR)[0, 0]
    out[..., :3][region] = colour
    return out, "printed in colour where the reference is black, grey or white"


def _proportions(mark: np.ndarray, magnitude: float, rng: np.random.Generator) -> tuple:
    factor = 1 + 0.08 + 0.42 * magnitude
    wider = bool(rng.integers(2))
    size = mark.shape[0]
    fx, fy = (factor, 1.0) if wider else (1.0, factor)
    scaled = cv2.resize(mark, (round(size * fx), round(size * fy)), interpolation=cv2.INTER_AREA)
    fit = size / max(scaled.shape[:2])
    if fit < 1:  # keep it on the canvas
        scaled = cv2.resize(
            scaled, (round(scaled.shape[1] * fit), round(scaled.shape[0] * fit)), interpolation=cv2.INTER_AREA
        )
    out = np.zeros_like(mark)
    y, x = (size - scaled.shape[0]) // 2, (size - scaled.shape[1]) // 2
    out[y : y + scaled.shape[0], x : x + scaled.shape[1]] = scaled
    percent = round(100 * (factor - 1))
    return out, f"about {percent}% {'wider' if wider else 'taller'} than the genuine mark"


def _missing(mark: np.ndarray, magnitude: float, rng: np.random.Generator) -> tuple:
    region = _element(mark, 0.04 + 0.21 * magnitude, rng)
    out = mark.copy()
    out[..., 3][cv2.dilate(region.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0] = 0
    return out, f"one part left out (about {100 * region.sum() / _ink(mark).sum():.0f}% of the mark)"


def _moved(mark: np.ndarray, magnitude: float, rng: np.random.Generator) -> tuple:
    region = cv2.dilate(_element(mark, 0.08 + 0.1 * magnitude, rng).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    ys, xs = np.nonzero(_ink(mark))
    extent = max(xs.max() - xs.min(), ys.max() - ys.min())
    distance = (0.03 + 0.12 * magnitude) * extent
    angle = rng.uniform(0, 2 * math.pi)
    shift = np.float32([[1, 0, distance * math.cos(angle)], [0, 1, distance * math.sin(angle)]])
    part = np.where(region[..., None], mark, 0).astype(np.uint8)
    size = mark.shape[1], mark.shape[0]
    moved = cv2.warpAffine(part, shift, size, flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0, 0))
    out = mark.copy()
    out[region] = 0
    over = moved[..., 3:4].astype(np.float32) / 255
    out = (moved * over + out * (1 - over)).astype(np.uint8)
    out[..., 3] = np.maximum(out[..., 3], moved[..., 3])
    return out, f"one part moved by about {100 * distance / extent:.0f}% of the mark's size"


def _mirrored(mark: np.ndarray, magnitude: float, rng: np.random.Generator) -> tuple:
    if magnitude > 0.7:  # the whole mark, as a careless copy from a reversed print
        return mark[:, ::-1].copy(), WHOLE_MIRROR
    region = _element(mark, 0.1 + 0.3 * magnitude, rng)
    ys, xs = np.nonzero(region)
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    out = mark.copy()
    box = out[y0:y1, x0:x1]
    flipped = np.where(region[y0:y1, x0:x1, None], box, 0)[:, ::-1]
    keep = np.where(region[y0:y1, x0:x1, None], 0, box)
    alpha = flipped[..., 3:4].astype(np.float32) / 255
    out[y0:y1, x0:x1] = (flipped * alpha + keep * (1 - alpha)).astype(np.uint8)
    out[y0:y1, x0:x1, 3] = np.maximum(keep[..., 3], flipped[..., 3])
    return out, "one part mirrored"


def _stroke(mark: np.ndarray, magnitude: float, rng: np.random.Generator) -> tuple:
    radius = 1 + round(4 * magnitude)  # pixels at the 256 px artwork
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    thicker = bool(rng.integers(2))
    out = mark.copy()
    if thicker:
        out[..., 3] = cv2.dilate(mark[..., 3], kernel)
        # New pixels take the colour of the nearest ink.
        _, labels = cv2.distanceTransformWithLabels(
            (~_ink(mark)).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
        )
        ys, xs = np.nonzero(_ink(mark) == 1)
        lookup = np.zeros((labels.max() + 1, 3), np.uint8)
        ink_labels = labels[ys, xs]
        lookup[ink_labels] = mark[ys, xs, :3]
        out[..., :3] = np.where(_ink(mark)[..., None], mark[..., :3], lookup[labels])
    else:
        out[..., 3] = cv2.erode(mark[..., 3], kernel)
    return out, f"lines {'thicker' if thicker else 'thinner'} than the genuine mark"


def _warp(mark: np.ndarray, magnitude: float, rng: np.random.Generator) -> tuple:
    size = mark.shape[0]
    ys, xs = np.nonzero(_ink(mark))
    pick = rng.integers(len(xs))
    cx, cy = xs[pick], ys[pick]
    sigma = size * rng.uniform(0.08, 0.16)
    amplitude = size * (0.02 + 0.05 * magnitude)
    angle = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    bump = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma**2)).astype(np.float32)
    map_x = xx - amplitude * math.cos(angle) * bump
    map_y = yy - amplitude * math.sin(angle) * bump
    out = cv2.remap(mark, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
    return out, "part of the mark distorted"


def _colour(mark: np.ndarray, magnitude: float, rng: np.random.Generator) -> tuple:
    out, description = _recolour(mark, _ink(mark), magnitude, rng)
    return out, f"colour differs: {description}"


def _element_colour(mark: np.ndarray, magnitude: float, rng: np.random.Generator) -> tuple:
    out, description = _recolour(mark, _element(mark, 0.08 + 0.25 * magnitude, rng), magnitude, rng)
    return out, f"one part's colour differs: {description}"


MAKERS = {
    "proportions": _proportions,
    "colour": _colour,
    "element_colour": _element_colour,
    "missing": _missing,
    "moved": _moved,
    "mirrored": _mirrored,
    "stroke": _stroke,
    "warp": _warp,
}


def changes_a_part(kind: str, description: str) -> bool:
    """Whether a counterfeit altered one part of the mark (which a heatmap should point at), not all of it."""
    return kind in PART_KINDS and description != WHOLE_MIRROR


def counterfeit(mark: np.ndarray, kind: str, magnitude: float, rng: np.random.Generator) -> tuple:
    """(altered RGBA, 0/255 mask of what changed, description); raises Invisible for a change too small."""
    altered, description = MAKERS[kind](mark, float(np.clip(magnitude, 0, 1)), rng)
    where = changed(mark, altered)
    if where.sum() / 255 < MIN_VISIBLE * max(1, int(_ink(mark).sum())):
        raise Invisible(f"{kind}: the change is too small to see on this mark")
    return altered, where, description


def counterfeit_any(mark: np.ndarray, kind: str, magnitude: float, rng: np.random.Generator) -> tuple:
    """(kind, altered, where, description): a visible counterfeit of `kind`, or of the next kind in KINDS
    that this mark shows (a mirrored part of a symmetric mark changes nothing)."""
    start = KINDS.index(kind)
    for step in range(len(KINDS)):
        candidate = KINDS[(start + step) % len(KINDS)]
        try:
            return (candidate, *counterfeit(mark, candidate, magnitude, rng))
        except Invisible:
            continue
    raise Invisible("no counterfeit kind changes this mark visibly")


COLOUR_KINDS = ("colour", "element_colour")  # photographed with ink (never embossed), or the change is unseen
