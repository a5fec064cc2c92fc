"""scanner/refine.py: the homography refinement follows a tilt, keeps a stretch a tilt cannot explain, and
declines what it cannot fit."""

import sys

import cv2
import numpy as np
import pytest

import scanner.refine as refine_module
from scanner.align import align
from scanner.config import LocateConfig
from scanner.enroll import frame_reference
from scanner.index import ReferenceImage
from scanner.locate import CROP_SIZE, crop, locate
from scanner.refine import (
    TILT_ANISOTROPY,
    Levels,
    anisotropy,
    edge_moment_starts,
    gradient_image,
    gradient_levels,
    limit_anisotropy,
    mark_moments,
    refine,
)
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))

SIDE = 128
CENTRE = (SIDE / 2, SIDE / 2)


def _mark() -> np.ndarray:
    """A wordmark over a disc and a bar, dark blue on a light ground: edges in every direction."""
    image = np.full((SIDE, SIDE, 3), 235, np.uint8)
    cv2.putText(image, "ACME", (14, 58), cv2.FONT_HERSHEY_DUPLEX, 1.1, (120, 40, 30), 3)
    cv2.circle(image, (64, 92), 18, (120, 40, 30), -1)
    cv2.rectangle(image, (20, 70), (40, 112), (120, 40, 30), -1)
    return image


def _tilt(strength: float = 0.0007) -> np.ndarray:
    """A homography query -> reference of a tilted (7% anisotropy at the centre), shifted and turned photo."""
    turn = cv2.getRotationMatrix2D(CENTRE, 6, 1.04)
    h = np.eye(3)
    h[:2] = turn
    h[2, :2] = (strength, -strength / 2)
    h[:2, 2] += (3, -2)
    return h


def _shot(reference: np.ndarray, to_reference: np.ndarray) -> np.ndarray:
    """The query whose alignment onto `reference` is `to_reference`."""
    return cv2.warpPerspective(
        reference, np.linalg.inv(to_reference), (SIDE, SIDE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def _refined(query: np.ndarray, reference: Levels, start: np.ndarray) -> np.ndarray | None:
    """refine's homography, the one the pair is aligned by (None when no fit)."""
    found = refine(query, reference, start)
    return None if found is None else found.homography


def _max_error(found: np.ndarray, truth: np.ndarray) -> float:
    ys, xs = np.nonzero(_mark()[..., 0] < 200)  # the mark's pixels
    points = np.c_[xs, ys].astype(np.float64)[None]
    return float(np.abs(cv2.perspectiveTransform(points, found) - cv2.perspectiveTransform(points, truth)).max())


def test_a_tilted_photo_is_brought_back_to_within_half_a_pixel():
    reference = _mark()
    truth = _tilt()
    found = _refined(_shot(reference, truth), gradient_levels(reference), np.float64([[1, 0, 0], [0, 1, 0]]))
    assert found is not None
    assert _max_error(found, truth) < 0.5


def test_a_stretch_beyond_what_a_tilt_gives_is_kept_and_a_tilt_is_not():
    reference = _mark()
    wider = np.diag([1 / 1.35, 1.0, 1.0])  # the query is 35% wider than the mark: undoing it squeezes x
    wider[0, 2] = CENTRE[0] * (1 - 1 / 1.35)
    found = _refined(_shot(reference, wider), gradient_levels(reference), np.float64([[1, 0, 0], [0, 1, 0]]))
    assert found is not None
    ratio, _ = anisotropy(found, CENTRE)
    # Only a tilt's worth is undone: the aligned query stays 1.35 / 1.10 = 23% wider than the reference.
    assert ratio == pytest.approx(TILT_ANISOTROPY, abs=0.01)
    left_over = found @ np.linalg.inv(wider)  # reference -> the aligned query
    assert anisotropy(left_over, CENTRE)[0] == pytest.approx(1.35 / TILT_ANISOTROPY, abs=0.02)
    assert (
        anisotropy(_refined(_shot(reference, _tilt()), gradient_levels(reference), np.eye(3)[:2]), CENTRE)[0]
        < TILT_ANISOTROPY
    )


def test_limiting_anisotropy_keeps_what_is_within_the_limit_and_the_centre_in_place():
    mild = _tilt()
    assert limit_anisotropy(mild, CENTRE, TILT_ANISOTROPY) is mild
    squeezed = np.diag([0.7, 1.0, 1.0]) @ mild
    limited = limit_anisotropy(squeezed, CENTRE, TILT_ANISOTROPY)
    assert anisotropy(limited, CENTRE)[0] == pytest.approx(TILT_ANISOTROPY)
    assert anisotropy(limited, CENTRE)[1] == pytest.approx(anisotropy(squeezed, CENTRE)[1])  # same overall scale
    centre = np.array([[CENTRE]])
    assert np.allclose(cv2.perspectiveTransform(centre, limited), cv2.perspectiveTransform(centre, squeezed))


def _small_in_the_window() -> tuple[np.ndarray, np.ndarray]:
    """(query, its true map query -> reference): the mark at half size off-centre in a textured window, as a
    scene-search window holds it."""
    rng = np.random.default_rng(4)
    query = np.clip(rng.normal(200, 6, (SIDE, SIDE, 3)), 0, 255).astype(np.uint8)
    query[30:94, 40:104] = cv2.resize(_mark(), (64, 64), interpolation=cv2.INTER_AREA)
    return query, np.array([[2.0, 0, -80], [0, 2.0, -60], [0, 0, 1]])


def test_edge_moments_put_a_small_mark_at_its_scale_and_place():
    query, truth = _small_in_the_window()
    first = edge_moment_starts(mark_moments(_mark()), mark_moments(query))[0]
    assert first[0, 0] == pytest.approx(2.0, rel=0.1)
    centre = np.array([[[72.0, 62.0]]])  # the small mark's centre
    assert np.abs(cv2.perspectiveTransform(centre, first) - cv2.perspectiveTransform(centre, truth)).max() < 3
    assert edge_moment_starts(mark_moments(_mark()), mark_moments(np.zeros((SIDE, SIDE, 3), np.uint8))) == []


def test_a_soft_cast_shadow_does_not_draw_the_mark_moments_off_the_mark():
    """A dark band as wide as the mark across the window (a cast shadow): its edges are long but soft, so
    the mark's few sharp ones still say where the mark is and how far it reaches."""
    query, _ = _small_in_the_window()
    ys, xs = np.mgrid[0:SIDE, 0:SIDE]
    band = np.exp(-(((ys - 0.6 * xs - 70) / 12.0) ** 2))  # below and left of the mark, crossing the window
    shadowed = (query * (1 - 0.6 * band)[..., None]).astype(np.uint8)
    cx, cy, spread = mark_moments(shadowed)
    mx, my, mark_spread = mark_moments(query)
    assert abs(cx - mx) < 3 and abs(cy - my) < 3 and spread == pytest.approx(mark_spread, rel=0.15)
    # The plain gradient's moments, which the edge starts used before, are pulled onto the shadow.
    plain = gradient_image(shadowed)
    weight = np.where(plain > np.percentile(plain, 85), plain, 0)
    plain_cy = float((weight * ys).sum() / weight.sum())
    assert plain_cy - my > 8


def test_a_small_mark_is_found_when_the_silhouettes_misread_it(monkeypatch):
    query, truth = _small_in_the_window()
    misread = np.float64([[5, 0, -200], [0, 5, -150]])  # the silhouette start, off by 2.5x in scale
    ys, xs = np.mgrid[34:90:4, 44:100:4]  # over the small mark, in the query
    points = np.c_[xs.ravel(), ys.ravel()].astype(np.float64)[None]

    def error(found: np.ndarray | None) -> float:
        if found is None:
            return float("inf")
        return float(np.abs(cv2.perspectiveTransform(points, found) - cv2.perspectiveTransform(points, truth)).max())

    # Within 4 px of 128 (the half-size mark's edges are blurrier than the artwork's, which moves ECC's
    # optimum a little: it correlates better than the truth itself here).
    assert error(_refined(query, gradient_levels(_mark()), misread)) < 4.0
    monkeypatch.setattr(refine_module, "MOMENT_SCALES", ())  # the silhouette and framing starts alone
    assert error(_refined(query, gradient_levels(_mark()), misread)) > 20.0


def test_nothing_to_fit_gives_no_refinement():
    reference = _mark()
    blank = np.full_like(reference, 235)
    noise = np.random.default_rng(0).integers(0, 255, reference.shape, dtype=np.uint8)
    start = np.float64([[1, 0, 0], [0, 1, 0]])
    levels = gradient_levels(reference)
    assert refine(blank, levels, start) is None
    assert refine(noise, levels, start) is None


def test_on_generated_photos_the_refined_alignment_is_closer_to_the_ground_truth():
    """Three genuine photos from the generator, which knows where it put the mark (tools/alignment_error.py)."""
    from alignment_error import error, true_positions
    from synth_photos import load_mark, photograph_with_placement

    better = 0
    for n, brand in enumerate(("ferrari", "starbucks", "nike")):
        mark = load_mark(ROOT / "samples" / "brands" / brand / "logo.png")
        ref_crop, ref_mask, ref_box = frame_reference(mark, LocateConfig())
        reference = ReferenceImage(0, brand, ref_crop, ref_mask)
        photo, _, placement = photograph_with_placement(mark, np.random.default_rng(n), "genuine", rich=True)
        box = locate(photo, LocateConfig()).box
        query = crop(photo, box, CROP_SIZE)
        similarity, refined = align(query, reference, SIDE), align(query, reference, SIDE, refined=True)
        ys, xs = np.nonzero(refined.ref_mask)
        points = np.c_[xs, ys].astype(np.float64) + 0.5
        truth = true_positions(points, ref_box, placement, box, SIDE)
        better += error(refined, points, truth) < error(similarity, points, truth)
    assert better >= 2
