"""tools/per_brand_thresholds.py's comparison on scores where the best rule is known."""

import sys

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from per_brand_thresholds import best_detection  # noqa: E402

# Brand "emboss": its genuine goods score low (0.3) against the artwork, its fakes lower (0.1).
# Brand "print": genuine 0.9, fakes 0.5. One global threshold cannot serve both.
GENUINE = [("emboss", 0.3)] * 10 + [("print", 0.9)] * 10
COUNTERFEIT = [("emboss", 0.1)] * 10 + [("print", 0.5)] * 10
LOWEST_ENROLLED = {"emboss": 0.3, "print": 0.9}


def test_global_threshold_must_stay_below_the_low_scoring_brand():
    detected, flagged, total = best_detection(GENUINE, COUNTERFEIT, lambda b, t: t, flag=0.0)
    assert flagged == 0.0 and total <= 0.3 and detected == 0.5  # only the embossed fakes


def test_raising_by_the_enrolled_evidence_catches_both():
    raised = lambda b, t: max(t, 0.7 * LOWEST_ENROLLED[b])  # noqa: E731  (0.21 and 0.63)
    detected, flagged, _ = best_detection(GENUINE, COUNTERFEIT, raised, flag=0.0)
    assert detected == 1.0 and flagged == 0.0


def test_none_when_every_threshold_flags_too_many():
    always = lambda b, t: 1.0  # noqa: E731
    assert best_detection(GENUINE, COUNTERFEIT, always, flag=0.03) is None
