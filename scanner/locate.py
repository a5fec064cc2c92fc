"""Locate the logo in a frame (v0: background subtraction against the frame's own border).

v0 assumes what a handheld scan looks like: the operator frames one logo, roughly centred, on a surface
that also fills the frame's edges. The surface colour is estimated from a strip along the border; pixels
that differ from it (in Lab, after a blur that flattens fabric and paper texture) are the mark. The box is
their robust extent, padded and made square for the embedder. When nothing stands out, or everything
does, the centre square is used and `found` is False.

Whole scenes (a logo on a car, a sign, a shelf) break that assumption: the border is not the goods. For
them `search_windows` lists other places the logo may be: each distinct blob of the foreground and a
grid of square windows at three sizes. The pipeline embeds those only when the located box matches no
enrolled brand (pipeline.Pipeline, scene search), so a framed logo costs nothing more.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

from .config import LocateConfig

ANALYSIS_SIDE = 320
CROP_SIZE = 224  # side of the square logo crop handed to the embedder and verifier (and kept as a reference)
BORDER = 0.06  # fraction of each side sampled as background
NOISE_MARGIN = 8.0  # Lab units over the background's own spread before a pixel stands off it
# Scene-search windows: sides as fractions of the frame's shorter side, each grid overlapping by half.
# Smaller windows (0.4, 0.3) found no more logos on the calibration split or the FlickrLogos photos and
# double the count (about 27 windows per 4:3 frame with these three, 31 with the blobs).
SEARCH_SCALES = (1.0, 0.75, 0.55)
SEARCH_BLOBS = 6  # at most this many foreground blobs, largest first


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int

    def as_list(self) -> list[int]:
        return [self.x, self.y, self.w, self.h]


@dataclass
class Location:
    box: Box  # square, in frame pixels; may extend past the frame (crop pads by replicating the edge)
    size: float  # the located extent's longer side / the frame's shorter side (0 when nothing was found)
    found: bool
    # The foreground mask it was found on (ANALYSIS_SIDE scale) and that scale: scene search reuses them.
    mask: np.ndarray | None = None
    scale: float = 1.0


def colour_distance(lab: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Euclidean Lab distance of every pixel to `colour`; the channels summed by hand, three times faster
    than np.linalg.norm over a last axis of three (same values)."""
    squared = np.square(lab - colour)
    return np.sqrt(squared[..., 0] + squared[..., 1] + squared[..., 2])


def edge_band(image: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """The pixels of the image's edge band (`rows` at top and bottom, `columns` at left and right; the corners
    twice), one per row of the result: what surrounds whatever is in the middle of the frame."""
    channels = image.shape[2:]
    parts = [image[:rows], image[-rows:], image[:, :columns], image[:, -columns:]]
    return np.concatenate([part.reshape(-1, *channels) for part in parts])


def foreground_mask(image: np.ndarray, split: float = 1.0) -> np.ndarray:
    """uint8 mask (0/255) of pixels unlike the border colour, at the image's own size.

    `split` scales Otsu's threshold on the colour distance: below 1 keeps thin strokes and anti-aliased
    tips (finding the whole extent), 1 gives the crisp silhouette (comparing shapes).
    """
    return lab_foreground_mask(blurred_lab(image), split)


def lab_foreground_mask(lab: np.ndarray, split: float = 1.0) -> np.ndarray:
    """foreground_mask of an image already in blurred Lab (blurred_lab)."""
    border = border_band(lab)
    background = np.median(border, axis=0)
    distance = colour_distance(lab, background)
    threshold = distance_threshold(distance, colour_distance(border, background), split)
    mask = (distance > threshold).astype(np.uint8) * 255
    return cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))


def border_band(image: np.ndarray) -> np.ndarray:
    """The pixels of the image's border band (BORDER of each side), one per row: the surface a mark is told from."""
    height, width = image.shape[:2]
    return edge_band(image, max(1, int(height * BORDER)), max(1, int(width * BORDER)))


def blurred_lab(image: np.ndarray) -> np.ndarray:
    """The BGR image, lightly blurred against sensor noise, in float32 Lab: what colours are told apart in."""
    return cv2.cvtColor(cv2.GaussianBlur(image, (5, 5), 0), cv2.COLOR_BGR2LAB).astype(np.float32)


def distance_threshold(distance: np.ndarray, background: np.ndarray, split: float = 1.0) -> float:
    """Colour distance past which a pixel stands off its background: Otsu's split of `distance` (scaled by
    `split`), and never under the 95th percentile of the background's own distances (its noise) plus
    NOISE_MARGIN."""
    floor = float(np.percentile(background, 95)) + NOISE_MARGIN
    top = float(distance.max())
    scaled = np.clip(distance * (255.0 / max(top, 1e-6)), 0, 255).astype(np.uint8)
    otsu, _ = cv2.threshold(scaled.reshape(-1, 1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return max(floor, split * otsu * top / 255.0)


def _square_around(x0: float, y0: float, x1: float, y1: float, padding: float) -> Box:
    """The square box centred on the extent (x0, y0)-(x1, y1), its side the longer extent plus `padding` a side."""
    side = max(x1 - x0, y1 - y0) * (1 + 2 * padding)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return Box(int(round(cx - side / 2)), int(round(cy - side / 2)), int(round(side)), int(round(side)))


def locate(frame: np.ndarray, config: LocateConfig) -> Location:
    height, width = frame.shape[:2]
    scale = ANALYSIS_SIDE / max(height, width)
    small = cv2.resize(
        frame, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA
    )
    mask = foreground_mask(small, split=0.5)  # generous: the box must hold thin tips too
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    fraction = float(areas.sum() / mask.size) if count > 1 else 0.0
    if count <= 1 or areas.max() < 12 or fraction > 0.85:
        side = min(height, width)
        return Location(Box((width - side) // 2, (height - side) // 2, side, side), 0.0, False, mask, scale)
    # The mark: every component at least 2% the size of the largest (drops specks of texture and noise),
    # so thin tips and separate letters stay inside the box.
    keep = stats[1:][areas >= 0.02 * areas.max()]
    x0, y0 = keep[:, cv2.CC_STAT_LEFT].min() / scale, keep[:, cv2.CC_STAT_TOP].min() / scale
    x1 = (keep[:, cv2.CC_STAT_LEFT] + keep[:, cv2.CC_STAT_WIDTH]).max() / scale
    y1 = (keep[:, cv2.CC_STAT_TOP] + keep[:, cv2.CC_STAT_HEIGHT]).max() / scale
    size = max(x1 - x0, y1 - y0) / min(width, height)
    return Location(_square_around(x0, y0, x1, y1, config.padding), float(size), True, mask, scale)


def search_windows(frame: np.ndarray, config: LocateConfig, location: Location | None = None) -> list[Box]:
    """Square boxes where a logo may be in a whole scene: the largest foreground blobs (nearby strokes and
    letters merged), then a half-overlapping grid at each of SEARCH_SCALES. Boxes may extend past the frame.
    `location`, this frame's own, saves finding the foreground again."""
    height, width = frame.shape[:2]
    if location is None or location.mask is None:
        location = locate(frame, config)
    assert location.mask is not None
    mask = cv2.dilate(location.mask, np.ones((7, 7), np.uint8))  # letters into words
    scale = location.scale
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    windows = []
    for i in np.argsort(-stats[1:, cv2.CC_STAT_AREA])[:SEARCH_BLOBS] + 1:
        x, y, w, h, area = stats[i]
        if area >= 0.003 * mask.size:  # specks of texture are not logos
            windows.append(_square_around(x / scale, y / scale, (x + w) / scale, (y + h) / scale, config.padding))
    short = min(height, width)
    for fraction in SEARCH_SCALES:
        side = max(1, int(short * fraction))
        for y in _grid_starts(height, side):
            windows.extend(Box(x, y, side, side) for x in _grid_starts(width, side))
    return windows


def _grid_starts(length: int, side: int) -> list[int]:
    """Window starts along one axis: every half window, the last one flush with the far edge."""
    starts = list(range(0, max(1, length - side + 1), max(1, side // 2)))
    if starts[-1] != max(0, length - side):
        starts.append(max(0, length - side))
    return starts


def crop(frame: np.ndarray, box: Box, size: int | None = None, border: int = cv2.BORDER_REPLICATE) -> np.ndarray:
    """The box's pixels, replicating the frame's edge where the box extends past it (or filling with 0 for
    `border` cv2.BORDER_CONSTANT); resized to size x size."""
    height, width = frame.shape[:2]
    pad = max(0, -box.x, -box.y, box.x + box.w - width, box.y + box.h - height)
    if pad:
        frame = cv2.copyMakeBorder(frame, pad, pad, pad, pad, border, value=0)
    x, y = box.x + pad, box.y + pad
    patch = frame[y : y + box.h, x : x + box.w]
    if size is not None and patch.shape[:2] != (size, size):
        interpolation = cv2.INTER_AREA if patch.shape[0] > size else cv2.INTER_LINEAR
        patch = cv2.resize(patch, (size, size), interpolation=interpolation)
    return patch


@functools.cache
def disc(radius: int) -> np.ndarray:
    """A filled disc of `radius` pixels around its centre, for growing and shrinking masks."""
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def dilated(mask: np.ndarray, tolerance: int) -> np.ndarray:
    """Where `mask` has a pixel within `tolerance` (a disc)."""
    return cv2.dilate(mask, disc(tolerance)) > 0
