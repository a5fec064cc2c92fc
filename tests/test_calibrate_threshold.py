"""tools/calibrate_threshold.py's scene-search threshold rule on similarities where the answer is known."""

import sys

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from calibrate_threshold import choose_search_threshold  # noqa: E402

WINDOWS = [0.30, 0.41, 0.52, 0.55, 0.6375]


def test_rejecting_all_puts_the_threshold_just_above_the_best_unknown_window():
    threshold = choose_search_threshold(0.4864, WINDOWS, 1.0)
    assert threshold == 0.6376
    assert all(window < threshold for window in WINDOWS)


def test_a_lower_share_lets_the_top_window_through():
    threshold = choose_search_threshold(0.4864, WINDOWS, 0.75)  # numpy's linear quantile: 0.55
    assert threshold == 0.5501 and WINDOWS[-1] >= threshold and WINDOWS[-2] < threshold


def test_never_easier_than_the_located_box():
    assert choose_search_threshold(0.7, WINDOWS, 1.0) == 0.7
    assert choose_search_threshold(0.4864, [], 1.0) == 0.4864
