"""The shipped authenticity pair verifier, under every installed runtime, on real aligned pairs."""

import sys
from dataclasses import replace

import cv2
import numpy as np
import pytest

from scanner.align import align, align_in_frame
from scanner.colour import colour_deviation
from scanner.config import DEFAULT_MODEL, DEFAULT_VERIFIER, LocateConfig
from scanner.enroll import frame_reference
from scanner.exc import ModelError
from scanner.imageio import read_image
from scanner.index import ReferenceImage
from scanner.locate import CROP_SIZE, crop, locate
from scanner.pair_model import PairVerifier, pair_input
from scanner.runtime import available_runtimes
from scanner.verdict import Verdict, decide_authenticity
from scanner.verify import judge, region_named, verify
from tests.conftest import BRANDS, PHOTOS, ROOT, drawn_bolder

RUNTIMES = available_runtimes()


def _reference(brand: str) -> ReferenceImage:
    image = read_image(BRANDS / brand / "logo.png", keep_alpha=True)
    ref_crop, mask, _ = frame_reference(image, LocateConfig())
    return ReferenceImage(1, brand, ref_crop, mask)


def _query(name: str) -> np.ndarray:
    frame = read_image(PHOTOS / name)
    return crop(frame, locate(frame, LocateConfig()).box, CROP_SIZE)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_shipped_verifier_is_full_integer_with_a_calibrated_threshold(runtime):
    verifier = PairVerifier(DEFAULT_VERIFIER, runtime=runtime)
    assert verifier.model.input.shape == (1, 128, 128, 6) and verifier.model.input.dtype == np.int8
    assert verifier.model.output.dtype == np.int8 and verifier.grid == 16
    assert 0.0 < verifier.suspect_threshold < 1.0
    assert verifier.calibration["calibrated_on"].startswith("heldout-cal")  # the split, pooled with its two-view one
    assert verifier.refined  # v5 and v6 were trained on pairs aligned by scanner/refine.py


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_genuine_scores_above_the_threshold_and_a_recoloured_mark_below(runtime):
    verifier = PairVerifier(DEFAULT_VERIFIER, runtime=runtime)
    genuine = verify(_query("genuine_ferrari_0.jpg"), _reference("ferrari"), 128, verifier)
    recoloured = verify(_query("colour_ferrari_0.jpg"), _reference("ferrari"), 128, verifier)
    assert genuine.authenticity >= verifier.suspect_threshold > recoloured.authenticity
    assert genuine.deviation.shape == (128, 128) and genuine.aligned.shape == (128, 128, 3)
    # The map is where it deviates: more of it over the recoloured mark than over the genuine one.
    assert recoloured.deviation.mean() > genuine.deviation.mean()
    assert recoloured.reasons


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_int8_deviation_map_is_not_clipped(runtime):
    """The first int8 exports clipped every map cell at 0 logits (0.5 after the sigmoid): a whole-mark
    colour change must read as strong deviation, above that, as the float model has it (0.96 here)."""
    verifier = PairVerifier(DEFAULT_VERIFIER, runtime=runtime)
    recoloured = verify(_query("colour_ferrari_0.jpg"), _reference("ferrari"), 128, verifier)
    assert recoloured.deviation.max() > 0.75
    assert "differs from reference across the whole mark" in recoloured.reasons


def test_exposure_is_levelled_before_the_model_sees_it():
    image = np.random.default_rng(0).integers(20, 120, (128, 128, 3), dtype=np.uint8)
    brighter = np.clip(image.astype(np.float32) * 1.8, 0, 255).astype(np.uint8)
    pair, brighter_pair = pair_input(image, image), pair_input(brighter, image)
    assert pair.shape == (128, 128, 6)
    assert abs(pair[..., :3].mean() - brighter_pair[..., :3].mean()) < 1.0


@pytest.mark.skipif(len(RUNTIMES) < 2, reason="needs both ai-edge-litert and tflite-runtime")
def test_both_runtimes_agree_on_the_verifier():
    aligned = align(_query("genuine_nike_0.jpg"), _reference("nike"), 128)
    scores = [PairVerifier(DEFAULT_VERIFIER, runtime=r).score(aligned.aligned, aligned.reference)[0] for r in RUNTIMES]
    assert abs(scores[0] - scores[1]) < 0.05


def test_an_embedder_is_refused_as_a_verifier():
    with pytest.raises(ModelError, match="is not a pair verifier"):
        PairVerifier(DEFAULT_MODEL)


def test_missing_verifier_names_the_setting(tmp_path):
    with pytest.raises(ModelError, match=r"\[verify\] model"):
        PairVerifier(tmp_path / "nope.tflite")


def test_the_v0_rules_still_work_without_a_model():
    genuine = verify(_query("genuine_ferrari_0.jpg"), _reference("ferrari"), 128, None)
    recoloured = verify(_query("colour_ferrari_0.jpg"), _reference("ferrari"), 128, None)
    assert genuine.authenticity >= 0.5 > recoloured.authenticity  # 0.5: the v0 rules' threshold
    assert recoloured.reasons[0].startswith("colour differs from reference")


def test_the_model_says_how_its_pairs_were_aligned_and_a_wrong_record_is_refused(tmp_path):
    import json
    import shutil

    model = tmp_path / "verifier.tflite"
    shutil.copy(DEFAULT_VERIFIER, model)
    assert PairVerifier(model).alignment == "similarity" and not PairVerifier(model).refined  # no record: v1-v3
    model.with_suffix(".json").write_text(json.dumps({"alignment": "refined"}))
    assert PairVerifier(model).refined
    model.with_suffix(".json").write_text(json.dumps({"alignment": "optical flow"}))
    with pytest.raises(ModelError, match="unknown alignment 'optical flow'"):
        PairVerifier(model)


def test_a_mark_in_another_colour_is_suspect_whatever_its_score():
    """The demo set's colour counterfeit (the Ferrari horse printed in another colour) lies far from any mix
    of the artwork's ink, the surface and grey, the genuine photo close to it; past the bound the mark is
    suspect even where the score alone would pass it (threshold 0), with the colour named first."""
    verifier = PairVerifier(DEFAULT_VERIFIER)
    reference = _reference("ferrari")
    genuine = align(_query("genuine_ferrari_0.jpg"), reference, 128, refined=True)
    recoloured = align(_query("colour_ferrari_0.jpg"), reference, 128, refined=True)
    assert genuine.inks is not None and recoloured.inks is not None
    assert colour_deviation(genuine.aligned, genuine.inks) < 10
    assert colour_deviation(recoloured.aligned, recoloured.inks) > 30

    checked = judge(recoloured, verifier, threshold=0.0, colour_bound=23.6)
    assert checked.off_colour and checked.reasons[0].startswith("colour differs from reference"), checked.reasons
    assert checked.deviation[recoloured.ref_mask > 0].min() >= 0.8  # the heatmap shows the whole mark off
    assert decide_authenticity(checked, 0.0)[0] is Verdict.SUSPECT
    unchecked = judge(recoloured, verifier, threshold=0.0, colour_bound=0.0)
    assert not unchecked.off_colour and unchecked.colour_deviation is None
    assert decide_authenticity(unchecked, 0.0)[0] is Verdict.PASS
    assert not judge(genuine, verifier, threshold=0.0, colour_bound=23.6).off_colour


@pytest.mark.parametrize(("erosion", "offset_below"), [(7, -2.5), (5, -1.5)])
def test_a_mark_drawn_thinner_and_flagged_says_so(erosion, offset_below):
    """The McDonald's arches drawn 3 px and 2 px thinner on each side (at the 256 px artwork): the score flags
    them, and their strokes lie about 2.7 and 1.9 px inside the artwork's, further than all but 1% of the
    calibration genuine photos, so the first reason names the thinner lines rather than where the map is hottest
    or parts missing along them. The arches as drawn get no such words, flagged or not."""
    sys.path.insert(0, str(ROOT / "tools"))
    from synth_photos import photograph

    verifier = PairVerifier(DEFAULT_VERIFIER)
    artwork = cv2.resize(read_image(BRANDS / "mcdonalds" / "logo.png", keep_alpha=True), (256, 256))
    thinner = artwork.copy()
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (erosion, erosion))
    thinner[..., 3] = cv2.erode(artwork[..., 3], kernel)
    judged = {}
    for name, mark in (("genuine", artwork), ("thinner", thinner)):
        frame = photograph(mark, np.random.default_rng(5))
        a, _ = align_in_frame(frame, locate(frame, LocateConfig()).box, _reference("mcdonalds"), 128, refined=True)
        judged[name] = judge(a, verifier, 1.0, stroke_bound=1.24)  # 1.0: every mark is worded
    drawn = judged["thinner"]
    assert drawn.stroke_offset < offset_below and not drawn.thick_strokes
    assert drawn.authenticity < verifier.suspect_threshold  # the score flags it
    assert drawn.reasons[0].startswith("lines drawn about") and drawn.reasons[0].endswith("thinner than reference")
    assert not any("thinner" in r for r in judged["genuine"].reasons), judged["genuine"].reasons


@pytest.mark.parametrize("brand", ["ferrari", "bmw"])
def test_no_colour_words_where_the_colour_check_read_the_inks_as_genuine(brand):
    """A silhouette segmented onto the surface (as relief, glare or a shadow can make it) gives the rules the
    surface's hue: "colour differs". Where the colour check read the genuine photo's inks and found them
    within its bound, those words would contradict it and are dropped; with the check off they stay."""
    verifier = PairVerifier(DEFAULT_VERIFIER)
    a = align(_query(f"genuine_{brand}_0.jpg"), _reference(brand), 128, refined=True)
    on_the_surface = replace(a, query_mask=255 - a.query_mask)
    unmeasured = judge(on_the_surface, verifier, threshold=1.0, colour_bound=0.0)  # 1.0: every mark is worded
    assert any(r.startswith("colour differs") for r in unmeasured.reasons), unmeasured.reasons
    measured = judge(on_the_surface, verifier, threshold=1.0, colour_bound=23.6)
    assert measured.colour_deviation is not None and measured.colour_deviation < 23.6
    assert not any(r.startswith("colour differs") for r in measured.reasons), measured.reasons


def test_a_mark_drawn_thicker_is_suspect_whatever_its_score():
    """The McDonald's arches drawn 2 px bolder (at the 256 px artwork) and photographed: the pair model passes
    them, but aligned in the frame their strokes lie about 1.5 px (at 256) outside the artwork's, past the
    bound, so the mark is suspect with the stroke named first. The same photo of the artwork as drawn stays
    well inside it."""
    sys.path.insert(0, str(ROOT / "tools"))
    from synth_photos import photograph

    verifier = PairVerifier(DEFAULT_VERIFIER)
    reference = _reference("mcdonalds")
    artwork = cv2.resize(read_image(BRANDS / "mcdonalds" / "logo.png", keep_alpha=True), (256, 256))
    judged = {}
    for name, mark in (("genuine", artwork), ("bolder", drawn_bolder(artwork, 2))):
        frame = photograph(mark, np.random.default_rng(5))
        a, _ = align_in_frame(frame, locate(frame, LocateConfig()).box, reference, 128, refined=True)
        judged[name] = judge(a, verifier, verifier.suspect_threshold, stroke_bound=1.24)
    genuine, bolder = judged["genuine"], judged["bolder"]
    assert abs(genuine.stroke_offset) < 0.5 and not genuine.thick_strokes
    assert decide_authenticity(genuine, verifier.suspect_threshold)[0] is Verdict.PASS
    assert bolder.authenticity >= verifier.suspect_threshold  # the score alone passes it
    assert bolder.stroke_offset > 1.24 and bolder.thick_strokes and bolder.reasons[0].startswith("lines drawn about")
    assert decide_authenticity(bolder, verifier.suspect_threshold)[0] is Verdict.SUSPECT


def test_a_flagged_mark_with_no_other_words_is_placed_where_its_heatmap_is_hottest():
    """With nothing else to say, the words name where the map the screen shows is hottest, however faint;
    a map with nothing in it (a genuine Ferrari's, peaking near 0.01) names no place."""
    verifier = PairVerifier(DEFAULT_VERIFIER)
    faint = judge(align(_query("genuine_starbucks_0.jpg"), _reference("starbucks"), 128, refined=True), verifier, 1.0)
    assert len(faint.reasons) == 1 and faint.reasons[0].startswith("differs most from reference near ")
    place = faint.reasons[0].removeprefix("differs most from reference near ")
    region = region_named(place, faint.deviation.shape)
    assert region is not None and region.flat[int(np.argmax(faint.deviation))]
    blank = judge(align(_query("genuine_ferrari_0.jpg"), _reference("ferrari"), 128, refined=True), verifier, 1.0)
    assert blank.reasons == [] and blank.deviation.max() < 0.05
    assert decide_authenticity(blank, 1.0)[1] == ["deviates from the genuine reference"]
