"""Whole-scene photos of brand marks, for training the embedder on what real photos show (deterministic by seed).

The handheld generator (synth_photos.py) prints the mark, in its one brand colour, on goods that fill the
frame. Real photos of logos (the FlickrLogos-27 query set) mostly do not look like that: the mark is often
knocked out in white from a coloured badge (a roundel, an oval, a sign), filled in several colours, or
chrome on a car, and it sits in a scene with other things around it. Here:

- `restyle` turns the artwork into one of those looks: as printed, knocked out of a badge, several colours,
  or metallic;
- `scene_photo` photographs it on goods (synth_photos.photograph, rich), shrinks that photo into a
  cluttered scene (other surfaces, panels, discs, bars), and returns the scene with the mark's box in it;
- `window_around` is the square window a scene search might embed: the mark at 45-100% of its side,
  off-centre (locate.search_windows' grid does not centre on the logo).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import cv2
import numpy as np

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
sys.path.insert(0, str(TOOLS.parent))

from synth_photos import HEIGHT, SURFACES, WIDTH, photograph_with_extent, surface  # noqa: E402

from scanner.locate import Box  # noqa: E402

STYLES = ("printed", "badge", "multicolour", "metallic")


def _ink_colour(mark: np.ndarray) -> np.ndarray:
    """The artwork's brand colour (BGR float32): the median of its opaque pixels."""
    opaque = mark[..., :3][mark[..., 3] > 127]
    return np.median(opaque, axis=0).astype(np.float32) if len(opaque) else np.full(3, 40, np.float32)


def _padded(mark: np.ndarray, fraction: float) -> np.ndarray:
    """The RGBA artwork on a canvas `fraction` larger a side (transparent margin), same size as before."""
    side = mark.shape[0]
    pad = int(side * fraction)
    bigger = cv2.copyMakeBorder(mark, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(0, 0, 0, 0))
    return cv2.resize(bigger, (side, side), interpolation=cv2.INTER_AREA)


def _badge(mark: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The mark knocked out in a light colour from a badge filled with its brand colour (dark when the brand
    colour is light): a disc, an oval or a rounded panel around it."""
    mark = _padded(mark, 0.18)
    side = mark.shape[0]
    alpha = mark[..., 3].astype(np.float32) / 255
    ys, xs = np.nonzero(alpha > 0.5)
    if len(xs) == 0:
        return mark
    cx, cy = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2
    half_w, half_h = (xs.max() - xs.min()) / 2 * 1.3 + 4, (ys.max() - ys.min()) / 2 * 1.3 + 4
    shape = np.zeros((side, side), np.uint8)
    kind = rng.choice(["disc", "oval", "panel"])
    if kind == "disc":
        radius = int(min(max(half_w, half_h), side / 2 - 1))
        cv2.circle(shape, (int(cx), int(cy)), radius, 255, -1, cv2.LINE_AA)
    elif kind == "oval":
        axes = (int(min(half_w * 1.1, side / 2 - 1)), int(min(half_h * 1.1, side / 2 - 1)))
        cv2.ellipse(shape, (int(cx), int(cy)), axes, 0, 0, 360, 255, -1, cv2.LINE_AA)
    else:
        x0, y0 = int(max(0, cx - half_w)), int(max(0, cy - half_h))
        x1, y1 = int(min(side - 1, cx + half_w)), int(min(side - 1, cy + half_h))
        cv2.rectangle(shape, (x0, y0), (x1, y1), 255, -1)
    colour = _ink_colour(mark)
    if colour.mean() > 170:
        colour = colour * 0.3
    light = np.array(rng.uniform(215, 255, 3), np.float32)
    rgb = colour[None, None, :] * (1 - alpha[..., None]) + light[None, None, :] * alpha[..., None]
    return np.dstack([np.clip(rgb, 0, 255), np.maximum(shape, mark[..., 3])]).astype(np.uint8)


def _multicolour(mark: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each separate part of the mark in its own colour (the brand colour among them), as multi-colour logos are."""
    mark = mark.copy()
    count, labels = cv2.connectedComponents((mark[..., 3] > 127).astype(np.uint8))
    palette = [_ink_colour(mark)] + [rng.uniform(0, 255, 3).astype(np.float32) for _ in range(3)]
    for part in range(1, count):
        mark[..., :3][labels == part] = palette[rng.integers(len(palette))].astype(np.uint8)
    # Split one-piece marks too: a second colour below a random horizontal line.
    if count <= 2:
        cut = int(rng.uniform(0.3, 0.7) * mark.shape[0])
        mark[cut:, :, :3][mark[cut:, :, 3] > 0] = palette[1 + rng.integers(3)].astype(np.uint8)
    return mark


def _metallic(mark: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Chrome or brushed metal: a grey vertical gradient with a bright band, as badges on cars and appliances."""
    mark = mark.copy()
    side = mark.shape[0]
    ramp = np.linspace(rng.uniform(60, 120), rng.uniform(150, 230), side, dtype=np.float32)
    band = 90 * np.exp(-((np.arange(side) - rng.uniform(0.2, 0.8) * side) ** 2) / (2 * (0.06 * side) ** 2))
    grey = np.clip(ramp + band, 0, 255)[:, None, None]
    tint = rng.uniform(0.9, 1.1, 3).astype(np.float32)
    mark[..., :3] = np.clip(np.broadcast_to(grey, (side, side, 1)) * tint, 0, 255).astype(np.uint8)
    return mark


def restyle(mark: np.ndarray, style: str, rng: np.random.Generator) -> np.ndarray:
    """The RGBA artwork in one of STYLES (a new array; `printed` is a copy)."""
    if style == "badge":
        return _badge(mark, rng)
    if style == "multicolour":
        return _multicolour(mark, rng)
    if style == "metallic":
        return _metallic(mark, rng)
    return mark.copy()


def _clutter(rng: np.random.Generator) -> np.ndarray:
    """A scene background: a surface with coloured panels, discs and bars over it (float32 BGR)."""
    scene = surface(SURFACES[rng.integers(len(SURFACES))], rng)
    for _ in range(int(rng.integers(3, 9))):
        colour = tuple(float(c) for c in rng.uniform(0, 255, 3))
        x, y = int(rng.uniform(0, WIDTH)), int(rng.uniform(0, HEIGHT))
        size = int(rng.uniform(0.05, 0.4) * WIDTH)
        shape = rng.integers(3)
        if shape == 0:
            cv2.rectangle(scene, (x, y), (x + size, y + int(size * rng.uniform(0.3, 1.5))), colour, -1)
        elif shape == 1:
            cv2.circle(scene, (x, y), size // 2, colour, -1, cv2.LINE_AA)
        else:
            cv2.line(
                scene,
                (x, y),
                (int(rng.uniform(0, WIDTH)), int(rng.uniform(0, HEIGHT))),
                colour,
                int(rng.integers(2, 14)),
                cv2.LINE_AA,
            )
    return scene


def scene_photo(mark: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, Box]:
    """(BGR scene WIDTH x HEIGHT, square box of the mark in it): the restyled mark photographed on goods,
    the goods shrunk to 35-80% of the frame in a cluttered scene, light and blur over the whole."""
    styled = restyle(mark, STYLES[rng.integers(len(STYLES))], rng)
    goods, (x0, y0, x1, y1) = photograph_with_extent(styled, rng, "genuine", rich=True)
    scale = rng.uniform(0.35, 0.8)
    width, height = int(WIDTH * scale), int(HEIGHT * scale)
    x, y = int(rng.uniform(0, WIDTH - width)), int(rng.uniform(0, HEIGHT - height))
    scene = _clutter(rng)
    scene[y : y + height, x : x + width] = cv2.resize(goods, (width, height), interpolation=cv2.INTER_AREA)
    scene = cv2.GaussianBlur(scene, (0, 0), rng.uniform(0.3, 1.0)) * rng.uniform(0.8, 1.1)
    scene = np.clip(scene + rng.normal(0, 2.5, scene.shape), 0, 255).astype(np.uint8)
    # The mark's extent in the scene, made square about its centre.
    side = max(x1 - x0, y1 - y0) * scale
    cx, cy = x + (x0 + x1) / 2 * scale, y + (y0 + y1) / 2 * scale
    return scene, Box(int(cx - side / 2), int(cy - side / 2), int(math.ceil(side)), int(math.ceil(side)))


def window_around(box: Box, rng: np.random.Generator) -> Box:
    """A square window holding the boxed mark at 45-100% of its side, the mark off-centre inside it."""
    side = box.w / rng.uniform(0.45, 1.0)
    slack = max(0.0, side - box.w)
    x = box.x - rng.uniform(0, slack) if slack else box.x
    y = box.y - rng.uniform(0, slack) if slack else box.y
    return Box(int(round(x)), int(round(y)), int(math.ceil(side)), int(math.ceil(side)))
