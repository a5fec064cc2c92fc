"""What the training recipes share: optimisation steps under one cosine learning-rate cycle fitted to a time
budget (tools/train_embedder.py, tools/train_verifier.py), their training-curve PNG, reading several of
tools/make_verifier_set.py's pair sets as one, choosing the brands kept apart for validation, and which pairs
to draw or drop (here, not there, so training needs neither the scanner nor its dependencies; only
edge_correlations imports the scanner, when called)."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

WARMUP_STEPS = 100
PLAN_AFTER = 30  # steps timed before the cycle's length is first set
REPLAN_EVERY = 100  # steps between re-fits of the cycle's length to the speed measured so far
LOG_EVERY = 10


def train_for(
    minutes: float,
    optimizer,  # type: ignore[no-untyped-def]
    step_loss: Callable[[], object],
    history: dict[str, list],
    evaluate: Callable[[int], None],
    eval_every: int,
    overhead: float,
    clock: Callable[[], float] = time.time,
) -> tuple[int, float]:
    """Optimise for about `minutes`; (steps, minutes taken).

    `step_loss` draws a batch and returns its loss. Every group's learning rate follows a linear warm-up and
    one cosine cycle; after PLAN_AFTER steps the cycle's length is set from the measured speed, with
    `overhead` (1.08 = 8%) left for the evaluations, then re-fitted every REPLAN_EVERY steps to the average
    speed so far, evaluations included: steps that slow down later (a busy machine, a longer evaluation)
    shorten the cycle instead of overrunning the budget. The loss goes to history["step"/"loss"] every
    LOG_EVERY steps; `evaluate(step)` runs every `eval_every` steps and once at the end.
    """
    base_lrs = [group["lr"] for group in optimizer.param_groups]
    budget = minutes * 60
    start, planned, step = clock(), None, 0
    while planned is None or step < planned:
        warm = min(1.0, (step + 1) / WARMUP_STEPS)
        progress = step / planned if planned else 0.0
        for group, lr in zip(optimizer.param_groups, base_lrs, strict=True):
            group["lr"] = lr * warm * 0.5 * (1 + math.cos(math.pi * progress))
        loss = step_loss()
        optimizer.zero_grad()
        loss.backward()  # type: ignore[attr-defined]
        optimizer.step()
        step += 1
        if step == PLAN_AFTER:
            per_step = (clock() - start) / PLAN_AFTER
            planned = max(step + 1, int(budget / (per_step * overhead)))
            print(f"{per_step * 1000:.0f} ms/step: planning {planned} steps", file=sys.stderr)
        elif planned is not None and step % REPLAN_EVERY == 0:
            planned = max(step + 1, int(budget * step / (clock() - start)))
        if step % LOG_EVERY == 0:
            history["step"].append(step)
            history["loss"].append(loss.item())  # type: ignore[attr-defined]
        if step % eval_every == 0:
            evaluate(step)
    evaluate(step)
    return step, (clock() - start) / 60


def plot_curves(
    history: dict[str, list], path: Path, loss_label: str, series: list[tuple[str, str, str]], title: str
) -> None:
    """Loss on the left; on the right each (history key, marker, label) of `series` against history["eval_step"]."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    left.plot(history["step"], history["loss"], lw=0.8)
    left.set(xlabel="step", ylabel=loss_label, title="training loss")
    for key, marker, label in series:
        right.plot(history["eval_step"], history[key], marker, label=label)
    right.set(xlabel="step", ylim=(0, 1.02), title=title)
    right.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def load_pair_sets(paths: list[Path]) -> dict[str, np.ndarray]:
    """Pair sets from tools/make_verifier_set.py as one: each set's reference indices shifted past the
    references of the sets before it."""
    sets = [dict(np.load(path)) for path in paths]
    sides = {path.name: pairs["aligned"].shape[1] for path, pairs in zip(paths, sets, strict=True)}
    if len(set(sides.values())) > 1:
        raise SystemExit(f"pair sets of different sides cannot be trained on together: {sides}")
    # Sets written before `--align` existed were aligned by the similarity transform.
    alignments = {path.name: str(pairs.pop("alignment", "similarity")) for path, pairs in zip(paths, sets, strict=True)}
    if len(set(alignments.values())) > 1:
        raise SystemExit(f"pair sets aligned differently cannot be trained on together: {alignments}")
    # The share of photos printed in a genuine colourway (make_verifier_set.py --colourways; none before it).
    colourways = max(float(pairs.pop("colourways", 0.0)) for pairs in sets)
    # How embossed marks were lit (make_verifier_set.py --emboss-light; the diagonal before it): "any" if any set.
    lights = {str(pairs.pop("emboss_light", "diagonal")) for pairs in sets}
    # Which references are photos of genuine goods (make_verifier_set.py --photo-references; none before it).
    for pairs in sets:
        pairs.setdefault("reference_is_photo", np.zeros(len(pairs["references"]), bool))
    offsets = np.cumsum([0] + [len(s["references"]) for s in sets[:-1]])
    for offset, pairs in zip(offsets, sets, strict=True):
        pairs["reference_index"] = pairs["reference_index"] + offset
    joined = {key: np.concatenate([pairs[key] for pairs in sets]) for key in sets[0]}
    joined["alignment"] = np.array(next(iter(alignments.values())))
    joined["colourways"] = np.float32(colourways)
    joined["emboss_light"] = np.array("any" if "any" in lights else "diagonal")
    return joined


def edge_correlations(data: dict[str, np.ndarray]) -> np.ndarray:
    """Per pair, how well the aligned query's edges line up with its reference's (scanner/refine.py's
    edge_correlation, as naming by outline measures it; near 0 where the alignment failed and the query shows
    the mark elsewhere or not at all, about 0.98 at the median of genuine pairs)."""
    from scanner.refine import edge_correlation, gradient_image

    reference_edges: dict[int, np.ndarray] = {}
    out = np.empty(len(data["aligned"]), np.float32)
    for i, (query, r) in enumerate(zip(data["aligned"], data["reference_index"], strict=True)):
        if r not in reference_edges:
            reference_edges[r] = gradient_image(data["references"][r])
        out[i] = edge_correlation(query, reference_edges[r])
    return out


def hard_genuine_weights(genuine: np.ndarray, genuine_scores: np.ndarray, share: float, boost: float) -> np.ndarray:
    """Drawing probabilities for training pairs (`genuine`: which are) that draw the `share` of genuine pairs
    scoring lowest (`genuine_scores`, in the order of the genuine pairs) `boost` times as often as the rest."""
    weights = np.ones(len(genuine))
    if share > 0 and len(genuine_scores):
        hardest = np.argsort(genuine_scores, kind="stable")[: round(share * len(genuine_scores))]
        weights[np.nonzero(genuine)[0][hardest]] = boost
    return weights / weights.sum()


def choose_validation_brands(
    brands: np.ndarray, rng: np.random.Generator, share: float, listed: Path | None = None
) -> set[str]:
    """`share` of the brands drawn at random, or those listed in the file (a list that names none of
    these pairs' brands is refused: it was written for other pairs)."""
    present = np.unique(brands)
    if listed is None:
        return {str(b) for b in rng.choice(present, max(1, int(len(present) * share)), replace=False)}
    chosen = {line.strip() for line in listed.read_text().splitlines() if line.strip()}
    if not chosen & set(present.tolist()):
        raise SystemExit(f"{listed}: none of its brands is in the pair sets")
    return chosen
