"""The quality gate's calibration (tools/calibrate_quality.py) on metrics where the right answer is known."""

import sys

from scanner.config import QualityConfig
from scanner.quality import QualityReport
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from calibrate_quality import choose, sweep, turned_away  # noqa: E402


def _frame(brightness: float, contrast: float, sharpness: float, glare: float = 0.0) -> QualityReport:
    return QualityReport(sharpness=sharpness, brightness=brightness, glare=glare, contrast=contrast)


# Degraded: two dark frames (brightness 12 and 21) and two blurred ones (sharpness 15 and 29).
DEGRADED = [_frame(12, 10, 90), _frame(21, 40, 90), _frame(120, 80, 15), _frame(140, 90, 29)]
# Usable: one dim but fine (brightness 25), one soft but fine (sharpness 33), two clearly good.
USABLE = [_frame(25, 60, 80), _frame(130, 70, 33), _frame(110, 100, 120), _frame(150, 60, 70)]


def test_the_gate_rejects_what_any_threshold_catches():
    config = QualityConfig(min_brightness=30, min_contrast=30, min_sharpness=35)
    assert turned_away(DEGRADED, config) == 1.0
    assert turned_away(USABLE, config) == 0.5  # the dim and the soft usable frames are lost
    assert turned_away([_frame(200, 80, 90, glare=0.5)], config) == 1.0  # glare


def test_chooses_the_setting_that_keeps_usable_frames_without_losing_recall():
    best = choose(sweep(DEGRADED, USABLE, QualityConfig()), min_recall=1.0)
    assert best is not None and best.recall == 1.0 and best.lost == 0.0
    # Between the degraded and the usable frames, as strict as the grid allows.
    assert 21 < best.config.min_brightness <= 25 and 29 < best.config.min_sharpness <= 33
    assert best.config.min_brightness == 24 and best.config.min_sharpness == 32


def test_no_setting_reaches_an_impossible_recall():
    impossible = [_frame(255, 255, 255)]  # a "degraded" frame no threshold on the grid rejects
    assert choose(sweep(impossible, USABLE, QualityConfig()), min_recall=1.0) is None


def test_on_the_bundled_photos(capsys):
    """The whole tool on real files: the 17 sample photos, 3 of them degraded (blur, dark, glare)."""
    from calibrate_quality import main

    assert main(["--set", str(ROOT / "samples" / "photos"), "--recall", "1.0"]) == 0
    out = capsys.readouterr().out
    assert "3 degraded frames, 14 usable" in out
    chosen = next(line for line in out.splitlines() if line.startswith("chosen"))
    assert "rescan recall 100.0%" in chosen and "usable turned away   0.0%" in chosen
    assert "[quality]" in out and "min_sharpness = " in out
