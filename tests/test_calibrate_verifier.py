"""tools/calibrate_verifier.py --set: the one-view operating point, chosen on every calibration photo given (sets
pooled, each view of a several-view set scanned alone) so that at most the share asked for of genuine marks
is flagged, with the int8 score's ties kept whole."""

from __future__ import annotations

import json
import re
import sys

import cv2
import numpy as np
import pytest

from tests.conftest import BRANDS, ROOT, copied_verifier, labelled_set

sys.path.insert(0, str(ROOT / "tools"))
from calibrate_verifier import flagging_threshold  # noqa: E402
from calibrate_verifier import main as calibrate  # noqa: E402
from synth_photos import load_mark, photograph, photograph_views  # noqa: E402


def _flagged(scores: list[float], threshold: float) -> int:
    return sum(score < threshold for score in scores)


def test_the_threshold_flags_at_most_the_share_and_no_fewer_than_it_must():
    scores = [0.1 * n for n in range(1, 11)]
    threshold = flagging_threshold(scores, 0.2)
    assert _flagged(scores, threshold) == 2
    assert threshold == pytest.approx(0.25)  # halfway between the last flagged and the first passed


def test_a_rung_of_equal_scores_is_flagged_whole_or_not_at_all():
    # The int8 verifier's ladder: 0.4032 is one rung that three genuine marks share. Flagging 3 of 10 would
    # split it, so only the mark under it is flagged.
    scores = [0.3661, 0.4032, 0.4032, 0.4032, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]
    threshold = flagging_threshold(scores, 0.3)
    assert _flagged(scores, threshold) == 1
    assert 0.3661 < threshold < 0.4032
    everything_tied = [0.5] * 4
    assert _flagged(everything_tied, flagging_threshold(everything_tied, 0.5)) == 0


def test_marks_a_check_flags_whatever_their_score_count_against_the_share():
    scores = [0.1 * n for n in range(1, 10)]  # and a tenth genuine mark that the stroke check flagged
    threshold = flagging_threshold(scores, 0.2, flagged_anyway=1)
    assert _flagged(scores, threshold) == 1  # 2 of the 10 in all
    assert flagging_threshold(scores, 0.05, flagged_anyway=1) < min(scores)  # the check spent the whole share


def test_rounding_the_recorded_threshold_never_moves_a_score_across_it():
    scores = [0.40001, 0.40002, 0.9]  # closer than the 4 decimals a threshold is recorded to
    threshold = flagging_threshold(scores, 0.34)
    assert _flagged(scores, threshold) == 1
    assert threshold != round(threshold, 4)  # kept at full precision where 4 decimals would flag both


def test_no_verified_genuine_photo_is_a_clear_stop():
    with pytest.raises(SystemExit, match="nothing to calibrate on"):
        flagging_threshold([], 0.03)


def _genuine_set(folder, slugs, views: int) -> None:
    """Genuine photos of each brand, one row per item; with views of 2, each row's second view in more_views."""
    eval_set = labelled_set(folder, slugs)
    rows = ["file,expected,brand,kind,magnitude,changes,more_views"]
    for slug in slugs:
        mark = load_mark(BRANDS / slug / "logo.png")
        rng = np.random.default_rng(len(slug))
        photos = photograph_views(mark, rng, views, rich=True) if views > 1 else [photograph(mark, rng, "genuine")]
        names = [f"photos/genuine_{slug}_{v}.jpg" for v in range(len(photos))]
        for name, photo in zip(names, photos, strict=True):
            cv2.imwrite(str(eval_set / name), photo)
        rows.append(f"{names[0]},pass,{slug},genuine,,,{';'.join(names[1:])}")
    (eval_set / "labels.csv").write_text("\n".join(rows) + "\n")


def test_sets_are_pooled_and_every_view_counts(tmp_path, capsys):
    _genuine_set(tmp_path / "one", ("mcdonalds", "starbucks"), views=1)
    _genuine_set(tmp_path / "two", ("adidas", "nike"), views=2)
    model, before = copied_verifier(tmp_path)
    sets = ["--set", str(tmp_path / "one" / "set"), "--set", str(tmp_path / "two" / "set")]
    assert calibrate(["--model", str(model), *sets, "--flag", "0.5"]) == 0
    after = json.loads(model.with_suffix(".json").read_text())
    assert after["calibrated_on"] == "set + set"
    assert after["views_suspect_threshold"] == before["views_suspect_threshold"]  # the items' point stays
    printed = capsys.readouterr().out
    genuine = int(re.search(r"\(at most 50%; \d+ by a check\) of (\d+)", printed).group(1))
    assert genuine > 4  # more photos than the sets have rows: the second views were scanned too
    assert 0.0 < after["suspect_threshold"] < 1.0
