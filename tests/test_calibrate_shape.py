"""tools/calibrate_shape.py on the bundled photos: the threshold is the margin times the most features any
unknown-brand photo shared by chance, and the enrolled photos it would name are listed."""

import re
import sys

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from calibrate_shape import main  # noqa: E402


def test_threshold_is_the_margin_over_chance(demo_index_path, capsys):
    assert main(["--set", str(ROOT / "samples" / "photos"), "--db", str(demo_index_path), "--margin", "1.5"]) == 0
    out = capsys.readouterr().out
    chance = int(re.search(r"at most (\d+) features", out).group(1))
    threshold = int(re.search(r"shape_inliers = (\d+)", out).group(1))
    assert 0 < chance < 20 and threshold == -(-3 * chance // 2)  # ceil(1.5 x chance)
    assert "3 of unknown brands" in out  # the three unenrolled samples (IKEA, Shell, Toyota)


def test_alignment_threshold_halves_the_distance_from_chance_to_a_perfect_fit(demo_index_path, capsys):
    assert main(["--set", str(ROOT / "samples" / "photos"), "--db", str(demo_index_path), "--by", "alignment"]) == 0
    out = capsys.readouterr().out
    chance = float(re.search(r"at most ([0-9.]+) edge correlation", out).group(1))
    threshold = float(re.search(r"align_correlation = ([0-9.]+)", out).group(1))
    assert -1 < chance < 1 and abs(threshold - (1 - (1 - chance) / 2)) <= 0.0006  # printed to 3 places
    assert "3 of unknown brands" in out  # the unenrolled samples, the only photos no similarity names
