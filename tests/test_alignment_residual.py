"""tools/alignment_residual.py measures what the alignment left, on pairs where that is known."""

import shutil
import sys

import cv2
import numpy as np

from scanner.align import Alignment
from tests.conftest import PHOTOS, ROOT

sys.path.insert(0, str(ROOT / "tools"))
from alignment_residual import main, residual  # noqa: E402


def _pair(shift_x: float, shift_y: float) -> Alignment:
    reference = np.full((128, 128, 3), 235, np.uint8)
    cv2.rectangle(reference, (30, 40), (90, 60), (40, 40, 160), -1)
    cv2.circle(reference, (70, 95), 18, (40, 40, 160), -1)
    mask = (reference[..., 0] < 100).astype(np.uint8) * 255
    moved = cv2.warpAffine(reference, np.float32([[1, 0, shift_x], [0, 1, shift_y]]), (128, 128),
                           borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    identity = np.float64([[1, 0, 0], [0, 1, 0]])
    return Alignment(moved, mask, moved, mask, reference, mask, 1.0, identity, None, fit=1.0)


def test_a_perfect_alignment_leaves_nothing_and_a_shift_leaves_its_length():
    assert residual(_pair(0, 0)) < 0.1
    assert abs(residual(_pair(2.0, 1.5)) - 2.5) < 0.3


def test_the_tool_aligns_each_genuine_photo_of_a_set_to_its_brands_artwork(demo_index_path, tmp_path, capsys):
    photos = ("genuine_adidas_0.jpg", "genuine_nike_0.jpg", "genuine_ferrari_0.jpg")
    for name in photos:
        shutil.copy(PHOTOS / name, tmp_path / name)
    rows = [f"{name},pass,{name.split('_')[1]},genuine" for name in photos]
    (tmp_path / "labels.csv").write_text("file,expected,brand,kind\n" + "\n".join(rows) + "\n")
    assert main([str(tmp_path), "--db", str(demo_index_path)]) == 0
    row = capsys.readouterr().out.strip().splitlines()[-1].split(" | ")
    assert row[1] == "3"
    converged = 3 - int(row[2])
    assert converged > 0, "ECC converged on none of three clean genuine photos"
    assert all(0 <= float(q) < 20 for q in row[3].rstrip(" |").split(" / "))
