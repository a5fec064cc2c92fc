"""The quality gate's calibration (tools/calibrate_quality.py) on metrics where the right answer is known."""

import sys

from scanner.config import QualityConfig
from scanner.quality import QualityReport
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from calibrate_quality import choose, sweep, turned_away  # noqa: E402


def _frame(brightness: float, contrast: float, sharpness: float, glare: float = 0.0) -> QualityReport:
    return QualityReport(sharpness=sharpness, brightness=brightness, glare=glare, contrast=contrast)


# Degraded: two dark frames (brightest 1% at grey 20 and 31) and two blurred ones (sharpness 0.50 and 0.53).
DEGRADED = [_frame(20, 10, 0.8), _frame(31, 40, 0.8), _frame(120, 80, 0.50), _frame(140, 90, 0.53)]
# Usable: one dim but fine (brightness 41), one soft but fine (sharpness 0.63), two clearly good.
USABLE = [_frame(41, 60, 0.8), _frame(130, 70, 0.63), _frame(110, 100, 0.9), _frame(150, 60, 0.75)]


def test_the_gate_rejects_what_any_threshold_catches():
    config = QualityConfig(min_brightness=45, min_contrast=30, min_sharpness=0.65)
    assert turned_away(DEGRADED, config) == 1.0
    assert turned_away(USABLE, config) == 0.5  # the dim and the soft usable frames are lost
    assert turned_away([_frame(200, 80, 0.9, glare=0.5)], config) == 1.0  # glare


def test_chooses_the_setting_that_keeps_usable_frames_without_losing_recall():
    best = choose(sweep(DEGRADED, USABLE, QualityConfig()), min_recall=1.0)
    assert best is not None and best.recall == 1.0 and best.lost == 0.0
    # Between the degraded and the usable frames, and mid-way in that gap: brightness 32..40 and sharpness
    # 0.54..0.63 all lose nothing; the strictest (40, 0.63) would sit right on the usable frames.
    assert 31 < best.config.min_brightness <= 41 and 0.53 < best.config.min_sharpness <= 0.63
    assert best.config.min_brightness == 36 and abs(best.config.min_sharpness - 0.585) < 0.006


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
