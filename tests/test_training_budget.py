"""The training recipes' time budget (tools/training.py train_for), on a simulated clock: no torch needed,
no real waiting."""

import sys

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from training import train_for  # noqa: E402


class SimulatedRun:
    """Optimiser, loss and clock of a run whose steps take `early` seconds, then `late` after `slow_from`."""

    def __init__(self, early: float, late: float, slow_from: int, evaluation: float) -> None:
        self.now, self.steps = 0.0, 0
        self.early, self.late, self.slow_from, self.evaluation = early, late, slow_from, evaluation
        self.param_groups = [{"lr": 1.0}]
        self.lrs: list[float] = []

    def clock(self) -> float:
        return self.now

    def step_loss(self) -> "SimulatedRun":
        self.lrs.append(self.param_groups[0]["lr"])
        self.now += self.early if self.steps < self.slow_from else self.late
        self.steps += 1
        return self

    def evaluate(self, step: int) -> None:
        self.now += self.evaluation

    # What train_for calls on the optimiser and the loss.
    def zero_grad(self) -> None: ...
    def step(self) -> None: ...
    def backward(self) -> None: ...
    def item(self) -> float:
        return 0.0


def _run(run: SimulatedRun, minutes: float) -> tuple[int, float]:
    history: dict[str, list] = {"step": [], "loss": []}
    return train_for(minutes, run, run.step_loss, history, run.evaluate, 250, overhead=1.1, clock=run.clock)


def test_steps_that_slow_down_do_not_overrun_the_budget():
    # 0.47 s per step at first, 0.57 s from step 1,000 on: the verifier v2 run's speeds, which overran a
    # 35-minute budget by 7 minutes when the cycle was planned once from the first 30 steps.
    run = SimulatedRun(early=0.47, late=0.57, slow_from=1000, evaluation=15.0)
    steps, minutes = _run(run, 35.0)
    assert 34.0 <= minutes <= 35.0 * 1.02
    assert steps < int(35 * 60 / (0.47 * 1.1))  # fewer steps than the first plan


def test_learning_rate_warms_up_then_decays_to_zero_within_the_budget():
    run = SimulatedRun(early=0.5, late=0.5, slow_from=0, evaluation=5.0)
    steps, minutes = _run(run, 10.0)
    assert minutes == pytest.approx(10.0, rel=0.03)
    peak = max(run.lrs)
    assert run.lrs.index(peak) < 150  # after the warm-up, not later
    assert run.lrs[-1] < 0.01 * peak  # the cosine cycle ends near zero
