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


def test_near_copy_threshold_is_the_next_hundredth_over_chance(demo_index_path, tmp_path, capsys):
    """--by near measures the frames nothing named whose nearest window is as similar as a located box must be;
    the threshold is the next 0.01 over the most any unknown-labelled photo reached. Scenes of bundled marks
    amid clutter (tools/scene_photos.py), labelled unknown, stand in for unrelated marks: the tool reads only
    the label, and these scenes' located boxes match nothing."""
    import csv

    import cv2
    import numpy as np
    from scene_photos import scene_photo
    from synth_photos import load_mark

    from tests.conftest import BRANDS

    enrolled = sorted(p.name for p in BRANDS.iterdir() if p.is_dir())
    (tmp_path / "photos").mkdir()
    rows = []
    for brand, n in [("apple", 1), ("porsche", 1), ("reebok", 0), ("zara", 1)]:
        seed = 31_000 + 2 * enrolled.index(brand) + n  # the scene-search test's scenes
        scene = scene_photo(load_mark(BRANDS / brand / "logo.png"), np.random.default_rng(seed))[0]
        cv2.imwrite(str(tmp_path / "photos" / f"{brand}_{n}.jpg"), scene)
        rows.append((f"photos/{brand}_{n}.jpg", "unknown", ""))
    with (tmp_path / "labels.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows([("file", "expected", "brand"), *rows])
    assert main(["--set", str(tmp_path), "--db", str(demo_index_path), "--by", "near"]) == 0
    out = capsys.readouterr().out
    measured = int(re.search(r"(\d+) photos measured near", out).group(1))
    chance = float(re.search(r"at most ([0-9.e-]+) edge correlation", out).group(1))
    threshold = float(re.search(r"near_correlation = ([0-9.]+)", out).group(1))
    assert 1 <= measured <= len(rows)
    assert chance < threshold <= chance + 0.01 + 1e-9 and threshold < 0.863
