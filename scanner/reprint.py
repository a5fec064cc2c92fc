"""A mark printed light inside a field of colour, redrawn dark on light so that the embedder can name it.

Goods often carry a brand's mark reversed out of a field: a white mark on a square of the brand's colour, or on a
black label. The locator frames the field, the most salient thing in view, and the embedder, which learned
marks drawn in ink on a ground, sees a coloured square. On the calibration split's colourway photos
(`tools/make_heldout_set.py --colourways`) 44% of the genuine reversed prints were called `unknown`.

`reprint_in_field` finds the field (the located object, its holes filled), reads the field's colour just inside
its edge, and takes as the mark whatever inside stands off that colour. The mark is drawn dark on white, the
field's edge left out, and framed as an enrolled reference is framed (scanner/enroll.py `frame_reference`).
The pipeline names a frame from this copy only as a last resort, and only when the copy's nearest brand's
reference lines up with it in edges as closely as naming by outline asks (Pipeline._reprinted): an
unrelated mark comes nearest some brand by chance, but does not line up with it. A mark with holes, printed
on the goods, reads as a field too (its holes become the "mark"); that gate is what rules such copies out.
"""

from __future__ import annotations

import cv2
import numpy as np

from .config import LocateConfig
from .locate import CROP_SIZE, blurred_lab, colour_distance, crop, distance_threshold, foreground_mask, locate

MIN_FIELD = 0.15  # share of the crop the field must cover: less is a mark on the goods, not a field
MARK_SHARE = (0.03, 0.75)  # share of the field's inside the mark takes: outside it, no mark stands off a field
EDGE = 40  # the field's edge band is the crop's side over this (about 5 px at 224): left out, and where the
# field's own colour is read


def reprint_in_field(image: np.ndarray, config: LocateConfig) -> np.ndarray | None:
    """The BGR crop's mark redrawn dark on white and framed as a reference is (CROP_SIZE square), when the crop
    holds a field of one colour with a mark inside it; None when it does not."""
    field = _field(image)
    if field is None:
        return None
    band = max(3, image.shape[0] // EDGE)
    kernel = np.ones((band, band), np.uint8)
    eroded = cv2.erode(field, kernel)
    inside = eroded > 0
    edge = inside & (cv2.erode(eroded, kernel) == 0)
    if not edge.any():
        return None
    lab = blurred_lab(image)
    distance = colour_distance(lab, np.median(lab[edge], axis=0))
    # The mark stands off the field as locate's foreground stands off a crop's border.
    mark = inside & (distance > distance_threshold(distance[inside], distance[edge]))
    share = mark.sum() / max(1, np.count_nonzero(inside))
    if not MARK_SHARE[0] < share < MARK_SHARE[1]:
        return None
    # Dark in proportion to how far a pixel stands off the field, so anti-aliased edges stay soft.
    ink = np.clip(distance / max(float(np.median(distance[mark])), 1e-6), 0, 1)
    grey = np.where(inside, 255 * (1 - ink), 255).astype(np.uint8)
    redrawn = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    return crop(redrawn, locate(redrawn, config).box, CROP_SIZE)


def _field(image: np.ndarray) -> np.ndarray | None:
    """0/255 mask of the largest object unlike the crop's border, its holes filled; None when it covers less
    than MIN_FIELD of the crop."""
    objects = foreground_mask(image)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(objects)
    if count < 2:
        return None
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    field = _filled(((labels == largest) * 255).astype(np.uint8))
    return field if np.count_nonzero(field) >= MIN_FIELD * field.size else None


def _filled(mask: np.ndarray) -> np.ndarray:
    """The 0/255 mask with its holes filled: whatever the outside, flooded from a corner, does not reach."""
    outside = np.pad(mask, 1)
    cv2.floodFill(outside, None, (0, 0), 255)
    return mask | cv2.bitwise_not(outside)[1:-1, 1:-1]
