"""Genuine colourways (scanner/colourway.py): a mark printed in black, grey or white, or white on a coloured
ground, is told from a counterfeit's colour and an embossed mark, and scored in the artwork's colours."""

import sys
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from scanner.colourway import (
    COMPARED,
    ColourwayLayout,
    colourway_layout,
    colourway_said,
    in_artwork_colours,
    read_colourway,
)
from scanner.config import ScannerConfig
from scanner.pipeline import Pipeline
from scanner.verdict import Verdict
from tests.conftest import BRANDS, ROOT

sys.path.insert(0, str(ROOT / "tools"))
from synth_photos import COLOURWAYS, colourway, colourway_photo, counterfeit_colourway_photo, load_mark  # noqa: E402

ORANGE, BLACK, WHITE = (20, 120, 240), (25, 25, 25), (240, 240, 240)  # BGR
TAN, NAVY, MAGENTA, CHARCOAL = (120, 160, 200), (90, 30, 20), (170, 60, 200), (60, 60, 60)


def _ring_mask() -> np.ndarray:
    """A thick ring, as a mark with strokes and a hole."""
    mask = np.zeros((128, 128), np.uint8)
    cv2.circle(mask, (64, 64), 40, 255, 14)
    return mask


def _artwork(ink: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(reference crop, mask): the ring in `ink` on the index's white background."""
    mask = _ring_mask()
    reference = np.full((128, 128, 3), 255, np.uint8)
    reference[mask > 0] = ink
    return reference, mask


def _layout(reference: np.ndarray, mask: np.ndarray) -> ColourwayLayout:
    layout = colourway_layout(reference, mask)
    assert layout is not None
    return layout


def _printed(mark: tuple[int, int, int], ground: tuple[int, int, int]) -> np.ndarray:
    """The ring printed flat in `mark` on `ground`, with a little sensor noise."""
    image = np.empty((128, 128, 3), np.float32)
    image[:] = ground
    image[_ring_mask() > 0] = mark
    noise = np.random.default_rng(0).normal(0, 3, image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    ("ink", "mark", "ground", "words"),
    [
        (ORANGE, WHITE, CHARCOAL, "printed in white"),  # a white print on dark goods
        (ORANGE, WHITE, NAVY, "printed in white on a coloured ground"),  # ...on goods of a colour
        (ORANGE, BLACK, WHITE, "printed in black"),  # a black print of a coloured mark
        (ORANGE, WHITE, ORANGE, "printed in white on a coloured ground"),  # reversed out of a field
        (BLACK, WHITE, CHARCOAL, "printed in white"),  # a black artwork printed white
    ],
)
def test_a_neutral_print_is_read_as_a_colourway(ink, mark, ground, words):
    reference, mask = _artwork(ink)
    way = read_colourway(_printed(mark, ground), _layout(reference, mask))
    assert way is not None
    assert way.words == f"{words}: compared in the artwork's colours"


@pytest.mark.parametrize(
    ("ink", "mark", "ground"),
    [
        (ORANGE, ORANGE, NAVY),  # printed as drawn, on dark goods
        (ORANGE, ORANGE, TAN),  # printed as drawn
        (ORANGE, MAGENTA, TAN),  # a counterfeit's turned hue: for the colour checks, not explained away
        (BLACK, MAGENTA, WHITE),  # a neutral mark printed in a colour: likewise
        (BLACK, BLACK, TAN),  # a black mark printed black
    ],
)
def test_a_mark_in_a_colour_or_as_drawn_is_left_as_photographed(ink, mark, ground):
    reference, mask = _artwork(ink)
    assert read_colourway(_printed(mark, ground), _layout(reference, mask)) is None


def test_an_embossed_mark_is_no_colourway():
    """No ink: the surface itself, lit along one side of each stroke and shaded along the other, and a little
    darker on top (as tools/synth_photos.py embosses)."""
    reference, mask = _artwork(ORANGE)
    relief = cv2.GaussianBlur(mask.astype(np.float32) / 255, (0, 0), 1.5)
    light = cv2.Sobel(relief, cv2.CV_32F, 1, 0, ksize=3) + cv2.Sobel(relief, cv2.CV_32F, 0, 1, ksize=3)
    surface = np.full((128, 128, 3), 220, np.float32)
    embossed = surface * (1 + 0.9 * light[..., None]) * (1 - 0.12 * relief[..., None])
    assert read_colourway(np.clip(embossed, 0, 255).astype(np.uint8), _layout(reference, mask)) is None


def test_a_repainted_print_takes_the_artworks_colours_and_keeps_its_shape():
    reference, mask = _artwork(ORANGE)
    photo = _printed(WHITE, NAVY)
    way = read_colourway(photo, _layout(reference, mask))
    assert way is not None
    repainted = in_artwork_colours(photo, _layout(reference, mask), way).astype(np.float32)
    inside = cv2.erode(mask, np.ones((5, 5), np.uint8)) > 0
    outside = cv2.dilate(mask, np.ones((5, 5), np.uint8)) == 0
    assert np.abs(np.median(repainted[inside], axis=0) - ORANGE).max() < 12
    assert np.abs(np.median(repainted[outside], axis=0) - 255).max() < 12
    # The ring is where it was: each pixel nearer the ink than the background lies on the mark.
    inked = np.linalg.norm(repainted - ORANGE, axis=2) < np.linalg.norm(repainted - 255, axis=2)
    overlap = (inked & (mask > 0)).sum() / (inked | (mask > 0)).sum()
    assert overlap > 0.95


def test_the_generator_prints_each_colourway():
    mark = load_mark(BRANDS / "starbucks" / "logo.png")
    rng = np.random.default_rng(0)
    inked = mark[..., 3] > 127
    dark, light = colourway(mark, "one_colour_dark", rng), colourway(mark, "one_colour_light", rng)
    assert dark[..., :3][inked].max() < 50 and light[..., :3][inked].min() > 220
    assert np.array_equal(dark[..., 3], mark[..., 3])  # the same mark, another ink
    reversed_out = colourway(mark, "reversed", rng)
    assert reversed_out.shape[0] > mark.shape[0]  # grown to hold the field
    field = reversed_out[..., 3] > 127
    assert field.sum() > 1.2 * inked.sum()
    brand = np.median(mark[..., :3][inked], axis=0)
    assert np.abs(np.median(reversed_out[..., :3][field], axis=0) - brand).max() < 40
    with pytest.raises(ValueError, match="colourway"):
        colourway(mark, "gold foil", rng)
    assert set(COLOURWAYS) == {"one_colour_dark", "one_colour_light", "reversed"}


def _pipelines(db: Path) -> tuple[Pipeline, Pipeline]:
    config = ScannerConfig()
    return Pipeline(config, db), Pipeline(replace(config, verify=replace(config.verify, colourways=False)), db)


def test_a_white_print_of_a_genuine_mark_passes_where_as_photographed_it_is_flagged(demo_index_path):
    """A generated photo of the Apple mark printed white on goods, through the shipped models."""
    rng = np.random.default_rng(0)
    photo = colourway_photo(load_mark(BRANDS / "apple" / "logo.png"), "one_colour_light", rng)
    with_colourways, as_photographed = _pipelines(demo_index_path)
    with with_colourways, as_photographed:
        judged, raw = with_colourways.scan(photo), as_photographed.scan(photo)
    assert judged.brand == raw.brand == "apple"
    assert raw.verdict is Verdict.SUSPECT
    assert judged.verdict is Verdict.PASS
    assert "printed in white: compared in the artwork's colours" in judged.reasons


def test_a_counterfeit_printed_white_is_still_flagged(demo_index_path):
    mark = load_mark(BRANDS / "apple" / "logo.png")
    rng = np.random.default_rng(0)
    photo, _, _ = counterfeit_colourway_photo(mark, "moved", 0.7, "one_colour_light", rng)
    with_colourways, _ = _pipelines(demo_index_path)
    with with_colourways:
        result = with_colourways.scan(photo)
    assert result.brand == "apple"
    assert result.verdict is Verdict.SUSPECT
    assert result.reasons[-1] == "printed in white: compared in the artwork's colours"


def test_the_colourway_is_read_back_from_the_reasons():
    assert (
        colourway_said(["consistent with the genuine reference", "printed in black: " + COMPARED]) == "printed in black"
    )
    assert colourway_said(["consistent with the genuine reference"]) is None


SAMPLES = ROOT / "samples" / "colourways"


def test_the_bundled_colourway_photos(demo_index_path):
    """samples/colourways (tools/make_sample_colourways.py): each gets the verdict its labels name, a pass says
    how it was printed, and each genuine mark scores higher in the artwork's colours than as photographed, where
    the white Apple mark is flagged (0.07; the two BMW prints score 0.42 and 0.40 as photographed)."""
    from scanner.display import shown_reason
    from scanner.evaluate import read_labels

    samples = read_labels(SAMPLES / "labels.csv")
    assert {s.colourway for s in samples} == set(COLOURWAYS)
    with_colourways, as_photographed = _pipelines(demo_index_path)
    with with_colourways, as_photographed:
        for sample in samples:
            _, judged = with_colourways.scan_file(sample.file)
            _, raw = as_photographed.scan_file(sample.file)
            assert (judged.verdict.value, judged.brand) == (sample.expected, sample.brand), sample.file.name
            if sample.expected == "suspect" or sample.file.name == "genuine_white_apple.jpg":
                assert raw.verdict is Verdict.SUSPECT, sample.file.name
            if judged.verdict is Verdict.PASS:
                assert shown_reason(judged).startswith("consistent with the genuine reference (printed in ")
                assert judged.authenticity > raw.authenticity, sample.file.name


def test_the_sample_colourways_recipe_makes_the_bundled_photos(tmp_path):
    from make_sample_colourways import main as make_samples

    assert make_samples(["--out", str(tmp_path)]) == 0
    assert (tmp_path / "labels.csv").read_text() == (SAMPLES / "labels.csv").read_text()
    for bundled in sorted(SAMPLES.glob("*.jpg")):
        made = cv2.imread(str(tmp_path / bundled.name))
        assert np.abs(made.astype(int) - cv2.imread(str(bundled))).mean() < 0.5, bundled


def test_a_verifier_trained_on_colourways_scores_them_as_photographed(demo_index_path):
    """models/verifier_v7_int8.json records `colourways`: its pairs included such prints, so the pipeline does
    not repaint for it, while it does for v6 (trained without them)."""
    config = ScannerConfig()
    v7 = replace(config, verify=replace(config.verify, model=str(ROOT / "models" / "verifier_v7_int8.tflite")))
    rng = np.random.default_rng(0)
    mark = load_mark(BRANDS / "apple" / "logo.png")
    photo = colourway_photo(mark, "one_colour_light", rng)
    with Pipeline(config, demo_index_path) as shipped, Pipeline(v7, demo_index_path) as trained:
        assert shipped.repaints_colourways and not trained.repaints_colourways
        assert trained.verifier is not None and trained.verifier.trained_on_colourways
        judged = trained.scan(photo)
    assert judged.verdict is Verdict.PASS and judged.brand == "apple"
    assert colourway_said(judged.reasons) is None  # scored as photographed: nothing repainted to say


def test_pair_sets_say_whether_they_hold_colourways(tmp_path):
    """training.load_pair_sets: the largest --colourways share of the sets joined (a set written before the
    option held none), which train_verifier records in the model's .json."""
    from training import load_pair_sets

    def pair_set(name: str, **extra: np.ndarray) -> Path:
        path = tmp_path / name
        np.savez(
            path,
            references=np.zeros((1, 8, 8, 3), np.uint8),
            reference_index=np.zeros(2, np.int32),
            aligned=np.zeros((2, 8, 8, 3), np.uint8),
            alignment=np.array("refined"),
            **extra,
        )
        return path

    old, printed = pair_set("old.npz"), pair_set("printed.npz", colourways=np.float32(0.5))
    assert float(load_pair_sets([old])["colourways"]) == 0.0
    assert float(load_pair_sets([old, printed])["colourways"]) == 0.5


def test_the_evidence_shows_the_query_as_it_was_compared(demo_index_path, tmp_path):
    """--evidence for a repainted scan adds the query in the artwork's colours (query_compared) beside the
    photo's; a scan printed as drawn has none, and a gallery row stays four images wide either way."""
    from scanner.display import evidence_strip, write_evidence

    with Pipeline(ScannerConfig(), demo_index_path) as pipeline:
        frame, white = pipeline.scan_file(SAMPLES / "genuine_white_apple.jpg")
        _, drawn = pipeline.scan_file(ROOT / "samples" / "photos" / "genuine_apple_0.jpg")
    written = write_evidence(tmp_path, "white", white)
    assert list(written) == ["query_aligned", "query_compared", "reference", "heatmap"]
    compared = cv2.imread(written["query_compared"])
    reference = cv2.imread(written["reference"])
    assert (
        np.abs(compared.astype(int) - reference).mean()
        < np.abs(cv2.imread(written["query_aligned"]).astype(int) - reference).mean()
    )
    assert "query_compared" not in write_evidence(tmp_path, "drawn", drawn)
    assert evidence_strip(frame, white).shape[1] == 4 * 112
