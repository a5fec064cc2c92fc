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


def test_pair_sets_read_as_one_say_how_their_embossed_marks_were_lit(tmp_path):
    """make_verifier_set.py --emboss-light: sets are joined with their references renumbered, and the joined set
    says `any` when any of them lit embossed marks from anywhere (a set made before the flag: the diagonal)."""
    from training import load_pair_sets

    def pair_set(name: str, references: int, **extra) -> object:
        path = tmp_path / name
        np.savez(
            path,
            references=np.zeros((references, 8, 8, 3), np.uint8),
            reference_index=np.arange(2, dtype=np.int32) % references,
            aligned=np.zeros((2, 8, 8, 3), np.uint8),
            genuine=np.array([True, False]),
            **extra,
        )
        return path

    old = pair_set("old.npz", 2)
    lit = pair_set("lit.npz", 1, emboss_light=np.array("any"), alignment=np.array("refined"))
    old_refined = pair_set("old_refined.npz", 2, alignment=np.array("refined"))
    assert str(load_pair_sets([old])["emboss_light"]) == "diagonal"
    joined = load_pair_sets([old_refined, lit])
    assert str(joined["emboss_light"]) == "any" and str(joined["alignment"]) == "refined"
    assert joined["reference_index"].tolist() == [0, 1, 2, 2]  # the second set's one reference comes after two
