"""Bring a query crop onto its brand's reference: the alignment every verification, outline naming and tie
reads (scanner/verify.py judges what it returns).

1. segment the mark in the query crop (pixels unlike the crop's border) and take the reference's mask from
   its artwork alpha;
2. align the query mask to the reference with a similarity transform: ORB matches and RANSAC when they agree,
   else centroids, scale from the area ratio, and the rotation (within +-24 degrees) that overlaps best.
   Uniform scale on purpose: a stretched logo must not be "aligned away";
3. with `refined`, fit a homography from there (scanner/refine.py: ECC on gradient magnitude, anisotropy held
   to a 25-degree tilt's), which is what the pair verifier sees.

The scanner aligns in the frame, not only in the located crop (`align_in_frame`): when the crop framed the
mark badly (the mark a corner of it, under a cast shadow the locator took for part of it; or the alignment
failing outright), the mark is cropped again from the frame where the alignment, or the mark's sharpest
edges, put it, and the better-aligned of the two crops is verified. On the held-out test split's verified
genuine photos that took the misaligned ones (edges correlating under 0.3) from 14 of 295 to 3.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

import cv2
import numpy as np

from .colour import NO_INKS, InkLayout, ink_layout
from .colourway import ColourwayLayout, colourway_layout
from .index import ReferenceImage
from .locate import CROP_SIZE, Box, crop, dilated, foreground_mask
from .mirror import MIRROR_SIDE, PartBoxes, part_boxes
from .refine import (
    Levels,
    anisotropy,
    edge_correlation,
    edge_moment_starts,
    gradient_levels,
    homogeneous,
    mark_moments,
    refine,
)
from .stroke import STROKE_SIDE, EdgeLayout, edge_layout

T = TypeVar("T")
ANGLES = range(-24, 25, 4)
MIN_INLIERS = 8  # ORB matches agreeing on one transform before it is trusted
TOLERANCE = 0.025  # misplacement forgiven by the overlap, as a fraction of the compared size
RULES_SIZE = 128  # side the v0 rules compare at, and the side verifiers v1-v3 take
# A crop is framed again from the frame (reframed_box) when the mark is this much smaller in it than in the
# reference's crop (the aligned query then upsampled by as much), or when its aligned edges correlate this
# poorly with the reference's (genuine median 0.97): 18% of the held-out test split's verified photos.
REFRAME_SCALE = 1.4
REFRAME_FIT = 0.5
MIN_REFRAMED_SIDE = 16  # frame pixels: a smaller box is a degenerate fit, not a mark


def _centroid_area(mask: np.ndarray) -> tuple[float, float, float]:
    moments = cv2.moments(mask, binaryImage=True)
    area = moments["m00"]
    if area == 0:
        return mask.shape[1] / 2, mask.shape[0] / 2, 0.0
    return moments["m10"] / area, moments["m01"] / area, area


def tolerant_overlap(
    query: np.ndarray, reference: np.ndarray, tolerance: int, reference_near: np.ndarray | None = None
) -> tuple[float, float]:
    """(recall, precision) of mark pixels allowing `tolerance` pixels of misplacement.

    recall: share of the reference's mark that has query mark nearby (low when an element is missing);
    precision: share of the query's mark that has reference mark nearby (low when something was added or
    moved). Plain IoU punishes thin strokes for a one-pixel shift; this does not. `reference_near` is the
    reference dilated by the tolerance, for callers comparing many candidates against one reference.
    """
    q_on, r_on = query > 0, reference > 0
    q_near = dilated(query, tolerance)
    r_near = reference_near if reference_near is not None else dilated(reference, tolerance)
    recall = float((r_on & q_near).sum() / max(1, r_on.sum()))
    precision = float((q_on & r_near).sum() / max(1, q_on.sum()))
    return recall, precision


ORB = cv2.ORB.create(nfeatures=400, edgeThreshold=15, patchSize=15, fastThreshold=12)


def orb_features(grey: np.ndarray) -> tuple:
    return ORB.detectAndCompute(grey, None)


def _feature_transform(query: np.ndarray, reference_features: tuple) -> np.ndarray | None:
    """Similarity transform query -> reference from ORB matches and RANSAC, or None when unreliable.

    Local features survive a missing or added element, which moves the mark's centroid and area and so
    fools the moment-based alignment.
    """
    matrix, inliers = _ransac_matches(query, reference_features)
    if matrix is None or inliers < MIN_INLIERS:
        return None
    scale = math.hypot(matrix[0, 0], matrix[1, 0])
    angle = math.degrees(math.atan2(matrix[1, 0], matrix[0, 0]))
    if not 0.6 < scale < 1.6 or abs(angle) > 30:
        return None
    return matrix


def _ransac_matches(query: np.ndarray, reference_features: tuple) -> tuple[np.ndarray | None, int]:
    """(similarity transform query -> reference or None, how many ORB matches agree with it)."""
    kq, dq = orb_features(query)
    kr, dr = reference_features
    if dq is None or dr is None or len(kq) < 3 or len(kr) < 3:
        return None, 0
    matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(dq, dr)
    if len(matches) < 3:
        return None, 0
    src = np.array([kq[m.queryIdx].pt for m in matches], dtype=np.float32)
    dst = np.array([kr[m.trainIdx].pt for m in matches], dtype=np.float32)
    matrix, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=3.0)
    return (None, 0) if matrix is None else (matrix, int(inliers.sum()))


def shape_inliers(query_crop: np.ndarray, reference: ReferenceImage) -> int:
    """How many local features of the crop match the reference's and agree on one placement (ORB, RANSAC).

    Evidence of the brand that does not go through the embedder: an altered or oddly lit mark can look far
    from its artwork as a whole and still share dozens of corners with it in the same arrangement, while an
    unrelated mark shares a handful by chance.
    """
    features = _reference_features(reference, query_crop.shape[0])
    return _ransac_matches(cv2.cvtColor(query_crop, cv2.COLOR_BGR2GRAY), features)[1]


def _moment_transforms(query: np.ndarray, reference: np.ndarray) -> list[np.ndarray]:
    """Candidate similarity transforms from centroids and area ratio, one per rotation in ANGLES."""
    qx, qy, qa = _centroid_area(query)
    rx, ry, ra = _centroid_area(reference)
    if qa == 0 or ra == 0:
        return []
    scale = math.sqrt(ra / qa)
    transforms = []
    for angle in ANGLES:
        matrix = cv2.getRotationMatrix2D((qx, qy), angle, scale)
        matrix[:, 2] += (rx - qx, ry - qy)
        transforms.append(matrix)
    return transforms


def align_mask(
    query: np.ndarray,
    reference: np.ndarray,
    tolerance: int,
    feature_matrix: np.ndarray | None = None,
    reference_near: np.ndarray | None = None,
) -> tuple[np.ndarray, float, np.ndarray]:
    """Query mask warped onto the reference; returns (warped, overlap, matrix) for the best candidate transform.

    Candidates: the feature-based transform when there is one, and the moment-based ones. The best is the
    one under which most of both marks agree (recall + precision); the reported overlap is the smaller of
    the two, so a missing part cannot hide behind a perfect match of what remains.
    """
    candidates = ([feature_matrix] if feature_matrix is not None else []) + _moment_transforms(query, reference)
    best, best_fit, best_overlap = np.zeros_like(reference), -1.0, 0.0
    best_matrix = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    if reference_near is None:
        reference_near = dilated(reference, tolerance)
    for matrix in candidates:
        warped = cv2.warpAffine(query, matrix, reference.shape[::-1], flags=cv2.INTER_NEAREST)
        recall, precision = tolerant_overlap(warped, reference, tolerance, reference_near)
        if recall + precision > best_fit:
            best, best_fit, best_overlap = warped, recall + precision, min(recall, precision)
            best_matrix = matrix
    return best, best_overlap, best_matrix


def _reference_features(reference: ReferenceImage, side: int) -> tuple:
    """ORB features of the reference crop at side x side, computed once per reference and side."""

    def compute() -> tuple:
        ref_crop = reference.crop
        if ref_crop.shape[0] != side:
            ref_crop = cv2.resize(ref_crop, (side, side), interpolation=cv2.INTER_AREA)
        return orb_features(cv2.cvtColor(ref_crop, cv2.COLOR_BGR2GRAY))

    return reference.derive(("orb", side), compute)


def _features_at(query_crop: np.ndarray, reference: ReferenceImage, size: int) -> np.ndarray | None:
    """Feature transform found at the crops' full resolution (more keypoints), rescaled to size x size."""
    side = query_crop.shape[0]
    matrix = _feature_transform(cv2.cvtColor(query_crop, cv2.COLOR_BGR2GRAY), _reference_features(reference, side))
    if matrix is not None:
        matrix[:, 2] *= size / side
    return matrix


@dataclass
class Alignment:
    """The query brought onto the reference's frame, at size x size."""

    query: np.ndarray  # BGR query crop, resized (not warped)
    query_mask: np.ndarray  # its mark mask
    aligned: np.ndarray  # BGR query warped onto the reference (what the pair model and the evidence show)
    warped: np.ndarray  # query mask warped onto the reference by the similarity transform (the rules' view)
    reference: np.ndarray  # BGR reference
    ref_mask: np.ndarray
    overlap: float
    matrix: np.ndarray  # 2x3 similarity transform query -> reference
    homography: np.ndarray | None  # 3x3 refinement query -> reference (scanner/refine.py), when used
    fit: float  # how well `aligned`'s edges lie on the reference's (refine.edge_correlation)
    source: ReferenceImage | None = None  # what `reference` was cut from (None: an alignment built by hand)
    fitted: np.ndarray | None = None  # the refinement before its anisotropy was limited (refine.Fit)
    frame: np.ndarray | None = None  # the frame the query was cropped from (align_in_frame), for `view`
    frame_to_query: np.ndarray | None = None  # 3x3 map from that frame's pixels to `query`'s
    # Views already warped, by side: the stroke check and the mirror words both read the one at 256.
    _views: dict[int, np.ndarray] = field(default_factory=dict, init=False, repr=False, compare=False)

    def view(self, side: int) -> np.ndarray:
        """The query warped onto the reference at side x side: from the frame's own pixels when the alignment
        was made in one (a finer view than `aligned` resized), else `aligned` resized. Warped once per side."""
        if side not in self._views:
            self._views[side] = self._warped_view(side)
        return self._views[side]

    def _warped_view(self, side: int) -> np.ndarray:
        if self.frame is None or self.frame_to_query is None:
            return cv2.resize(self.aligned, (side, side), interpolation=cv2.INTER_LINEAR)
        scale = side / self.aligned.shape[0]
        to_view = np.diag([scale, scale, 1.0]) @ self.transform @ self.frame_to_query
        return cv2.warpPerspective(
            self.frame, to_view, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )

    def _from_artwork(self, name: str, side: int, make: Callable[[np.ndarray, np.ndarray], T]) -> T | None:
        """`make` of the artwork reference's image and mask at side x side, worked out once per reference;
        None for a photo reference (or an alignment built by hand), whose pixels carry its own blur and print."""
        if self.source is None or self.source.mask is None:
            return None
        image, mask = self.source.crop, self.source.mask
        return self.source.derive((name, side), lambda: make(*artwork_at(image, mask, side)))

    @property
    def edges(self) -> EdgeLayout | None:
        """The reference's stroke.edge_layout at STROKE_SIDE."""
        return self._from_artwork("edges", STROKE_SIDE, edge_layout)

    @property
    def parts(self) -> PartBoxes | None:
        """The reference's mirror.part_boxes at MIRROR_SIDE."""
        return self._from_artwork("parts", MIRROR_SIDE, part_boxes)

    def _of_reference(self, name: str, make: Callable[[np.ndarray, np.ndarray], T], photo: T) -> T:
        """`make` of the reference's image and mask as aligned here, worked out once per reference and side and
        only for an alignment that is judged (naming by outline aligns many windows it never judges); `photo`
        for a photo reference, whose colours carry its own light and print, not the artwork's inks."""
        if self.source is None:
            return make(self.reference, self.ref_mask)
        if not self.source.artwork:
            return photo
        side = self.reference.shape[0]
        return self.source.derive((name, side), lambda: make(self.reference, self.ref_mask))

    @property
    def inks(self) -> InkLayout:
        """The reference's ink_layout for colour_deviation (none for a photo reference)."""
        return self._of_reference("inks", ink_layout, NO_INKS)

    @property
    def colourway_layout(self) -> ColourwayLayout | None:
        """The reference's colourway.colourway_layout: None for a photo reference, or one with too little mark or
        background to read a colourway by."""
        return self._of_reference("colourway", colourway_layout, None)

    @property
    def transform(self) -> np.ndarray:
        """3x3 map query -> reference that `aligned` was warped by."""
        return self.homography if self.homography is not None else homogeneous(self.matrix)


def artwork_at(image: np.ndarray, mask: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray]:
    """(image, mark mask) of an artwork reference's crop and alpha mask at side x side."""
    resized = cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA)
    return resized, (cv2.resize(mask, (side, side), interpolation=cv2.INTER_AREA) > 127).astype(np.uint8) * 255


def _reference_at(reference: ReferenceImage, size: int, tolerance: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image, mark mask, mask dilated by the tolerance) of the reference at size x size."""
    if reference.mask is not None:
        ref_image, ref_mask = artwork_at(reference.crop, reference.mask, size)
    else:
        ref_image = cv2.resize(reference.crop, (size, size), interpolation=cv2.INTER_AREA)
        ref_mask = foreground_mask(ref_image)
    return ref_image, ref_mask, dilated(ref_mask, tolerance)


def tolerance_pixels(size: int) -> int:
    """TOLERANCE in pixels at `size`, at least one."""
    return max(1, round(TOLERANCE * size))


def _reference_at_size(reference: ReferenceImage, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """_reference_at for `reference`, kept per reference and side."""
    return reference.derive(("at", size), lambda: _reference_at(reference, size, tolerance_pixels(size)))


def align(
    query_crop: np.ndarray, reference: ReferenceImage, size: int = RULES_SIZE, refined: bool = False
) -> Alignment:
    """The query brought onto the reference: a similarity transform from silhouettes and ORB matches, and with
    `refined` the homography scanner/refine.py fits from there when it finds a plausible one."""
    tolerance = tolerance_pixels(size)
    ref_image, ref_mask, ref_near = _reference_at_size(reference, size)
    query = cv2.resize(query_crop, (size, size), interpolation=cv2.INTER_AREA)
    query_mask = foreground_mask(query)
    features = _features_at(query_crop, reference, size)
    warped, overlap, matrix = align_mask(query_mask, ref_mask, tolerance, features, ref_near)
    found = refine(query, _reference_gradients(reference, size, ref_image), matrix) if refined else None
    homography = None if found is None else found.homography
    if homography is None:
        aligned = cv2.warpAffine(query, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    else:
        # Only the pair model's input is refined: the rules keep the similarity alignment, under which a
        # stretch is measured whole (the refinement undoes up to a tilt's worth of it) for the words.
        aligned = cv2.warpPerspective(
            query, homography, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
    fit = edge_correlation(aligned, _reference_gradients(reference, size, ref_image).full)
    return Alignment(
        query,
        query_mask,
        aligned,
        warped,
        ref_image,
        ref_mask,
        overlap,
        matrix,
        homography,
        fit,
        source=reference,
        fitted=None if found is None else found.fitted,
    )


def align_in_frame(
    frame: np.ndarray,
    box: Box,
    reference: ReferenceImage,
    size: int = RULES_SIZE,
    refined: bool = False,
    query_crop: np.ndarray | None = None,
) -> tuple[Alignment, Box]:
    """The mark in the frame's `box` aligned to the reference (`query_crop`: that box's crop, when already
    made), and the box it was aligned in: framed again from the frame (reframed_box) when the box framed the
    mark badly and the new crop lines up better."""
    if query_crop is None:
        query_crop = crop(frame, box, CROP_SIZE)
    first = _in_frame(align(query_crop, reference, size, refined), frame, box)
    better = reframed_box(first, box, reference, size)
    if better is None:
        return first, box
    second = _in_frame(align(crop(frame, better, CROP_SIZE), reference, size, refined), frame, better)
    return (second, better) if second.fit > first.fit else (first, box)


def _in_frame(a: Alignment, frame: np.ndarray, box: Box) -> Alignment:
    """`a`, which aligned the crop of the frame's `box`, with the frame kept for Alignment.view."""
    side = a.query.shape[0]
    to_frame = np.array([[box.w / side, 0, box.x], [0, box.h / side, box.y], [0, 0, 1.0]])
    return replace(a, frame=frame, frame_to_query=np.linalg.inv(to_frame))


def _reference_gradients(reference: ReferenceImage, size: int, ref_image: np.ndarray) -> Levels:
    """The reference's gradient_levels at `size` (`ref_image`: the reference at that size), kept per reference."""
    return reference.derive(("gradient", size), lambda: gradient_levels(ref_image))


def alignment_correlation(query_crop: np.ndarray, reference: ReferenceImage, size: int = RULES_SIZE) -> float:
    """How well the query's edges line up with the reference's once aligned (refined homography where one
    fits): the correlation of their gradient images, 1 for the same outline."""
    return align(query_crop, reference, size, refined=True).fit


def reframed_box(a: Alignment, box: Box, reference: ReferenceImage, size: int) -> Box | None:
    """Where in the frame the reference's crop lies, when the frame's `box` (which `a` aligned at `size`)
    framed the mark badly; None when it framed it well.

    Two framings fail. A located box much larger than the mark (a cast shadow taken for part of it, a
    scene-search window around it) leaves the mark a few dozen pixels wide at `size`, upsampled and soft
    once aligned: read from the alignment's own scale (over REFRAME_SCALE). And the alignment itself can
    fail (edges correlating under REFRAME_FIT): then the query's mark laid over the reference's
    (refine.edge_moment_starts, the alignment's own fallback start) says where it is. The box is the
    square around the reference crop's corners mapped back into the frame.
    """
    transform = a.transform
    if a.fit < REFRAME_FIT:
        starts = edge_moment_starts(_reference_gradients(reference, size, a.reference).marks, mark_moments(a.query))
        if not starts:
            return None
        transform = starts[0]
    elif anisotropy(transform, (size / 2, size / 2))[1] < REFRAME_SCALE:
        return None
    to_query = cv2.invert(transform)[1]
    square = np.array([[[0, 0], [size, 0], [size, size], [0, size]]], np.float32)
    corners = cv2.perspectiveTransform(square, to_query)[0] * (box.w / size) + (box.x, box.y)
    (x0, y0), (x1, y1) = corners.min(0), corners.max(0)
    side = max(x1 - x0, y1 - y0)
    if side < MIN_REFRAMED_SIDE:
        return None
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return Box(round(cx - side / 2), round(cy - side / 2), round(side), round(side))
