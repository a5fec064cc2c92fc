"""tools/verifier_ablations.py's statistics on data where the answer is known."""

import sys

import numpy as np

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from verifier_ablations import Measured, auc, compare, fit_logistic  # noqa: E402


def test_auc_counts_ties_half_and_orders_right():
    counterfeit = np.array([True, True, False, False])
    assert auc(np.array([0.9, 0.8, 0.1, 0.2]), counterfeit) == 1.0
    assert auc(np.array([0.1, 0.2, 0.9, 0.8]), counterfeit) == 0.0
    assert auc(np.array([0.5, 0.5, 0.5, 0.5]), counterfeit) == 0.5


def test_logistic_fit_finds_the_informative_feature():
    rng = np.random.default_rng(0)
    informative, noise = rng.normal(size=400), rng.normal(size=400)
    labels = (informative + 0.3 * rng.normal(size=400) > 0).astype(float)
    weights = fit_logistic(np.c_[informative, noise], labels)
    assert weights[0] > 3 * abs(weights[1]) and weights[0] > 1.0


def _measured(kind: str, authenticity: float, other: float) -> Measured:
    logit = np.log(authenticity / (1 - authenticity))
    features = np.array([logit, other, 0, 0, 0, 0, 0], dtype=float)
    return Measured(kind, features, np.full(11, authenticity), logit)


def test_fusion_uses_a_measure_the_learned_score_misses():
    """Counterfeits of one kind score like genuine marks but show in the second measure: only the fused
    score catches them, and all three methods flag no genuine photo here."""
    rng = np.random.default_rng(1)

    def split() -> list[Measured]:
        genuine = [_measured("genuine", rng.uniform(0.7, 0.95), rng.uniform(0, 0.1)) for _ in range(100)]
        seen = [_measured("colour", rng.uniform(0.05, 0.3), rng.uniform(0, 0.1)) for _ in range(50)]
        unseen = [_measured("proportions", rng.uniform(0.75, 0.9), rng.uniform(0.5, 0.6)) for _ in range(50)]
        return genuine + seen + unseen

    rows = {name: (detected, flagged, kinds) for name, _, detected, flagged, kinds in compare(split(), split(), 0.0)}
    assert rows["learned"][2] == {"colour": 1.0, "proportions": 0.0}
    assert rows["TTA"][2] == {"colour": 1.0, "proportions": 0.0}
    assert rows["mirrored TTA"][2] == {"colour": 1.0, "proportions": 0.0}
    assert rows["fusion"][2]["proportions"] > 0.9 and rows["fusion"][1] <= 0.02


def test_a_second_model_is_compared_alone_and_averaged():
    """Two models that each see the counterfeits through independent noise: averaging their logits ranks
    better than either alone, and without a second model no such rows appear."""
    rng = np.random.default_rng(2)

    def split() -> list[Measured]:
        rows = []
        for kind, centre in [("genuine", 1.0)] * 300 + [("stroke", -1.0)] * 300:
            first, second = centre + rng.normal(0, 1.5), centre + rng.normal(0, 1.5)
            measured = _measured(kind, float(1 / (1 + np.exp(-first))), 0.0)
            rows.append(Measured(measured.kind, measured.features, measured.augmented, measured.mirrored, second))
        return rows

    areas = {name: area for name, area, *_ in compare(split(), split(), 0.03)}
    assert areas["ensemble (mean logit)"] > max(areas["learned"], areas["second model"]) + 0.03
    cal = [_measured("genuine", 0.8, 0.0), _measured("colour", 0.2, 0.0)]
    assert "ensemble (mean logit)" not in {name for name, *_ in compare(cal, cal, 0.03)}


def _with_hue(measured: Measured, hue: float) -> Measured:
    features = measured.features.copy()
    features[1], features[3] = 1.0, hue  # a full overlap: only the hue veto can fire
    return Measured(measured.kind, features, measured.augmented, measured.mirrored)


def test_a_rule_veto_flags_whatever_the_learned_score_says():
    """Colour counterfeits the learned score passes are caught by the hue veto when genuine hues stay near the
    reference; when lighting moves genuine hues past the bound too, the veto flags those genuine photos even
    though that is more than the `flag` share (the learned threshold cannot buy them back)."""
    rng = np.random.default_rng(3)

    def split(genuine_hue_high: int) -> list[Measured]:
        genuine = [
            _with_hue(_measured("genuine", rng.uniform(0.7, 0.95), 0.0), 90.0 if i < genuine_hue_high else 5.0)
            for i in range(100)
        ]
        colour = [_with_hue(_measured("colour", rng.uniform(0.7, 0.95), 0.0), 90.0) for _ in range(50)]
        return genuine + colour

    rows = {name: (detected, flagged) for name, _, detected, flagged, _ in compare(split(0), split(0), 0.0)}
    assert rows["learned"][0] == 0.0 and rows["veto: hue > 60 degrees"][0] == 1.0
    assert rows["veto: hue > 60 degrees"][1] == rows["learned"][1] <= 0.02  # the veto adds no genuine photo
    assert rows["veto: overlap < 0.5"][0] == 0.0  # the other vetoes see nothing here
    noisy = {name: flagged for name, _, _, flagged, _ in compare(split(10), split(10), 0.03)}
    assert noisy["veto: hue > 60 degrees"] == 0.10
