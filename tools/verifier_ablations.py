"""Ways to get more from the shipped verifier without retraining it, measured side by side.

    python tools/verifier_ablations.py --cal build/heldout-cal --test build/heldout-test \
        [--model models/verifier_v2_int8.tflite] [--flag 0.03] [--second models/verifier_v4_int8.tflite]

Every genuine photo and counterfeit that the scanner recognises as its own brand (both splits, written by
tools/make_heldout_set.py) is aligned to the brand's reference as the scanner aligns it, then measured:
the learned authenticity, the v0 rules' overlap, proportions change and hue shift, the deviation map's
peak and mean, and the embedding similarity. Compared, each at the threshold that flags `--flag` of the
calibration split's genuine photos, on the test split:
- learned: the shipped score alone (what the scanner does);
- fusion: a logistic regression on all those measures, fitted on the calibration split;
- test-time augmentation (TTA): the learned score averaged over the aligned query as it is, shifted by
  2 px, scaled by 6% along one axis and rotated by 4 degrees (11 model runs instead of one);
- mirrored TTA: the logit averaged with that of the pair mirrored left to right, both images together (the
  one change the training itself makes to both; 2 model runs);
- with `--second M2`: M2 alone, and both models' logits averaged (an ensemble), each model fed the pair at
  its own input side and aligned the way its own pairs were (its .json's `alignment`);
- vetoes: the learned score, but a rule flags on its own past a fixed bound (hue off by more than 60
  degrees, proportions changed by more than 25%, silhouette overlap under 0.5).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from calibrate_threshold import scan_rows, set_pipeline, verified_as_labelled  # noqa: E402

from scanner.align import align  # noqa: E402
from scanner.config import ScannerConfig  # noqa: E402
from scanner.imageio import read_image  # noqa: E402
from scanner.locate import CROP_SIZE, crop  # noqa: E402
from scanner.pair_model import PairVerifier  # noqa: E402
from scanner.verify import rule_findings  # noqa: E402

FEATURES = ("learned logit", "overlap", "|proportions|", "hue shift", "map peak", "map mean", "similarity")
VETOED = 1e9  # suspicion of a vetoed photo: above any learned score
# (method, feature column, bound, +1: flag above the bound / -1: below it)
VETOES = [
    ("veto: hue > 60 degrees", 3, 60.0, 1),
    ("veto: proportions > 25%", 2, 0.25, 1),
    ("veto: overlap < 0.5", 1, 0.5, -1),
]


@dataclass
class Measured:
    kind: str  # "genuine" or the counterfeit kind
    features: np.ndarray  # FEATURES, in order
    augmented: np.ndarray  # the learned authenticity under each test-time transform (the first: none)
    mirrored: float  # the learned logit of the pair mirrored left to right, both images
    second: float | None = None  # the second model's logit, when one is compared

    @property
    def counterfeit(self) -> bool:
        return self.kind != "genuine"


def tta_transforms(size: int) -> list[np.ndarray]:
    """2x3 affine maps about the centre: identity, 2 px shifts, 6% one-axis scalings, +-4 degree turns."""
    c = size / 2
    maps = [np.float32([[1, 0, dx], [0, 1, dy]]) for dx, dy in [(0, 0), (2, 0), (-2, 0), (0, 2), (0, -2)]]
    for sx, sy in [(1.06, 1), (1 / 1.06, 1), (1, 1.06), (1, 1 / 1.06)]:
        maps.append(np.float32([[sx, 0, c - sx * c], [0, sy, c - sy * c]]))
    maps += [cv2.getRotationMatrix2D((c, c), angle, 1.0).astype(np.float32) for angle in (-4, 4)]
    return maps


def logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return float(np.log(p / (1 - p)))


def measure(config: ScannerConfig, eval_set: Path, second: PairVerifier | None = None) -> list[Measured]:
    measured = []
    with set_pipeline(config, eval_set) as pipeline:
        size = pipeline.verify_size
        transforms = tta_transforms(size)
        verifier = pipeline.verifier  # the model the scan itself used
        assert verifier is not None, "needs [verify] model"
        for row, result in scan_rows(pipeline, eval_set, ("pass", "suspect")):
            if not verified_as_labelled(row, result):
                continue
            assert result.box is not None and result.brand is not None
            query = crop(read_image(eval_set / row["file"]), result.box, CROP_SIZE)
            reference = pipeline.index.reference_for(result.candidates[0])
            a = align(query, reference, size, pipeline.refined_alignment)
            authenticity, deviation = verifier.score(a.aligned, a.reference)
            rules = rule_findings(a)
            features = [
                logit(authenticity),
                a.overlap,
                abs(rules.aspect_change),
                rules.hue_shift or 0.0,
                float(deviation.max()),
                float(deviation.mean()),
                float(result.similarity or 0.0),
            ]
            augmented = [
                verifier.score(
                    cv2.warpAffine(a.aligned, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE),
                    a.reference,
                )[0]
                for m in transforms
            ]
            mirrored = logit(verifier.score(a.aligned[:, ::-1].copy(), a.reference[:, ::-1].copy())[0])
            other = None
            if second is not None:
                same = second.size == size and second.refined == pipeline.refined_alignment
                b = a if same else align(query, reference, second.size, second.refined)
                other = logit(second.score(b.aligned, b.reference)[0])
            kind = "genuine" if row["expected"] == "pass" else row.get("kind") or "counterfeit"
            measured.append(Measured(kind, np.array(features), np.array(augmented), mirrored, other))
    return measured


def fit_logistic(x: np.ndarray, y: np.ndarray, ridge: float = 1.0, steps: int = 50) -> np.ndarray:
    """Weights (last: bias) of an L2-regularised logistic regression, by Newton's method."""
    x1 = np.c_[x, np.ones(len(x))]
    w = np.zeros(x1.shape[1])
    penalty = np.eye(len(w)) / ridge
    penalty[-1, -1] = 0.0  # the bias is not shrunk
    for _ in range(steps):
        p = 1 / (1 + np.exp(-x1 @ w))
        gradient = x1.T @ (p - y) + penalty @ w
        hessian = x1.T @ (x1 * (p * (1 - p))[:, None]) + penalty
        w -= np.linalg.solve(hessian, gradient)
    return w


def auc(suspicion: np.ndarray, counterfeit: np.ndarray) -> float:
    """Probability that a counterfeit is more suspicious than a genuine photo (ties count half)."""
    fakes, genuine = suspicion[counterfeit], suspicion[~counterfeit]
    return float(((fakes[:, None] > genuine[None]) + 0.5 * (fakes[:, None] == genuine[None])).mean())


def compare(cal: list[Measured], test: list[Measured], flag: float) -> list[tuple[str, float, float, float, dict]]:
    """(method, test AUC, detected, genuine flagged, per-kind detection) at cal's `flag` operating point."""
    y_cal = np.array([m.counterfeit for m in cal])
    y_test = np.array([m.counterfeit for m in test])
    x_cal, x_test = np.stack([m.features for m in cal]), np.stack([m.features for m in test])
    mean, spread = x_cal.mean(0), x_cal.std(0) + 1e-9
    weights = fit_logistic((x_cal - mean) / spread, y_cal.astype(float))

    def fused(x: np.ndarray) -> np.ndarray:
        return np.c_[(x - mean) / spread, np.ones(len(x))] @ weights

    methods = {  # suspicion: higher = more likely a counterfeit
        "learned": (-x_cal[:, 0], -x_test[:, 0]),
        "fusion": (fused(x_cal), fused(x_test)),
        "TTA": (-np.stack([m.augmented for m in cal]).mean(1), -np.stack([m.augmented for m in test]).mean(1)),
        "mirrored TTA": tuple(  # type: ignore[dict-item]
            -(x[:, 0] + np.array([m.mirrored for m in ms])) / 2 for x, ms in ((x_cal, cal), (x_test, test))
        ),
    }
    # A veto flags whatever the learned score says: as suspicious as can be, so the quantile below puts the
    # learned threshold where the vetoes and the score together flag `flag` of calibration genuine photos
    # (when the vetoes alone flag more, only they do).
    for label, column, bound, sign in VETOES:
        methods[label] = tuple(  # type: ignore[assignment]
            np.where(sign * x[:, column] > sign * bound, VETOED, -x[:, 0]) for x in (x_cal, x_test)
        )
    if cal[0].second is not None:
        second_cal, second_test = np.array([m.second for m in cal]), np.array([m.second for m in test])
        methods["second model"] = (-second_cal, -second_test)
        methods["ensemble (mean logit)"] = (-(x_cal[:, 0] + second_cal) / 2, -(x_test[:, 0] + second_test) / 2)
    rows = []
    for name, (s_cal, s_test) in methods.items():
        threshold = np.quantile(s_cal[~y_cal], 1 - flag)
        flagged = (s_test > threshold) | (s_test >= VETOED)  # a veto flags even when vetoes alone pass `flag`
        per_kind = defaultdict(list)
        for m, hit in zip(test, flagged, strict=True):
            if m.counterfeit:
                per_kind[m.kind].append(hit)
        kinds = {k: float(np.mean(v)) for k, v in sorted(per_kind.items())}
        rows.append((name, auc(s_test, y_test), flagged[y_test].mean(), flagged[~y_test].mean(), kinds))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cal", type=Path, required=True)
    parser.add_argument("--test", type=Path, required=True)
    parser.add_argument("--model", type=Path, default=Path("models/verifier_v2_int8.tflite"))
    parser.add_argument("--flag", type=float, default=0.03)
    parser.add_argument("--second", type=Path, help="another verifier, alone and averaged with --model")
    args = parser.parse_args(argv)

    config = ScannerConfig()
    config = replace(config, verify=replace(config.verify, model=str(args.model)))
    second = PairVerifier(args.second) if args.second else None
    cal, test = measure(config, args.cal, second), measure(config, args.test, second)
    models = args.model.name + (f" and {args.second.name}" if args.second else "")
    print(
        f"{models}; verified as their own brand: calibration {len(cal)} photos, test {len(test)} "
        f"({sum(m.counterfeit for m in test)} counterfeits); threshold flags {args.flag:.0%} of calibration genuine"
    )
    rows = compare(cal, test, args.flag)
    kinds = list(rows[0][4])
    print(f"| method | test AUC | detected | genuine flagged | {' | '.join(kinds)} |")
    print("|---" * (4 + len(kinds)) + "|")
    for name, area, detected, flagged, per_kind in rows:
        cells = " | ".join(f"{per_kind[k]:.0%}" for k in kinds)
        print(f"| {name} | {area:.3f} | {detected:.1%} | {flagged:.1%} | {cells} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
