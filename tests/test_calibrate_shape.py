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
