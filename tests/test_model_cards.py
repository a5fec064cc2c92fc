"""The model cards describe the files that ship: every model listed with its real sha256, the defaults the
scanner loads marked as such, and the operating points the cards quote equal to those the scanner reads."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from scanner.config import DEFAULT_MODEL, DEFAULT_VERIFIER
from scanner.embed import read_calibration

MODELS = Path(__file__).resolve().parent.parent / "models"
CARDS = MODELS / "README.md"


def _index_rows() -> dict[str, list[str]]:
    """The cards' index table, the first table of the page: file name -> its cells."""
    table = CARDS.read_text().split("\n\n| file |", 1)[1].split("\n\n", 1)[0]
    rows = {}
    for line in table.splitlines():
        match = re.match(r"\| `([\w.]+\.tflite)` \|", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in line.strip("|").split("|")]
    return rows


def test_every_shipped_model_is_listed_with_its_sha256():
    rows = _index_rows()
    shipped = sorted(path.name for path in MODELS.glob("*.tflite"))
    assert sorted(rows) == shipped
    for name in shipped:
        digest = hashlib.sha256((MODELS / name).read_bytes()).hexdigest()
        assert f"`{digest}`" in rows[name], f"{name}: the card's sha256 is not the file's ({digest})"


def test_the_defaults_the_scanner_loads_are_the_ones_marked_default():
    marked = {name for name, cells in _index_rows().items() if cells[-1].startswith("yes")}
    assert marked == {DEFAULT_MODEL.name, DEFAULT_VERIFIER.name}


@pytest.mark.parametrize(
    ("model", "key"),
    [
        (DEFAULT_MODEL, "unknown_threshold"),
        (DEFAULT_MODEL, "search_threshold"),
        (DEFAULT_VERIFIER, "suspect_threshold"),
        (DEFAULT_VERIFIER, "views_suspect_threshold"),
        (DEFAULT_VERIFIER, "photo_suspect_threshold"),
    ],
)
def test_the_operating_points_quoted_are_the_calibrated_ones(model, key):
    value = read_calibration(model)[key]
    card = CARDS.read_text()
    section = card[card.index(f"# `{model.name}`") :]
    quoted = re.search(rf"`{key}` \**([0-9.]+)", section)
    assert quoted is not None, f"{model.name}'s card does not quote its {key}"
    assert float(quoted.group(1)) == pytest.approx(value, abs=5e-5), f"{model.name} {key} is {value} in its .json"
