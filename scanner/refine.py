"""Refine the similarity alignment to the homography a tilted photo needs, without aligning a stretch away.

The similarity transform (scanner/align.py `align`) cannot follow perspective, and its scale comes from
mask areas and ORB matches that print styles disturb: on generated genuine photos with a known ground truth
it leaves the mark (its 90th-percentile pixel) more than 3.9 px (at 128 px) from where it belongs in half
the photos, and more than 7.8 px in a quarter; refined, 0.33 px in half (tools/alignment_error.py). A
verifier trained on such pairs must forgive exactly the few-pixel changes a counterfeit makes. Here the
alignment is refined by ECC (OpenCV's enhanced correlation coefficient) on gradient magnitude, which keeps
the edges of embossed, foil and faded prints whose intensities no longer match the artwork's:
1. ECC, affine at half size from several starts (the similarity transform, the crops' own framing, and the
   query's mark laid over the reference's by the centre and spread of their sharpest edges, at three
   scales: mark_moments), then a homography at full size from the best-correlated of them (the full-size
   fit costs three times the half-size one, and running it from more than one start changed no result
   measurably: tools/alignment_error.py). The edge starts rescue the photos whose silhouette the
   similarity transform misread (embossed and shadowed marks, a mark small in a scene-search window):
   without them 12% of the held-out genuine photos ended misaligned (edge correlation under 0.3), with
   them 5%. A mark that fills only a corner of its crop is better cropped again than scaled up: that is
   scanner/align.py `align_in_frame`, which uses the same moments to find it;
2. the fit is used only when it is plausible for a photo of flat goods (scale within SCALE_RANGE, anisotropy
   at the mark's centre below PLAUSIBLE_ANISOTROPY) and correlates better than the similarity transform;
3. a tilt of up to 25 degrees foreshortens by at most 1/cos(25) = 1.10, so any anisotropy beyond
   TILT_ANISOTROPY is put back: a stretched counterfeit stays stretched by what a tilt cannot explain.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from .quality import edge_strength, gradient_magnitude

TILT_ANISOTROPY = 1.10  # the most a 25 degree tilt stretches one axis against the other
PLAUSIBLE_ANISOTROPY = 1.6  # beyond this a fit has locked onto something else
# The query's scale against the reference: a scene-search window can hold a mark at half its side.
SCALE_RANGE = (0.5, 2.5)
MIN_FIT = 0.3  # edge correlation under which a fit has locked onto texture or noise (0.21 on pure noise)
# A coarse fit this well correlated needs no more starts: on the verified held-out test photos the first two
# starts reach a median 0.90, the fallback then runs on 17% of them, and none it skips ends misaligned.
GOOD_COARSE_FIT = 0.7
STRONG_EDGES = 85  # percentile: the mark's sharp edges, not the surface's texture or a soft shadow's
# Where the mark is, its edges are found on the image less its blur at this sigma (pixels at the compared
# side): a cast shadow's ramp and uneven light are wider and drop out, a mark's edge is narrower and stays.
HIGH_PASS = 4.0
MOMENT_SCALES = (1.0, 1.5, 2.1)  # the edge-moment start as it is and enlarged: leftover texture widens the spread
# Stop when a step moves the warp by under 1e-3 (sub-pixel): on generated photos the same fits as 1e-4 at
# half the 95th-percentile time (tools/alignment_error.py).
ECC_STOP = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 1e-3)


def gradient_image(image: np.ndarray) -> np.ndarray:
    """Smoothed gradient magnitude of the grey image: edges, whatever the print style did to the ink."""
    return cv2.GaussianBlur(edge_strength(image, 1.5), (0, 0), 1.0)


@dataclass
class Levels:
    """An image as ECC sees it: its gradient image at full and half size (the fine and coarse levels), and,
    worked out when first asked for, where its mark is (mark_moments). A reference's are the same for every
    scan of its brand, so the caller keeps them (scanner/align.py `align`)."""

    image: np.ndarray  # BGR
    full: np.ndarray
    half: np.ndarray

    @functools.cached_property
    def marks(self) -> tuple[float, float, float]:
        return mark_moments(self.image)


def gradient_levels(image: np.ndarray) -> Levels:
    full = gradient_image(image)
    side = full.shape[0] // 2
    return Levels(image, full, cv2.resize(full, (side, side), interpolation=cv2.INTER_AREA))


def _inverse(matrix: np.ndarray) -> np.ndarray:
    # OpenCV's, not numpy's: numpy hands even a 3x3 to LAPACK, whose threads cost milliseconds on a busy CPU.
    return cv2.invert(matrix.astype(np.float64))[1]


def _singular_values(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(singular values, descending; left singular vectors as columns) of a 2x2 matrix."""
    values, left, _ = cv2.SVDecomp(matrix.astype(np.float64))
    return values.ravel(), left


def homogeneous(matrix: np.ndarray) -> np.ndarray:
    """A 2x3 (or 3x3) map as 3x3."""
    full = np.eye(3)
    full[: matrix.shape[0]] = matrix
    return full


def _ecc(template: np.ndarray, image: np.ndarray, start: np.ndarray, motion: int) -> tuple[np.ndarray, float] | None:
    """(3x3 map image -> template, correlation) from ECC started at `start` (image -> template), or None."""
    warp = _inverse(start)  # ECC's warp maps the template's coordinates into the image
    warp = warp if motion == cv2.MOTION_HOMOGRAPHY else warp[:2]
    try:
        correlation, warp = cv2.findTransformECC(template, image, warp.astype(np.float32), motion, ECC_STOP, None, 1)
    except cv2.error:  # did not converge, or a singular step
        return None
    return _inverse(homogeneous(warp)), float(correlation)


def _coarse_to_fine(
    reference: Levels,
    query: Levels,
    starts: list[np.ndarray],
    fallback_starts: Callable[[], list[np.ndarray]] = list,
) -> np.ndarray | None:
    """Affine ECC at half size (a wider basin) from each start, then a homography at full size from the
    best-correlated coarse fit; `reference` and `query` are both images' gradient_levels. The
    `fallback_starts` are tried only when no start's coarse fit reaches GOOD_COARSE_FIT."""
    half, double = np.diag([0.5, 0.5, 1.0]), np.diag([2.0, 2.0, 1.0])

    def coarse(candidates: list[np.ndarray]) -> list[tuple[np.ndarray, float]]:
        fits = [_ecc(reference.half, query.half, half @ start @ double, cv2.MOTION_AFFINE) for start in candidates]
        return [fit for fit in fits if fit is not None]

    found = coarse(starts)
    if max((fit[1] for fit in found), default=-1.0) < GOOD_COARSE_FIT:
        found += coarse(fallback_starts())
    if not found:
        return None
    best = max(found, key=lambda fit: fit[1])[0]
    fine = _ecc(reference.full, query.full, double @ best @ half, cv2.MOTION_HOMOGRAPHY)
    return None if fine is None else fine[0]


def correlation(reference: np.ndarray, query: np.ndarray, homography: np.ndarray) -> float:
    """Correlation of the two gradient images with the query warped by `homography` (query -> reference)."""
    side = reference.shape[1], reference.shape[0]
    warped = cv2.warpPerspective(query, homography, side, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return pearson(reference, warped)


def edge_correlation(aligned: np.ndarray, reference_gradient: np.ndarray) -> float:
    """How well an aligned query's edges lie on its reference's (`reference_gradient`: the reference's
    gradient_image): about 0.97 for a genuine mark in place, under 0.3 where the alignment failed."""
    return pearson(reference_gradient, gradient_image(aligned))


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation coefficient of two images of the same shape, already on one grid."""
    a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-9))


def jacobian(homography: np.ndarray, point: tuple[float, float]) -> np.ndarray:
    """2x2 local linear map of the homography at `point` (query coordinates)."""
    mapped = homography @ np.array([point[0], point[1], 1.0])
    w = mapped[2]
    return (homography[:2, :2] * w - np.outer(mapped[:2], homography[2, :2])) / w**2


def anisotropy(homography: np.ndarray, point: tuple[float, float]) -> tuple[float, float]:
    """(ratio of the local axes' scales >= 1, their geometric mean) of the homography at `point`."""
    singular, _ = _singular_values(jacobian(homography, point))
    return float(singular[0] / singular[1]), float(math.sqrt(singular[0] * singular[1]))


def limit_anisotropy(homography: np.ndarray, point: tuple[float, float], limit: float) -> np.ndarray:
    """The homography with its local anisotropy at `point` brought down to `limit` (about the mapped point)."""
    singular, u = _singular_values(jacobian(homography, point))
    if singular[0] / singular[1] <= limit:
        return homography
    mean = math.sqrt(singular[0] * singular[1])
    wanted = np.array([mean * math.sqrt(limit), mean / math.sqrt(limit)])
    linear = u @ np.diag(wanted / singular) @ u.T  # rescales the output axes only
    mapped = homography @ np.array([point[0], point[1], 1.0])
    centre = mapped[:2] / mapped[2]
    correction = np.eye(3)
    correction[:2, :2] = linear
    correction[:2, 2] = centre - linear @ centre
    return correction @ homography


def mark_moments(image: np.ndarray) -> tuple[float, float, float]:
    """(centre x, centre y, spread) of a BGR image's mark: the moments of its sharpest edges, found on the grey
    image less its blur (HIGH_PASS), the strongest STRONG_EDGES share weighted by their square, so that a
    mark's few sharp edges outweigh a cast shadow's long soft one and the surface's many faint ones."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    detail = grey - cv2.GaussianBlur(grey, (0, 0), HIGH_PASS)
    edges = cv2.GaussianBlur(gradient_magnitude(detail), (0, 0), 1.0)
    weight = np.square(np.where(edges > np.percentile(edges, STRONG_EDGES), edges, 0))
    total = float(weight.sum()) + 1e-9
    ys, xs = np.indices(weight.shape, dtype=np.float32)
    cx, cy = float((weight * xs).sum()) / total, float((weight * ys).sum()) / total
    spread = math.sqrt(float((weight * ((xs - cx) ** 2 + (ys - cy) ** 2)).sum()) / total)
    return cx, cy, spread


def edge_moment_starts(reference: tuple[float, float, float], query: tuple[float, float, float]) -> list[np.ndarray]:
    """3x3 scale-and-shift maps query -> reference that lay the query's mark over the reference's (each
    image's mark_moments), centre on centre and spread on spread, enlarged by each of MOMENT_SCALES about
    that centre; none when either image has no edges."""
    (qx, qy, qs), (rx, ry, rs) = query, reference
    if qs < 1 or rs < 1:
        return []
    return [
        np.array([[k * rs / qs, 0, rx - k * rs / qs * qx], [0, k * rs / qs, ry - k * rs / qs * qy], [0, 0, 1.0]])
        for k in MOMENT_SCALES
    ]


@dataclass(frozen=True)
class Fit:
    """A refined alignment query -> reference: `homography` with its anisotropy limited to a tilt's (what the
    pair is aligned by, so a stretch stays visible), and `fitted` as ECC found it (how the mark is drawn)."""

    homography: np.ndarray
    fitted: np.ndarray


def refine(query: np.ndarray, reference: Levels, similarity: np.ndarray) -> Fit | None:
    """The refined alignment query -> reference, or None when no plausible fit beats `similarity`.

    `query` is BGR; `reference` the gradient_levels of the reference at the query's side; `similarity` the
    2x3 transform the silhouettes and ORB matches gave.
    """
    query_levels = gradient_levels(query)
    start = homogeneous(similarity)
    # The edge-moment starts rescue the photos whose silhouette the similarity transform misread (embossed
    # and shadowed marks, a mark small in a scene-search window); a well-framed mark does not need them.
    homography = _coarse_to_fine(
        reference, query_levels, [start, np.eye(3)], lambda: edge_moment_starts(reference.marks, query_levels.marks)
    )
    if homography is None:
        return None
    centre = (query.shape[1] / 2, query.shape[0] / 2)
    ratio, scale = anisotropy(homography, centre)
    if ratio > PLAUSIBLE_ANISOTROPY or not SCALE_RANGE[0] < scale < SCALE_RANGE[1]:
        return None
    limited = limit_anisotropy(homography, centre, TILT_ANISOTROPY)
    ref_gradient, query_gradient = reference.full, query_levels.full
    fit = correlation(ref_gradient, query_gradient, limited)
    if fit < MIN_FIT or fit <= correlation(ref_gradient, query_gradient, start):
        return None
    return Fit(limited, homography)
