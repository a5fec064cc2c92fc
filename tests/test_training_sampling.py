"""How the verifier recipe draws its training pairs (tools/training.py): hard-example mining of genuine pairs."""

import sys

import numpy as np

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from training import hard_genuine_weights  # noqa: E402


def test_the_lowest_scoring_genuine_pairs_are_drawn_boost_times_as_often():
    genuine = np.array([True, False, True, True, False, True, True])
    scores = np.array([0.9, 0.1, 0.8, 0.2, 0.7])  # the five genuine pairs, in order: pairs 0, 2, 3, 5, 6
    weights = hard_genuine_weights(genuine, scores, share=0.4, boost=3.0)
    assert np.isclose(weights.sum(), 1.0)
    # The two lowest of five genuine scores (0.1, 0.2) are pairs 2 and 5; counterfeits keep the base weight.
    assert np.allclose(weights / weights.min(), [1, 1, 3, 1, 1, 3, 1])
    draws = np.random.default_rng(0).choice(len(genuine), 70_000, p=weights)
    assert abs(np.mean(draws == 2) / np.mean(draws == 0) - 3.0) < 0.15


def test_no_share_draws_uniformly():
    genuine = np.array([True, False, True])
    assert np.allclose(hard_genuine_weights(genuine, np.array([0.5, 0.1]), share=0.0, boost=3.0), 1 / 3)
