"""Synthetic handheld photos of brand marks on goods, deterministic by seed.

    python tools/synth_photos.py REFS_DIR --out DIR [--brands a,b] [--per-brand N] [--seed S] \
        [--kind genuine|blur|dark|glare|colour|stretch|missing|mirror]

Each photo: a surface texture (fabric, cardboard, leather, plastic, paper), the brand mark printed on it at
30-60% of the frame, a mild perspective and rotation, a lighting gradient, white-balance drift, sensor
noise, a little defocus, and JPEG compression, at 640x480. Kinds beyond `genuine` make the frames the
scanner must turn away (`blur`, `dark`, `glare` -> rescan) or flag (`colour`, `stretch`, `missing`,
`mirror` -> suspect). Writes DIR/<kind>_<brand>_<n>.jpg and DIR/labels.csv (file,expected,brand).

v0 scope: enough realism to exercise every stage; the recognition work extends it (embossing, embroidery,
specular plastic, stronger perspective, distractors).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

WIDTH, HEIGHT = 640, 480
FOCAL = WIDTH / (2 * math.tan(math.radians(32.5)))  # pixels: a 65-degree horizontal field of view
MAX_TILT = 25.0  # degrees of perspective on a handheld rich photo
SURFACES = ("fabric", "cardboard", "leather", "plastic", "paper")
EXPECTED = {
    "genuine": "pass",
    "blur": "rescan",
    "dark": "rescan",
    "glare": "rescan",
    "colour": "suspect",
    "stretch": "suspect",
    "missing": "suspect",
    "mirror": "suspect",
    "unknown": "unknown",
}


def surface(kind: str, rng: np.random.Generator) -> np.ndarray:
    """A BGR float32 texture of HEIGHT x WIDTH."""
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    noise = rng.normal(0, 1, (HEIGHT, WIDTH)).astype(np.float32)
    if kind == "fabric":
        base = rng.uniform(60, 230, 3)
        period = rng.uniform(3, 6)
        weave = np.sin(xx * 2 * math.pi / period) * np.sin(yy * 2 * math.pi / period)
        shade = 10 * weave + 4 * noise
    elif kind == "cardboard":
        base = np.array([90, 140, 185]) * rng.uniform(0.85, 1.1)
        fibres = cv2.GaussianBlur(noise, (0, 0), sigmaX=6, sigmaY=0.8)
        shade = 25 * fibres + 3 * noise
    elif kind == "leather":
        base = rng.uniform(25, 110, 3)
        grain = cv2.GaussianBlur(noise, (0, 0), 2.0)
        shade = 30 * np.abs(grain) + 2 * noise
    elif kind == "plastic":
        base = rng.uniform(30, 240, 3)
        shade = 1.5 * noise
    else:  # paper
        base = rng.uniform(200, 232) * np.ones(3)
        shade = 3 * cv2.GaussianBlur(noise, (0, 0), 1.0)
    return np.clip(base[None, None, :] + shade[..., None], 0, 255).astype(np.float32)


def _luma(bgr: np.ndarray) -> float:
    return float(bgr[..., 0].mean() * 0.114 + bgr[..., 1].mean() * 0.587 + bgr[..., 2].mean() * 0.299)


def _contrasting(image: np.ndarray, mark: np.ndarray) -> np.ndarray:
    """Goods are printed so the mark stands out: invert the surface's brightness when it is too close."""
    ink = mark[..., :3][mark[..., 3] > 127].astype(np.float32)
    if len(ink) == 0:
        return image
    gap = _luma(image) - _luma(ink[None])
    if abs(gap) < 60:
        image = np.clip(255 - image + (image.mean() - 128) * 0.2, 0, 255)
        if abs(_luma(image) - _luma(ink[None])) < 60:
            image = np.clip(image + (80 if _luma(ink[None]) < 128 else -80), 0, 255)
    return image


def load_mark(path: Path) -> np.ndarray:
    mark = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if mark is None or mark.ndim != 3 or mark.shape[2] != 4:
        raise SystemExit(f"{path}: expected an RGBA logo.png from tools/import_simple_icons.py")
    return mark


def tamper(mark: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Counterfeit kinds on the artwork itself, before it is photographed."""
    mark = mark.copy()
    if kind == "colour":
        hsv = cv2.cvtColor(mark[..., :3], cv2.COLOR_BGR2HSV)
        if hsv[..., 1][mark[..., 3] > 127].mean() < 60:  # black or grey mark: print it in a strong colour
            mark[..., :3] = np.array([rng.uniform(0, 255), 40, 220], np.uint8)[None, None, :]
        else:
            hsv[..., 0] = (hsv[..., 0].astype(int) + int(rng.uniform(45, 90))) % 180
            mark[..., :3] = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
    elif kind == "stretch":
        size = mark.shape[0]
        factor = rng.uniform(1.35, 1.6)
        wide = cv2.resize(mark, (int(size * factor), size), interpolation=cv2.INTER_AREA)
        mark = cv2.resize(wide, (size, int(size / factor)), interpolation=cv2.INTER_AREA)  # keep width budget
        pad = (size - mark.shape[0]) // 2
        mark = cv2.copyMakeBorder(mark, pad, size - mark.shape[0] - pad, 0, 0, cv2.BORDER_CONSTANT, value=0)
    elif kind == "missing":
        ys, xs = np.nonzero(mark[..., 3] > 127)
        x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
        # Erase one quadrant of the mark's extent.
        qx, qy = rng.integers(0, 2), rng.integers(0, 2)
        w, h = (x1 - x0) // 2, (y1 - y0) // 2
        mark[y0 + qy * h : y0 + (qy + 1) * h + 1, x0 + qx * w : x0 + (qx + 1) * w + 1, 3] = 0
    elif kind == "mirror":
        mark = mark[:, ::-1].copy()
    return mark


# Genuine colourways: goods carry a brand's mark in one neutral ink or reversed out of a field of the brand's
# colour as often as in the artwork's colour, and every one of them is genuine. (A counterfeit's colour kinds
# turn the hue or print a neutral mark in a colour: tools/counterfeits.py.)
COLOURWAYS = ("one_colour_dark", "one_colour_light", "reversed")


def colourway(mark: np.ndarray, way: str, rng: np.random.Generator) -> np.ndarray:
    """The RGBA artwork as genuine goods print it in `way`: in near-black or near-white ink, or reversed (the
    mark in white inside a field of the artwork's ink colour, on a canvas grown to hold the field)."""
    if way not in COLOURWAYS:
        raise ValueError(f"unknown colourway {way!r}; known: {COLOURWAYS}")
    out = mark.copy()
    if way != "reversed":
        level = rng.uniform(15, 45) if way == "one_colour_dark" else rng.uniform(225, 250)
        out[..., :3] = np.uint8(level)
        return out
    side = mark.shape[0]
    grown = int(round(side * 1.5))
    pad = (grown - side) // 2
    out = cv2.copyMakeBorder(mark, pad, grown - side - pad, pad, grown - side - pad, cv2.BORDER_CONSTANT, value=0)
    ink = out[..., 3] > 127
    brand = np.median(out[..., :3][ink], axis=0)
    ys, xs = np.nonzero(ink)
    margin = int(side * rng.uniform(0.08, 0.2))
    field = np.zeros(ink.shape, np.uint8)
    x0, y0 = max(0, xs.min() - margin), max(0, ys.min() - margin)
    x1, y1 = min(grown - 1, xs.max() + margin), min(grown - 1, ys.max() + margin)
    cv2.rectangle(field, (int(x0), int(y0)), (int(x1), int(y1)), 255, -1)
    weight = out[..., 3:4].astype(np.float32) / 255.0
    white = rng.uniform(235, 250)
    rgb = brand[None, None, :] * (1 - weight) + white * weight
    return np.dstack([rgb, field]).astype(np.uint8)


def tilted_corners(side: int, rng: np.random.Generator, max_tilt: float = MAX_TILT) -> np.ndarray:
    """Image positions (relative to the mark's centre) of a side x side mark's corners when the goods are
    tilted by up to `max_tilt` degrees about a random axis in their plane, seen by a pinhole camera.

    Foreshortening is then at most 1/cos(25 deg) - 1 = 10%, as a real camera gives; the keystone grows with
    how much of the frame the mark fills. A 2% corner jitter stands for goods that are not quite flat.
    Moving each corner independently instead (the first rich generator, up to 15% of the side) stretched
    genuine marks by 17% at the median and 43% at the 99th percentile: as much as a proportions counterfeit.
    """
    tilt = math.radians(rng.uniform(0, max_tilt))
    axis = rng.uniform(0, 2 * math.pi)
    half = side / 2
    square = np.array([[-half, -half, 0], [half, -half, 0], [half, half, 0], [-half, half, 0]])
    rotation, _ = cv2.Rodrigues(np.array([math.cos(axis), math.sin(axis), 0.0]) * tilt)
    tilted = square @ rotation.T
    # At distance FOCAL from the camera, one unit of the mark is one pixel: the mark keeps its size.
    projected = tilted[:, :2] * FOCAL / (FOCAL + tilted[:, 2:3])
    return projected + rng.uniform(-0.02, 0.02, (4, 2)) * side


def photograph(mark: np.ndarray, rng: np.random.Generator, *options: Any, **named: Any) -> np.ndarray:
    """Print the RGBA mark on a surface and take a handheld photo of it: photograph_with_placement's photo,
    for the same arguments."""
    return photograph_with_placement(mark, rng, *options, **named)[0]


def photograph_with_extent(
    mark: np.ndarray, rng: np.random.Generator, kind: str = "genuine", rich: bool = False, inked: bool = False
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """(photo, (x0, y0, x1, y1) extent of the mark in it): see photograph_with_placement."""
    photo, extent, _ = photograph_with_placement(mark, rng, kind, rich, inked)
    return photo, extent


def photograph_with_placement(
    mark: np.ndarray,
    rng: np.random.Generator,
    kind: str = "genuine",
    rich: bool = False,
    inked: bool = False,
    capture: np.random.Generator | None = None,
) -> tuple[np.ndarray, tuple[int, int, int, int], np.ndarray]:
    """(photo, (x0, y0, x1, y1) extent of the mark in it, 3x3 homography from the mark's pixels to the
    photo's): print the RGBA mark on a surface and take a handheld photo of it. The homography is the
    ground truth an alignment can be measured against (tools/alignment_error.py).

    `rich` (the training and v1 evaluation sets) widens every range and adds print styles (embossed,
    embroidered, foil, faded), cast shadows and motion blur; without it, the v0 sets are reproduced exactly.
    `inked` rules out embossing (no ink): a colour counterfeit must show its colour.

    `rng` draws the goods (surface, ink coverage, print style) and, unless `capture` is given, the capture too
    (pose, light, shadow, shake, blur, noise, JPEG). Two photos with generators seeded alike for the goods and
    differently for `capture` are two views of one item (make_heldout_set.py --views 2).
    """
    cap = rng if capture is None else capture
    image = surface(SURFACES[rng.integers(len(SURFACES))], rng)
    image = _contrasting(image, mark)
    side = int(min(WIDTH, HEIGHT) * (cap.uniform(0.3, 0.9) if rich else cap.uniform(0.5, 0.85)))
    art = cv2.resize(mark, (side, side), interpolation=cv2.INTER_AREA).astype(np.float32)
    cx = WIDTH / 2 + cap.uniform(-0.08, 0.08) * WIDTH
    cy = HEIGHT / 2 + cap.uniform(-0.08, 0.08) * HEIGHT
    # Perspective, then an in-plane rotation. v0 moves each corner by up to 6% of the side; rich tilts the
    # goods by up to 25 degrees in front of a pinhole camera (tilted_corners).
    src = np.float32([[0, 0], [side, 0], [side, side], [0, side]])
    if rich:
        corners = tilted_corners(side, cap)
        if "tilt" in _ablated:
            corners = src - side / 2  # square on (the tilt's random numbers drawn all the same)
    else:
        corners = src + cap.uniform(-0.06, 0.06, (4, 2)) * side - side / 2
    angle = math.radians(cap.uniform(-20, 20) if rich else cap.uniform(-10, 10))
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    dst = (corners @ rot.T + [cx, cy]).astype(np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(art, matrix, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0, 0))
    ys, xs = np.nonzero(warped[..., 3] > 127)
    extent = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1) if len(xs) else (0, 0, WIDTH, HEIGHT)
    alpha = warped[..., 3:4] / 255.0 * rng.uniform(0.88, 1.0)  # ink coverage
    luma = image.mean(axis=2, keepdims=True) / 255.0
    ink = warped[..., :3] * (luma / luma.mean()) ** 0.3  # the surface's texture shows through the ink a little
    styled = _print_style(image, ink, alpha, rng, inked) if rich else None
    image = ink * alpha + image * (1 - alpha) if styled is None or "print" in _ablated else styled

    # Light: a linear gradient and a soft vignette, then white balance drift.
    gx, gy = cap.uniform(-1, 1, 2)
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    gradient = 1 + 0.25 * (gx * (xx / WIDTH - 0.5) + gy * (yy / HEIGHT - 0.5))
    vignette = 1 - 0.25 * (((xx - WIDTH / 2) / WIDTH) ** 2 + ((yy - HEIGHT / 2) / HEIGHT) ** 2)
    exposure = cap.uniform(0.8, 1.1) * cap.uniform(0.92, 1.08, 3)
    image = image * (gradient * vignette)[..., None] * exposure

    if kind == "dark":
        image = image * cap.uniform(0.08, 0.14)
    if kind == "glare":
        # A specular highlight over the mark, saturated at its core.
        gx0, gy0 = cx + cap.uniform(-0.1, 0.1) * WIDTH, cy + cap.uniform(-0.1, 0.1) * HEIGHT
        spot = np.exp(-(((xx - gx0) ** 2 + (yy - gy0) ** 2) / (2 * (0.28 * WIDTH) ** 2)))
        image = image + cap.uniform(320, 420) * spot[..., None]
    if rich:
        shaken = _shadow_and_shake(image, cap)
        image = image if "print" in _ablated else shaken
    sigma = cap.uniform(5, 8) if kind == "blur" else cap.uniform(0.3, 0.9)
    image = cv2.GaussianBlur(image, (0, 0), sigma)
    image = image + cap.normal(0, cap.uniform(1.5, 4.5), image.shape)
    image = np.clip(image, 0, 255).astype(np.uint8)
    quality = int(cap.integers(60, 93) if rich else cap.integers(80, 93))
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    placement = matrix @ np.diag([side / mark.shape[1], side / mark.shape[0], 1.0])
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR), extent, placement


# Capture factors an evaluation set can be re-shot without (make_heldout_set.py --without), and what each
# removes from the rich photos.
ABLATIONS = {
    "tilt": "the goods square on and flat: no tilt, no corner jitter",
    "print": "plain ink: no embossing, embroidery, foil or fading, no cast shadow or shake",
}
_ablated: frozenset[str] = frozenset()


@contextlib.contextmanager
def ablated(*factors: str) -> Iterator[None]:
    """Photos taken inside are the same photos without `factors` (ABLATIONS). The removed steps still run and
    their results are dropped, so they consume the same random numbers and a set made with and without an
    ablation differs in that factor only."""
    global _ablated
    unknown = set(factors) - set(ABLATIONS)
    if unknown:
        raise ValueError(f"unknown capture factor(s) {sorted(unknown)}; known: {sorted(ABLATIONS)}")
    before, _ablated = _ablated, _ablated | frozenset(factors)
    try:
        yield
    finally:
        _ablated = before


_styles_seen: list[str] | None = None
_emboss_light_anywhere = False


EMBOSS_LIGHTS = ("diagonal", "any")  # how embossed marks are lit (make_heldout_set.py / make_verifier_set.py)
EMBOSS_LIGHT_HELP = (
    "the direction embossed marks are lit from: the diagonal every set was made with, or one per mark "
    "(synth_photos.emboss_lit; every other photo comes out as with the diagonal)"
)


@contextlib.contextmanager
def emboss_lit(direction: str) -> Iterator[None]:
    """Embossed marks photographed inside are lit along `direction` (EMBOSS_LIGHTS): "diagonal", the one
    direction every embossed mark is otherwise lit from (as the training pairs were), or "any", a direction of
    each mark's own. That direction is read off where the goods' generator stands, without drawing from it:
    every other photo, and every other part of an embossed one, stays as it was."""
    global _emboss_light_anywhere
    if direction not in EMBOSS_LIGHTS:
        raise ValueError(f"unknown emboss light {direction!r}; known: {EMBOSS_LIGHTS}")
    before, _emboss_light_anywhere = _emboss_light_anywhere, direction == "any"
    try:
        yield
    finally:
        _emboss_light_anywhere = before


def _emboss_light(rng: np.random.Generator) -> tuple[float, float]:
    """(x, y) weights of the relief's slopes in the shading: the diagonal, or inside emboss_lit("any") a
    direction taken from the generator's state (not drawn: the stream goes on as without it)."""
    if not _emboss_light_anywhere:
        return 1.0, 1.0
    angle = math.radians(int(rng.bit_generator.state["state"]["state"]) % 3600 / 10)
    return math.sqrt(2) * math.cos(angle), math.sqrt(2) * math.sin(angle)  # as strong as the diagonal's


@contextlib.contextmanager
def recording_styles() -> Iterator[list[str]]:
    """The print style (_print_style: print, emboss, embroider, foil, faded) of each rich photo taken inside, in
    order, for an evaluation set's labels: how far each style is caught is a question of its own."""
    global _styles_seen
    before, _styles_seen = _styles_seen, []
    try:
        yield _styles_seen
    finally:
        _styles_seen = before


def _print_style(
    surface_img: np.ndarray, ink: np.ndarray, alpha: np.ndarray, rng: np.random.Generator, inked: bool = False
) -> np.ndarray:
    """How the mark sits on the goods: printed, embossed (no ink, only relief), embroidered, foil, faded."""
    style = str(rng.choice(["print", "print", "emboss", "embroider", "foil", "faded"]))
    if inked and style == "emboss":
        style = "print"
    if _styles_seen is not None:
        _styles_seen.append("print" if "print" in _ablated else style)
    if style == "emboss":
        relief = cv2.GaussianBlur(alpha[..., 0], (0, 0), 1.5)
        along_x, along_y = _emboss_light(rng)
        light = along_x * cv2.Sobel(relief, cv2.CV_32F, 1, 0, ksize=3) + along_y * cv2.Sobel(
            relief, cv2.CV_32F, 0, 1, ksize=3
        )
        shaded = surface_img * (1 + 0.9 * light[..., None]) * (1 - 0.12 * alpha)
        return shaded
    if style == "embroider":
        h, w = alpha.shape[:2]
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        threads = 0.8 + 0.2 * np.sin((xx + yy) * rng.uniform(1.2, 2.0))[..., None]
        rough = (alpha > 0.5).astype(np.float32)
        rough = cv2.dilate(rough, np.ones((2, 2), np.uint8))[..., None] if rng.random() < 0.5 else rough
        return ink * threads * rough + surface_img * (1 - rough)
    if style == "foil":
        h, w = alpha.shape[:2]
        band = np.exp(-((np.arange(w)[None, :] - rng.uniform(0, w)) ** 2) / (2 * (w * 0.08) ** 2))
        shine = np.broadcast_to(band, (h, w))[..., None] * rng.uniform(80, 160)
        return (ink + shine) * alpha + surface_img * (1 - alpha)
    if style == "faded":
        faded = alpha * rng.uniform(0.45, 0.75)
        return ink * faded + surface_img * (1 - faded)
    return ink * alpha + surface_img * (1 - alpha)


def _shadow_and_shake(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A soft cast shadow across part of the frame, and sometimes motion blur from a shaking hand."""
    h, w = image.shape[:2]
    if rng.random() < 0.5:
        mask = np.zeros((h, w), np.float32)
        points = (rng.uniform(0, 1, (4, 2)) * [w, h]).astype(np.int32)
        points[:2, 0] = rng.choice([0, w - 1])
        cv2.fillConvexPoly(mask, cv2.convexHull(points), 1.0)
        mask = cv2.GaussianBlur(mask, (0, 0), rng.uniform(10, 40))
        image = image * (1 - rng.uniform(0.25, 0.5) * mask[..., None])
    if rng.random() < 0.3:
        length = int(rng.integers(3, 10))
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1.0 / length
        rotation = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), rng.uniform(0, 180), 1.0)
        kernel = cv2.warpAffine(kernel, rotation, (length, length))
        image = cv2.filter2D(image, -1, kernel / max(kernel.sum(), 1e-6))
    return image


def counterfeit_photo(mark: np.ndarray, kind: str, magnitude: float, rng: np.random.Generator, views: int = 0) -> tuple:
    """(rich photo, kind made, 0/255 mask of what changed in the artwork, description) of a counterfeit of
    `mark` (tools/counterfeits.py; the next kind when this one would not show). Raises Invisible when none
    shows. With `views`, the first item is a list of that many views of the one counterfeit (photograph_views)."""
    from counterfeits import COLOUR_KINDS, counterfeit_any

    kind, altered, where, description = counterfeit_any(mark, kind, magnitude, rng)
    inked = kind in COLOUR_KINDS
    if views:
        return photograph_views(altered, rng, views, "genuine", rich=True, inked=inked), kind, where, description
    return photograph(altered, rng, "genuine", rich=True, inked=inked), kind, where, description


def colourway_photo(mark: np.ndarray, way: str, rng: np.random.Generator) -> np.ndarray:
    """A rich photo of `mark` as genuine goods print it in colourway `way` (colourway), in ink: never embossed,
    which would hide the colourway."""
    return photograph(colourway(mark, way, rng), rng, "genuine", rich=True, inked=True)


def counterfeit_colourway_photo(
    mark: np.ndarray, kind: str, magnitude: float, way: str, rng: np.random.Generator
) -> tuple[np.ndarray, str, np.ndarray]:
    """(rich photo, kind made, 0/255 mask of what changed in the artwork) of a counterfeit of `mark` printed in
    colourway `way`. Raises Invisible when the kind that shows is a colour kind: the colourway would hide it."""
    from counterfeits import COLOUR_KINDS, Invisible, counterfeit_any

    kind, altered, where, _ = counterfeit_any(mark, kind, magnitude, rng)
    if kind in COLOUR_KINDS:
        raise Invisible(f"{kind}: a colourway would hide it")
    return colourway_photo(altered, way, rng), kind, where


def photograph_views(
    mark: np.ndarray,
    rng: np.random.Generator,
    views: int,
    kind: str = "genuine",
    rich: bool = False,
    inked: bool = False,
) -> list[np.ndarray]:
    """`views` photos of one item: the same goods (surface, ink, print style: drawn by `rng` from where it
    stands, alike for each view) taken from independent handheld captures (pose, light, shadow, blur, noise),
    as an inspector gets by scanning an item again from another angle. One view is the photo `photograph`
    takes, goods and capture from the one stream, as every one-view evaluation set was made."""
    if views == 1:
        return [photograph(mark, rng, kind, rich, inked)]
    goods = rng.bit_generator.state
    captures = rng.spawn(views)  # children of rng's seed: no draws taken from the goods' stream
    photos = []
    for capture in captures:
        rng.bit_generator.state = goods
        photos.append(photograph(mark, rng, kind, rich, inked, capture))
    return photos


def make_photo(logo: Path, kind: str, seed: int, rich: bool = False) -> np.ndarray:
    mark, rng, capture_kind = _item(logo, kind, seed)
    return photograph(mark, rng, capture_kind, rich)


def make_views(logo: Path, kind: str, seed: int, views: int, rich: bool = False) -> list[np.ndarray]:
    """`views` photos of the item make_photo photographs once (photograph_views)."""
    mark, rng, capture_kind = _item(logo, kind, seed)
    return photograph_views(mark, rng, views, capture_kind, rich)


def _item(logo: Path, kind: str, seed: int) -> tuple[np.ndarray, np.random.Generator, str]:
    """(the mark to print, tampered for the v0 counterfeit kinds; the generator that goes on to photograph it;
    the capture's kind)."""
    rng = np.random.default_rng(seed)
    mark = load_mark(logo)
    if kind in ("colour", "stretch", "missing", "mirror"):
        mark = tamper(mark, kind, rng)
    return mark, rng, kind if kind in ("blur", "dark", "glare") else "genuine"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("refs", type=Path, help="reference folder (REFS/<brand>/logo.png)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--brands", help="comma-separated brand ids (default: all in REFS)")
    parser.add_argument("--kind", default="genuine", choices=sorted(EXPECTED))
    parser.add_argument("--per-brand", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    brands = args.brands.split(",") if args.brands else sorted(p.name for p in args.refs.iterdir() if p.is_dir())
    args.out.mkdir(parents=True, exist_ok=True)
    labels = args.out / "labels.csv"
    new_file = not labels.exists()
    with labels.open("a", newline="") as fh:
        writer = csv.writer(fh)
        if new_file:
            writer.writerow(["file", "expected", "brand"])
        for b, brand in enumerate(brands):
            for n in range(args.per_brand):
                seed = args.seed * 1_000_003 + b * 1009 + n
                photo_kind = "genuine" if args.kind == "unknown" else args.kind
                image = make_photo(args.refs / brand / "logo.png", photo_kind, seed)
                name = f"{args.kind}_{brand}_{n}.jpg"
                cv2.imwrite(str(args.out / name), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
                writer.writerow([name, EXPECTED[args.kind], "" if args.kind == "unknown" else brand])
    print(f"wrote {len(brands) * args.per_brand} {args.kind} photos to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
