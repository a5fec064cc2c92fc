"""The counterfeit generator (tools/counterfeits.py): every kind changes the mark where it says it does, and
a bigger magnitude changes it more."""

import sys

import cv2
import numpy as np
import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from counterfeits import KINDS, Invisible, changed, counterfeit, counterfeit_any  # noqa: E402


def _mark() -> np.ndarray:
    """An RGBA red mark, not symmetric: a wordmark and a disc, as simple-icons renders (256 px, transparent)."""
    alpha = np.zeros((256, 256), np.uint8)
    cv2.putText(alpha, "ACME", (20, 110), cv2.FONT_HERSHEY_DUPLEX, 2.2, 255, 9)
    cv2.circle(alpha, (128, 180), 40, 255, -1)
    mark = np.zeros((256, 256, 4), np.uint8)
    mark[..., :3] = (30, 30, 200)
    mark[..., 3] = alpha
    return mark


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_changes_the_mark_only_where_it_says(kind):
    mark = _mark()
    altered, where, description = counterfeit(mark, kind, 0.8, np.random.default_rng(1))
    assert altered.shape == mark.shape and description
    ink = int((mark[..., 3] > 127).sum())
    assert (where > 0).sum() >= 0.015 * ink
    # Outside the reported region the mark is as it was.
    outside = cv2.dilate(where, np.ones((5, 5), np.uint8)) == 0
    assert changed(mark, altered)[outside].sum() == 0


@pytest.mark.parametrize("kind", ["proportions", "moved", "stroke", "warp", "missing"])
def test_obvious_changes_more_than_subtle(kind):
    mark = _mark()
    subtle = counterfeit(mark, kind, 0.05, np.random.default_rng(3))[1]
    obvious = counterfeit(mark, kind, 0.95, np.random.default_rng(3))[1]
    assert (obvious > 0).sum() > (subtle > 0).sum()


def test_proportions_say_how_much():
    _, _, description = counterfeit(_mark(), "proportions", 1.0, np.random.default_rng(0))
    assert "50%" in description and ("wider" in description or "taller" in description)


def test_a_change_nobody_can_see_is_refused_and_another_kind_taken():
    disc = np.zeros((256, 256, 4), np.uint8)
    cv2.circle(disc, (128, 128), 90, (0, 0, 0, 255), -1)  # black, symmetric: a mirrored disc is the same disc
    with pytest.raises(Invisible):
        counterfeit(disc, "mirrored", 0.9, np.random.default_rng(0))
    kind, altered, where, _ = counterfeit_any(disc, "mirrored", 0.9, np.random.default_rng(0))
    assert kind != "mirrored" and where.any() and not np.array_equal(altered, disc)


def test_verifier_training_pairs_smoke(tmp_path):
    """tools/make_verifier_set.py on two training brands: pairs aligned by the scanner, targets where it changed."""
    import shutil

    from splits import held_out

    refs = tmp_path / "refs"
    names = [n for n in (f"trainmark{i}" for i in range(50)) if not held_out(n)][:2]
    for name, source in zip(names, ("ferrari", "starbucks"), strict=True):
        shutil.copytree(ROOT / "samples" / "brands" / source, refs / name)
    from make_verifier_set import main

    out = tmp_path / "pairs.npz"
    assert main([str(refs), "--out", str(out), "--per-brand", "4", "--workers", "1"]) == 0
    data = np.load(out)
    assert data["references"].shape == (2, 128, 128, 3) and data["aligned"].shape[1:] == (128, 128, 3)
    genuine = data["genuine"]
    assert 0 < genuine.sum() < len(genuine)  # both classes (a frame the scanner would reject is dropped)
    assert (data["target"][genuine] == 0).all() and (data["target"][~genuine].max(axis=(1, 2)) > 0).all()
    assert set(data["kind"][~genuine]) <= set(KINDS) and set(data["brand"]) <= set(names)
    # Another seed photographs the same brands again; two sets load as one, each pair still beside its reference.
    again = tmp_path / "pairs_seed1.npz"
    assert main([str(refs), "--out", str(again), "--per-brand", "4", "--workers", "1", "--seed", "1"]) == 0
    from training import load_pair_sets

    second = np.load(again)
    assert not np.array_equal(second["aligned"][0], data["aligned"][0])
    both = load_pair_sets([out, again])
    assert len(both["aligned"]) == len(data["aligned"]) + len(second["aligned"])
    assert len(both["references"]) == 4 and (both["reference_index"][len(data["aligned"]) :] >= 2).all()
    for i in range(len(both["aligned"])):
        own, k = (data, i) if i < len(data["aligned"]) else (second, i - len(data["aligned"]))
        assert np.array_equal(both["aligned"][i], own["aligned"][k])
        assert np.array_equal(
            both["references"][both["reference_index"][i]], own["references"][own["reference_index"][k]]
        )
    # Another side: the pair and the reference at that side, one target cell per 8x8 pixels; sets of different
    # sides are refused together rather than stacked.
    finer = tmp_path / "pairs_224.npz"
    assert main([str(refs), "--out", str(finer), "--per-brand", "2", "--workers", "1", "--size", "224"]) == 0
    sized = np.load(finer)
    assert sized["references"].shape == (2, 224, 224, 3) and sized["aligned"].shape[1:] == (224, 224, 3)
    assert sized["target"].shape[1:] == (28, 28)
    with pytest.raises(SystemExit, match="different sides"):
        load_pair_sets([out, finer])
    # Pairs aligned by the refined homography say so, and are not mixed with similarity-aligned ones.
    refined = tmp_path / "pairs_refined.npz"
    assert main([str(refs), "--out", str(refined), "--per-brand", "2", "--workers", "1", "--align", "refined"]) == 0
    assert str(np.load(refined)["alignment"]) == "refined" and str(load_pair_sets([out])["alignment"]) == "similarity"
    with pytest.raises(SystemExit, match="aligned differently"):
        load_pair_sets([out, refined])
