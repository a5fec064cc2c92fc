"""A mark reversed out of a field (scanner/reprint.py): redrawn dark on light for the embedder, and a frame that
nothing else names is named from that copy (from the located box or a closer scene window) only when the copy
lines up with its brand's reference; a print similarity took for another brand's label is renamed from it; and
a reversed print is verified with the field's edge painted out."""

import re
import sys
from dataclasses import replace

import cv2
import numpy as np

import scanner.naming as naming_module
from scanner.config import LocateConfig, ScannerConfig
from scanner.imageio import read_image
from scanner.locate import CROP_SIZE, Box, crop, locate
from scanner.pipeline import Pipeline
from scanner.reprint import read_field
from scanner.verdict import EDGE_ERASED, Verdict
from tests.conftest import BRANDS, PHOTOS, ROOT

sys.path.insert(0, str(ROOT / "tools"))
from synth_photos import colourway_photo, load_mark, make_photo  # noqa: E402

SURFACE, ORANGE, WHITE, INK = (150, 160, 170), (20, 120, 240), (245, 245, 245), (25, 25, 25)  # BGR


def _bar_and_disc(canvas: np.ndarray, colour: tuple[int, int, int], centre: tuple[int, int] = (112, 112)) -> None:
    """A disc and a bar to its right: a mark with no symmetry that would hide a misplaced copy."""
    cx, cy = centre
    cv2.circle(canvas, (cx - 25, cy), 22, colour, -1)
    cv2.rectangle(canvas, (cx + 8, cy - 30), (cx + 22, cy + 30), colour, -1)


def _framed_artwork() -> np.ndarray:
    """The same mark in ink on white, framed as the index frames a reference."""
    artwork = np.full((CROP_SIZE, CROP_SIZE, 3), 255, np.uint8)
    _bar_and_disc(artwork, INK)
    return crop(artwork, locate(artwork, LocateConfig()).box, CROP_SIZE)


def _noisy(image: np.ndarray) -> np.ndarray:
    noise = np.random.default_rng(0).normal(0, 3, image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


def test_a_mark_reversed_out_of_a_field_is_redrawn_dark_on_white_where_the_artwork_has_it():
    """White mark in an orange field on a grey surface: the copy is the mark dark on white, the field's edge
    gone, and it lies where the same mark drawn as artwork lies once both are framed alike."""
    photo = np.full((CROP_SIZE, CROP_SIZE, 3), SURFACE, np.uint8)
    cv2.rectangle(photo, (40, 60), (184, 164), ORANGE, -1)
    _bar_and_disc(photo, WHITE)
    reading = read_field(_noisy(photo))
    assert reading is not None
    copy = reading.redrawn(LocateConfig())
    assert copy.shape == (CROP_SIZE, CROP_SIZE, 3)
    dark = cv2.cvtColor(copy, cv2.COLOR_BGR2GRAY) < 128
    expected = cv2.cvtColor(_framed_artwork(), cv2.COLOR_BGR2GRAY) < 128
    overlap = (dark & expected).sum() / (dark | expected).sum()
    assert overlap > 0.85, overlap
    # Nothing of the field's rectangle is drawn: the copy's light pixels are white, not the field's grey.
    assert np.median(cv2.cvtColor(copy, cv2.COLOR_BGR2GRAY)[~dark]) > 240


def test_no_copy_without_a_mark_inside_a_field():
    """A solid mark printed on the goods (no field around it) and a blank crop give no copy."""
    solid = np.full((CROP_SIZE, CROP_SIZE, 3), SURFACE, np.uint8)
    cv2.rectangle(solid, (50, 50), (174, 174), ORANGE, -1)
    assert read_field(_noisy(solid)) is None
    assert read_field(np.full((CROP_SIZE, CROP_SIZE, 3), 128, np.uint8)) is None


def test_a_reversed_print_nothing_else_names_is_named_from_its_copy(demo_index_path):
    """With similarity, scene search and shape naming out of reach, a genuine Nike mark printed white inside a
    black label is named from its copy and verified; the reason says so and the stage is timed. An unenrolled
    brand's photo is not named that way, and reprint_fields = false turns it off."""
    config = ScannerConfig()
    unnamed = replace(
        config, match=replace(config.match, unknown_threshold=0.99, search_threshold=0.99, shape_inliers=0)
    )
    # Seed 2 prints the label without a cast shadow across it (seed 1's shadow joins the label for the locator).
    photo = colourway_photo(load_mark(BRANDS / "nike" / "logo.png"), "reversed", np.random.default_rng(2))
    with Pipeline(unnamed, demo_index_path) as scanner:
        named = scanner.scan(photo)
        other = scanner.scan(read_image(PHOTOS / "unknown_shell_0.jpg"))
    assert named.verdict == Verdict.PASS and named.brand == "nike", named.reasons
    assert named.reasons[-1].startswith("named as a print on a field") and "reprint" in named.timings_ms
    correlation = float(named.reasons[-1].rsplit("edge correlation ", 1)[1].rstrip(")"))
    assert correlation >= config.match.align_correlation
    assert other.verdict == Verdict.UNKNOWN and other.brand is None
    off = replace(unnamed, match=replace(unnamed.match, reprint_fields=False))
    with Pipeline(off, demo_index_path) as scanner:
        result = scanner.scan(photo)
    assert result.verdict == Verdict.UNKNOWN and "reprint" not in result.timings_ms


def test_a_reversed_print_named_by_similarity_for_another_label_is_renamed_from_its_copy(demo_index_path):
    """A field takes the embedder's eye: with similarity allowed to name whatever is nearest, an Adidas mark printed
    white inside a red field comes nearest Zara (a dark label of its own). Its copy lines up with the Adidas
    reference far better than the print lines up with Zara's, so the scan is renamed and verified as Adidas; the
    reason names both. A genuine Uniqlo print (a red label as its artwork is) is checked and keeps its name, and
    reprint_fields = false leaves the wrong name."""
    config = ScannerConfig()
    nearest_names = replace(config, match=replace(config.match, unknown_threshold=0.2, search_threshold=0.2))
    red = load_mark(BRANDS / "adidas" / "logo.png")
    red[..., :3] = (230, 0, 0)  # RGBA: the mark in red, so that the field it is reversed out of is red
    photo = colourway_photo(red, "reversed", np.random.default_rng(0))
    uniqlo = make_photo(BRANDS / "uniqlo" / "logo.png", "genuine", 0)
    with Pipeline(nearest_names, demo_index_path) as scanner:
        renamed = scanner.scan(photo)
        kept = scanner.scan(uniqlo)
    assert renamed.verdict == Verdict.PASS and renamed.brand == "adidas", renamed.reasons
    reason = renamed.reasons[-1]
    assert reason.startswith("named as a print on a field") and "the Adidas reference" in reason, reason
    lines_up, as_named = (float(found) for found in re.findall(r"(\d\.\d+)\)", reason))
    assert "better than the print lines up with the Zara reference" in reason and lines_up > as_named, reason
    assert kept.brand == "uniqlo" and "field" in kept.timings_ms, kept.reasons
    assert not any(r.startswith("named as a print") for r in kept.reasons), kept.reasons
    off = replace(nearest_names, match=replace(nearest_names.match, reprint_fields=False))
    with Pipeline(off, demo_index_path) as scanner:
        left = scanner.scan(photo)
    assert left.brand == "zara" and "field" not in left.timings_ms, left.reasons


def test_a_light_mark_of_its_own_reads_as_reversed_out_and_holes_showing_the_surface_do_not():
    """White ink inside an orange field is a mark reversed out; a dark ring whose hole shows the goods' grey
    surface is a mark with a hole, whose outline erasing the field would take away."""
    reversed_out = np.full((CROP_SIZE, CROP_SIZE, 3), SURFACE, np.uint8)
    cv2.rectangle(reversed_out, (40, 60), (184, 164), ORANGE, -1)
    _bar_and_disc(reversed_out, WHITE)
    ring = np.full((CROP_SIZE, CROP_SIZE, 3), SURFACE, np.uint8)
    cv2.circle(ring, (112, 112), 70, INK, -1)
    cv2.circle(ring, (112, 112), 35, SURFACE, -1)
    light, holed = read_field(_noisy(reversed_out)), read_field(_noisy(ring))
    assert light is not None and holed is not None  # both read as a field with something inside
    assert light.reversed_out and not holed.reversed_out


def test_the_field_edge_is_painted_out_in_the_field_colour_and_the_mark_kept():
    """Erasing works on the frame the crop was cut from: outside the field's inside everything takes the field's
    colour (the surface and the field's own edge alike), and the mark inside stays as photographed."""
    frame = np.full((300, 400, 3), SURFACE, np.uint8)
    box = Box(88, 38, CROP_SIZE, CROP_SIZE)  # the crop is the frame's box at 1:1
    cv2.rectangle(frame, (box.x + 40, box.y + 60), (box.x + 184, box.y + 164), ORANGE, -1)
    _bar_and_disc(frame, WHITE, (box.x + 112, box.y + 112))
    frame = _noisy(frame)
    reading = read_field(crop(frame, box, CROP_SIZE))
    assert reading is not None
    erased = reading.edge_erased(frame, box)
    assert np.abs(erased[5, 5].astype(int) - ORANGE).max() < 12  # the surface, far from the field
    assert np.abs(erased[box.y + 60, box.x + 40].astype(int) - ORANGE).max() < 12  # the field's corner
    disc_centre = (box.y + 112, box.x + 112 - 25)
    assert (erased[disc_centre] == frame[disc_centre]).all() and erased[disc_centre].min() > 200


def test_a_reversed_print_is_verified_with_the_field_edge_painted_out(demo_index_path):
    """A genuine Dior mark printed white in a black label, named from its copy: aligned as photographed, the
    label's edge makes it "narrower than reference" and `suspect`; with the edge painted out it is read as
    printed in white and passes. erase_field_edge = false keeps the old alignment."""
    photo = colourway_photo(load_mark(BRANDS / "dior" / "logo.png"), "reversed", np.random.default_rng(2))
    config = ScannerConfig()
    with Pipeline(config, demo_index_path) as scanner:
        erased = scanner.scan(photo)
    kept = replace(config, verify=replace(config.verify, erase_field_edge=False))
    with Pipeline(kept, demo_index_path) as scanner:
        as_photographed = scanner.scan(photo)
    assert erased.verdict == Verdict.PASS and erased.brand == "dior", erased.reasons
    assert any(r.startswith("printed in white") for r in erased.reasons), erased.reasons
    assert EDGE_ERASED in erased.reasons and EDGE_ERASED not in as_photographed.reasons
    assert as_photographed.brand == "dior" and as_photographed.verdict == Verdict.SUSPECT, as_photographed.reasons
    assert "narrower than reference" in as_photographed.reasons[0], as_photographed.reasons


def test_a_label_the_located_box_frames_loosely_is_read_from_a_closer_window(demo_index_path, monkeypatch):
    """A small Adidas label beside its long cast shadow: the located box, widened by the shadow, holds the label
    as too small a share to read a field in, and the scan is `unknown` reading that box alone. One of the scene
    windows nearest to any brand frames the label closer; its copy names the print, which then passes."""
    photo = colourway_photo(load_mark(BRANDS / "adidas" / "logo.png"), "reversed", np.random.default_rng(5))
    with Pipeline(ScannerConfig(), demo_index_path) as scanner:
        named = scanner.scan(photo)
    assert named.verdict == Verdict.PASS and named.brand == "adidas", named.reasons
    assert named.reasons[-1].startswith("named as a print on a field"), named.reasons
    monkeypatch.setattr(naming_module, "REPRINT_WINDOWS", 0)
    with Pipeline(ScannerConfig(), demo_index_path) as scanner:
        located_only = scanner.scan(photo)
    assert located_only.verdict == Verdict.UNKNOWN, located_only.reasons
