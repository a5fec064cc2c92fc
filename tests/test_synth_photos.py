"""The photo generator's camera (tools/synth_photos.py): a genuine mark's perspective stays within what a
handheld camera at up to 25 degrees of tilt gives, so that a proportions counterfeit is a real deviation."""

import math
import sys

import cv2
import numpy as np

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from synth_photos import MAX_TILT, tilted_corners  # noqa: E402


def _stretch(corners: np.ndarray, side: int) -> float:
    """Largest / smallest scale of the mark's mapping at its centre (1.0: no change of proportions)."""
    square = np.float32([[0, 0], [side, 0], [side, side], [0, side]]) - side / 2
    homography = cv2.getPerspectiveTransform(square, corners.astype(np.float32))
    # At the centre (0, 0) the projective term is 1, so the linear part's derivative is H[:2,:2] - t * h[2].
    jacobian = homography[:2, :2] - np.outer(homography[:2, 2], homography[2, :2])
    scales = np.linalg.svd(jacobian, compute_uv=False)
    return float(scales[0] / scales[1])


def test_tilt_foreshortens_no_more_than_a_real_camera():
    rng = np.random.default_rng(7)
    stretches = np.array([_stretch(tilted_corners(side, rng), side) for side in (144, 288, 432) for _ in range(400)])
    cosine_limit = 1 / math.cos(math.radians(MAX_TILT))  # 1.103
    assert np.percentile(stretches, 99) < cosine_limit + 0.04  # plus the 2% jitter of goods not quite flat
    assert np.median(stretches) > 1.01  # the goods are tilted, not photographed square on


def test_no_tilt_keeps_the_square():
    corners = tilted_corners(200, np.random.default_rng(3), max_tilt=0.0)
    expected = np.array([[-100, -100], [100, -100], [100, 100], [-100, 100]])
    assert np.abs(corners - expected).max() <= 0.02 * 200 + 1e-9
