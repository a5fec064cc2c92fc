"""A mark printed light inside a field of colour, redrawn dark on light so that the embedder can name it.

Goods often carry a brand's mark reversed out of a field: a white mark on a square of the brand's colour, or on a
black label. The locator frames the field, the most salient thing in view, and the embedder, which learned
marks drawn in ink on a ground, sees a coloured square. On the calibration split's colourway photos
(`tools/make_heldout_set.py --colourways`) 44% of the genuine reversed prints were called `unknown`.

`read_field` finds the field (the located object, its holes filled), reads the field's colour just inside
its edge, and takes as the mark whatever inside stands off that colour. The mark is drawn dark on white, the
field's edge left out, and framed by the enrolment's own `enroll.frame_reference`.
The pipeline names a frame from this copy only as a last resort, or renames a frame similarity named after
another brand's label, and only when the copy's nearest brand's reference lines up with it in edges as closely
as naming by outline asks (naming.Namer._copy_named): an unrelated mark comes nearest some brand by chance, but does
not line up with it. A mark with holes, printed on the goods, reads as a field too (its holes become the
"mark"); that gate is what rules such copies out.

The verifier judges the print as photographed, but the field's edge, which the artwork lacks, pulls its
alignment off the mark ("about 30% narrower than reference"). `FieldReading.edge_erased` paints everything
outside the field's inside in the field's colour, so the mark is aligned alone (Pipeline._verify). Only for a
mark reversed out (`reversed_out`): light ink of its own, not holes showing the goods' surface, where erasing
the field would erase the mark's own outline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .config import LocateConfig
from .enroll import frame_reference
from .locate import Box, blurred_lab, border_band, colour_distance, distance_threshold, lab_foreground_mask

MIN_FIELD = 0.15  # share of the crop the field must cover: less is a mark on the goods, not a field
MARK_SHARE = (0.03, 0.75)  # share of the field's inside the mark takes: outside it, no mark stands off a field
EDGE = 40  # the field's edge band is the crop's side over this (about 5 px at 224): left out, and where the
# field's own colour is read
# Lab distance (OpenCV's 8-bit scale) between a light mark and the goods' surface under which the "mark" is the
# surface showing through holes in a dark mark. On the colourway splits a genuine dark print of a mark with holes
# reached 17; most reversed marks lie past 25, and those under the margin are verified as photographed.
SURFACE_MARGIN = 20.0


@dataclass(frozen=True)
class FieldReading:
    """A crop read as a field of one colour with a mark inside it (read_field)."""

    image: np.ndarray  # the BGR crop
    inside: np.ndarray  # bool: the field less its edge band
    mark: np.ndarray  # bool: what inside stands off the field's colour
    distance: np.ndarray  # each pixel's Lab distance from the field's colour
    lab: np.ndarray  # the crop in blurred Lab (locate.blurred_lab)
    field_lab: np.ndarray  # the field's colour, read in its edge band
    # The copies drawn, by locate settings: naming reads the copy, and the verification of a reversed print the
    # same copy again.
    _redrawn: dict[LocateConfig, np.ndarray] = field(default_factory=dict, init=False, repr=False, compare=False)

    def redrawn(self, config: LocateConfig) -> np.ndarray:
        """The mark dark on white, the field's edge left out, framed as a reference is (enroll.frame_reference).
        Drawn once per reading."""
        if config not in self._redrawn:
            self._redrawn[config] = self._draw(config)
        return self._redrawn[config]

    def _draw(self, config: LocateConfig) -> np.ndarray:
        # Dark in proportion to how far a pixel stands off the field, so anti-aliased edges stay soft.
        ink = np.clip(self.distance / max(float(np.median(self.distance[self.mark])), 1e-6), 0, 1)
        grey = np.where(self.inside, 255 * (1 - ink), 255).astype(np.uint8)
        reference_crop, _, _ = frame_reference(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), config)
        return reference_crop

    @property
    def reversed_out(self) -> bool:
        """Whether the mark is light ink reversed out of the field: lighter than the field, and not the goods'
        surface (read at the crop's border, as locate reads it) showing through holes in a dark mark."""
        mark_lab = np.median(self.lab[self.mark], axis=0)
        if mark_lab[0] <= self.field_lab[0]:
            return False
        surface = np.median(border_band(self.lab), axis=0)
        return float(np.linalg.norm(mark_lab - surface)) > SURFACE_MARGIN

    def edge_erased(self, frame: np.ndarray, box: Box) -> np.ndarray:
        """A copy of the frame the crop was cut from (at `box`) with everything outside the field's inside
        painted in the field's colour: the mark alone on its ground, with no field edge to align to."""
        height, width = frame.shape[:2]
        inside = cv2.resize(self.inside.astype(np.uint8), (box.w, box.h), interpolation=cv2.INTER_NEAREST)
        keep = np.zeros((height, width), bool)
        x0, y0, x1, y1 = max(0, box.x), max(0, box.y), min(width, box.x + box.w), min(height, box.y + box.h)
        keep[y0:y1, x0:x1] = inside[y0 - box.y : y1 - box.y, x0 - box.x : x1 - box.x] > 0
        field_bgr = np.median(self.image[self.inside & ~self.mark], axis=0)
        erased = frame.copy()
        erased[~keep] = field_bgr.astype(np.uint8)
        return erased


def read_field(image: np.ndarray) -> FieldReading | None:
    """The BGR crop read as a field of one colour with a mark inside it; None when it holds none."""
    lab = blurred_lab(image)
    field_mask = _field(lab)
    if field_mask is None:
        return None
    band = max(3, image.shape[0] // EDGE)
    kernel = np.ones((band, band), np.uint8)
    eroded = cv2.erode(field_mask, kernel)
    inside = eroded > 0
    edge = inside & (cv2.erode(eroded, kernel) == 0)
    if not edge.any():
        return None
    field_lab = np.median(lab[edge], axis=0)
    distance = colour_distance(lab, field_lab)
    # The mark stands off the field as locate's foreground stands off a crop's border.
    mark = inside & (distance > distance_threshold(distance[inside], distance[edge]))
    share = mark.sum() / max(1, np.count_nonzero(inside))
    if not MARK_SHARE[0] < share < MARK_SHARE[1]:
        return None
    return FieldReading(image, inside, mark, distance, lab, field_lab)


def _field(lab: np.ndarray) -> np.ndarray | None:
    """0/255 mask of the largest object unlike the crop's border (the crop in blurred Lab), its holes filled;
    None when it covers less than MIN_FIELD of the crop."""
    objects = lab_foreground_mask(lab)
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
