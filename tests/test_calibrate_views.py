"""tools/calibrate_verifier.py --views-set: the threshold for an item's mean authenticity over its views,
recorded beside the model without touching the one-view threshold."""

from __future__ import annotations

import json
import re
import shutil
import sys

import cv2
import numpy as np

from scanner.config import DEFAULT_VERIFIER
from tests.conftest import BRANDS, ROOT, copied_verifier, labelled_set

sys.path.insert(0, str(ROOT / "tools"))
from calibrate_verifier import main as calibrate  # noqa: E402
from synth_photos import load_mark, photograph_views  # noqa: E402


def test_views_threshold_is_chosen_on_items_and_recorded_beside_the_model(tmp_path, capsys):
    model, before = copied_verifier(tmp_path)
    rows = ["file,expected,brand,kind,magnitude,changes,more_views"]
    slugs = ("mcdonalds", "starbucks", "adidas")
    labelled_set(tmp_path, slugs)
    for slug in slugs:
        for n in range(2):
            views = photograph_views(load_mark(BRANDS / slug / "logo.png"), np.random.default_rng(n), 2, rich=True)
            names = [f"photos/genuine_{slug}_{n}_{v}.jpg" for v in (1, 2)]
            for name, photo in zip(names, views, strict=True):
                cv2.imwrite(str(tmp_path / "set" / name), photo)
            rows.append(f"{names[0]},pass,{slug},genuine,,,{names[1]}")
    (tmp_path / "set" / "labels.csv").write_text("\n".join(rows) + "\n")

    assert calibrate(["--model", str(model), "--views-set", str(tmp_path / "set"), "--flag", "0.5"]) == 0
    after = json.loads(model.with_suffix(".json").read_text())
    assert after["suspect_threshold"] == before["suspect_threshold"]  # the one-view operating point stays
    assert after["views_calibrated_on"] == "set"
    printed = capsys.readouterr().out
    genuine = int(re.search(r"\(at most 50%; \d+ by a check\) of (\d+)", printed).group(1))
    assert 2 <= genuine <= 6  # the items with both views verified as their brand
    assert 0.0 < after["views_suspect_threshold"] < 1.0


def test_a_set_of_single_photos_is_refused_with_the_fix(tmp_path):
    model = tmp_path / DEFAULT_VERIFIER.name
    shutil.copy(DEFAULT_VERIFIER, model)
    (tmp_path / "set" / "refs").mkdir(parents=True)
    shutil.copytree(BRANDS / "nike", tmp_path / "set" / "refs" / "nike")
    (tmp_path / "set" / "labels.csv").write_text("file,expected,brand\nphotos/a.jpg,pass,nike\n")
    try:
        calibrate(["--model", str(model), "--views-set", str(tmp_path / "set")])
    except SystemExit as stop:
        assert "--views 2" in str(stop.code)
    else:
        raise AssertionError("a set without more_views must be refused")
    assert not model.with_suffix(".json").exists()  # nothing recorded
