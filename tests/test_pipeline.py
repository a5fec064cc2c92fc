"""The pipeline on photos generated now, not the bundled ones: guards against tuning to a handful of files."""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from scanner.config import ScannerConfig
from scanner.locate import locate
from scanner.pipeline import Pipeline
from scanner.verdict import TOO_SMALL, Verdict, too_small
from tests.conftest import BRANDS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from counterfeits import counterfeit  # noqa: E402
from scene_photos import scene_photo  # noqa: E402
from synth_photos import load_mark, make_photo, photograph  # noqa: E402

SEED = 424242  # not a seed used for the bundled samples or the calibration runs
ENROLLED = sorted(p.name for p in BRANDS.iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def pipeline(demo_index_path):
    with Pipeline(ScannerConfig(), demo_index_path) as p:
        yield p


def test_genuine_photos_of_enrolled_brands(pipeline):
    """v0 on 40 fresh photos: measured 90% pass and 98% brand top-1 on the 100-photo calibration set."""
    results = [
        pipeline.scan(make_photo(BRANDS / b / "logo.png", "genuine", SEED + i * 7 + n))
        for i, b in enumerate(ENROLLED)
        for n in range(2)
    ]
    expected = [b for b in ENROLLED for _ in range(2)]
    top1 = sum(r.candidates and r.candidates[0].brand_id == b for r, b in zip(results, expected, strict=True))
    passed = sum(r.verdict == Verdict.PASS and r.brand == b for r, b in zip(results, expected, strict=True))
    assert top1 / len(results) >= 0.9
    assert passed / len(results) >= 0.75, Counter(r.verdict for r in results)


@pytest.mark.parametrize("kind", ["blur", "dark", "glare"])
def test_degraded_photos_are_rescan(pipeline, kind):
    results = [pipeline.scan(make_photo(BRANDS / b / "logo.png", kind, SEED + i)) for i, b in enumerate(ENROLLED[:10])]
    assert sum(r.verdict == Verdict.RESCAN for r in results) >= 9


def test_recoloured_logos_are_mostly_suspect(pipeline):
    results = [pipeline.scan(make_photo(BRANDS / b / "logo.png", "colour", SEED + i)) for i, b in enumerate(ENROLLED)]
    recognised = [r for r in results if r.verdict in (Verdict.PASS, Verdict.SUSPECT)]
    assert recognised and sum(r.verdict == Verdict.SUSPECT for r in recognised) / len(recognised) >= 0.8


def test_result_carries_every_stage_timing(pipeline):
    result = pipeline.scan(make_photo(BRANDS / "ferrari" / "logo.png", "genuine", SEED))
    assert list(result.timings_ms) == ["quality", "locate", "embed", "match", "field", "verify", "total"]
    assert result.quality and result.box is not None


def test_the_pair_is_compared_at_the_verifiers_input_side(demo_index_path):
    """[verify] size 0 follows the model (a verifier trained at 224 px must not be fed 128 px upsampled)."""
    photo = make_photo(BRANDS / "ferrari" / "logo.png", "genuine", SEED)
    config = ScannerConfig()
    settings = [(config, None), (replace(config, verify=replace(config.verify, size=96)), 96),
                (replace(config, verify=replace(config.verify, model="")), 128)]  # fmt: skip
    for settings_, expected in settings:
        with Pipeline(settings_, demo_index_path) as pipeline:
            side = expected or pipeline.verifier.size
            result = pipeline.scan(photo)
        assert pipeline.verify_size == side
        assert result.aligned is not None and result.aligned.shape[:2] == (side, side)
        assert result.heatmap is not None and result.heatmap.shape == (side, side)


def test_the_pair_is_aligned_the_way_the_verifiers_pairs_were(demo_index_path, tmp_path):
    """A verifier whose record says "refined" gets the query refined to a homography (scanner/refine.py)."""
    import json
    import shutil

    from scanner.refine import correlation, gradient_image

    config = ScannerConfig()
    settings_by_alignment = {}
    for alignment in ("similarity", "refined"):
        model = tmp_path / f"verifier_{alignment}.tflite"
        shutil.copy(config.verify.model, model)
        model.with_suffix(".json").write_text(json.dumps({"alignment": alignment}))
        settings_by_alignment[alignment] = replace(config, verify=replace(config.verify, model=str(model)))
    closer = 0
    for n, brand in enumerate(("ferrari", "starbucks", "nike")):
        photo = make_photo(BRANDS / brand / "logo.png", "genuine", SEED + n, rich=True)
        fits = []
        for alignment, settings in settings_by_alignment.items():
            refined = alignment == "refined"
            with Pipeline(settings, demo_index_path) as pipeline:
                assert pipeline.refined_alignment is refined
                result = pipeline.scan(photo)
            assert result.aligned is not None and result.reference is not None
            side = result.aligned.shape[0]
            reference = cv2.resize(result.reference, (side, side), interpolation=cv2.INTER_AREA)
            fits.append(correlation(gradient_image(reference), gradient_image(result.aligned), np.eye(3)))
        closer += fits[1] > fits[0]
    assert closer >= 2


def test_rescan_skips_the_model(pipeline):
    result = pipeline.scan(make_photo(BRANDS / "ferrari" / "logo.png", "dark", SEED))
    assert result.verdict == Verdict.RESCAN and "embed" not in result.timings_ms


def test_scene_search_finds_logos_the_located_box_misses(demo_index_path):
    """Whole scenes (the mark on goods amid clutter, tools/scene_photos.py): the located box takes in the
    clutter; searching the frame's windows recognises more of them and names no wrong brand. Measured with
    embedder v2: 9 of 40 with search, 1 without; 0 of 20 unenrolled brands accepted either way."""
    config = ScannerConfig()
    located_only = replace(config, locate=replace(config.locate, search=False))
    scenes = [
        (scene_photo(load_mark(BRANDS / b / "logo.png"), np.random.default_rng(31_000 + 2 * i + n))[0], b)
        for i, b in enumerate(ENROLLED)
        for n in range(2)
    ]
    found = {}
    for name, settings in (("search", config), ("located", located_only)):
        with Pipeline(settings, demo_index_path) as scanner:
            results = [(scanner.scan(scene), brand) for scene, brand in scenes]
        found[name] = sum(r.brand == brand for r, brand in results)
        assert not [r.brand for r, brand in results if r.brand not in (None, brand)]
    assert found["search"] >= found["located"] + 5


def test_scene_search_runs_only_when_the_located_box_matches_nothing(pipeline):
    framed = pipeline.scan(make_photo(BRANDS / "ferrari" / "logo.png", "genuine", SEED))
    assert framed.brand == "ferrari" and "search" not in framed.timings_ms
    rng = np.random.default_rng(5)
    scene = np.clip(rng.normal(120, 30, (480, 640, 3)), 0, 255).astype(np.uint8)  # noise: no logo anywhere
    result = pipeline.scan(scene)
    assert result.verdict == Verdict.UNKNOWN and "search" in result.timings_ms
    assert "rematch" not in result.timings_ms  # an exact index has nothing to look at twice
    assert "any other part of the frame" in result.reasons[-1]


def test_a_logo_located_too_small_is_searched_for_before_asking_to_move_closer(pipeline):
    """Locate sometimes finds one piece of a large mark (an embossed crest, a mark split by a cast shadow):
    its extent is "too small", yet the frame is fine. The scene search looks over the frame first. Measured
    over 60 seeds of rich photos of the 17 demo brands (embedder v2): 14 such frames, 12 recognised as their
    brand, 1 as another (an embossed Porsche crest as The North Face), 1 still sent to move closer. What is
    checked is the naming; whether the verifier then passes the mark is its own matter (since stop 19's
    threshold it flags one of these, the other embossed Porsche crest, at authenticity 0.35)."""
    config = pipeline.config
    shots = [
        (make_photo(BRANDS / brand / "logo.png", "genuine", seed, rich=True), brand)
        for seed in (424253, 424290, 424298)
        for brand in ENROLLED
    ]
    pieces = [(photo, brand) for photo, brand in shots if too_small(locate(photo, config.locate), config)]
    assert len(pieces) >= 8
    results = [(pipeline.scan(photo), brand) for photo, brand in pieces]
    right = sum(r.brand == brand and r.verdict in (Verdict.PASS, Verdict.SUSPECT) for r, brand in results)
    assert right >= 0.75 * len(pieces), [(r.verdict, r.brand, brand) for r, brand in results]
    for result, _ in results:
        assert "search" in result.timings_ms and "embed" not in result.timings_ms  # the piece was not embedded
        if result.verdict == Verdict.RESCAN:
            assert result.reasons == [TOO_SMALL]


def test_a_mark_no_brand_matches_by_similarity_is_named_by_shape(demo_index_path):
    """With a similarity threshold nothing reaches, a genuine mark is still named by the local features it
    shares with its reference, and says so; an unenrolled brand's mark is not; shape_inliers = 0 turns it off."""
    from scanner.imageio import read_image
    from tests.conftest import PHOTOS

    config = ScannerConfig()
    unreachable = replace(  # no similarity threshold reached: neither the located box's nor scene search's
        config, match=replace(config.match, unknown_threshold=0.99, search_threshold=0.99)
    )
    genuine, unenrolled = read_image(PHOTOS / "genuine_ferrari_0.jpg"), read_image(PHOTOS / "unknown_shell_0.jpg")
    with Pipeline(unreachable, demo_index_path) as scanner:
        named, other = scanner.scan(genuine), scanner.scan(unenrolled)
    assert named.verdict == Verdict.PASS and named.brand == "ferrari", named.reasons
    assert named.shape_inliers >= config.match.shape_inliers and "shape" in named.timings_ms
    assert "named by shape" in named.reasons[-1] and named.to_json()["shape_inliers"] == named.shape_inliers
    assert other.verdict == Verdict.UNKNOWN and other.shape_inliers < config.match.shape_inliers
    off = replace(unreachable, match=replace(unreachable.match, shape_inliers=0, align_correlation=0.0))
    with Pipeline(off, demo_index_path) as scanner:
        result = scanner.scan(genuine)
    assert result.verdict == Verdict.UNKNOWN and result.shape_inliers is None and "shape" not in result.timings_ms


def test_a_mark_whose_outline_lines_up_with_a_brand_is_named_by_it(demo_index_path):
    """With neither similarity nor shape naming anything, a genuine mark is named by how well its edges line
    up with its brand's reference once aligned, and verified; an unenrolled brand's mark is not named; the
    correlation is on the result and in the JSON; align_correlation = 0 turns it off."""
    from scanner.imageio import read_image
    from tests.conftest import PHOTOS

    config = ScannerConfig()
    unnamed = replace(
        config, match=replace(config.match, unknown_threshold=0.99, search_threshold=0.99, shape_inliers=0)
    )
    with Pipeline(unnamed, demo_index_path) as scanner:
        named = scanner.scan(read_image(PHOTOS / "genuine_ferrari_0.jpg"))
        recoloured = scanner.scan(read_image(PHOTOS / "colour_ferrari_0.jpg"))
        other = scanner.scan(read_image(PHOTOS / "unknown_shell_0.jpg"))
    assert named.verdict == Verdict.PASS and named.brand == "ferrari", named.reasons
    assert named.align_correlation >= config.match.align_correlation and "outline" in named.timings_ms
    assert "named by outline" in named.reasons[-1] and named.to_json()["align_correlation"] == round(
        named.align_correlation, 4
    )
    quoted = re.search(r"similarity ([0-9.]+), under the ([0-9.]+) that names a brand", named.reasons[-1])
    assert quoted and float(quoted.group(1)) < float(quoted.group(2))
    # The recoloured Ferrari keeps the outline: named, then flagged for its colour.
    assert recoloured.verdict == Verdict.SUSPECT and recoloured.brand == "ferrari", recoloured.reasons
    assert other.verdict == Verdict.UNKNOWN and other.align_correlation < config.match.align_correlation
    assert other.brand is None
    off = replace(unnamed, match=replace(unnamed.match, align_correlation=0.0))
    with Pipeline(off, demo_index_path) as scanner:
        result = scanner.scan(read_image(PHOTOS / "genuine_ferrari_0.jpg"))
    assert result.verdict == Verdict.UNKNOWN and result.align_correlation is None and "outline" not in result.timings_ms


def test_a_near_copy_of_a_brand_is_flagged_and_never_passed(demo_index_path):
    """A scene whose located box matches nothing, with a window as similar to a brand as a located box must be
    that lines up with its reference at least near_correlation (short of naming it by outline), is verified as a
    near copy: a recoloured Dior mark is `suspect`, names Dior and says how it was named; the genuine mark in the
    same scene stays `unknown` (a near copy is never passed) and says why; near_correlation = 0 turns it off."""
    config = ScannerConfig()
    # Only the near copy can name these scenes: the window threshold is out of reach and outline never names.
    near_only = replace(
        config,
        match=replace(
            config.match,
            unknown_threshold=0.5,
            search_threshold=0.99,
            shape_inliers=0,
            align_correlation=0.999,
            near_correlation=0.3,
        ),
    )
    mark = load_mark(BRANDS / "dior" / "logo.png")
    recoloured, _, _ = counterfeit(mark, "colour", 0.9, np.random.default_rng(7))
    seed = 31_000 + 2 * ENROLLED.index("dior")  # a scene whose located box takes in the clutter
    genuine_scene = scene_photo(mark, np.random.default_rng(seed))[0]
    copy_scene = scene_photo(recoloured, np.random.default_rng(seed))[0]
    with Pipeline(near_only, demo_index_path) as scanner:
        copy, genuine = scanner.scan(copy_scene), scanner.scan(genuine_scene)
    assert copy.verdict is Verdict.SUSPECT and copy.brand == "dior" and copy.near_copy, copy.reasons
    assert re.fullmatch(
        r"named as a near copy: the mark nearly lines up with the Dior reference \(edge correlation 0\.\d\d\)",
        copy.reasons[-1],
    )
    assert copy.to_json()["near_copy"] is True and copy.heatmap is not None
    assert near_only.match.near_correlation <= copy.align_correlation < near_only.match.align_correlation
    assert genuine.verdict is Verdict.UNKNOWN and genuine.brand is None and not genuine.near_copy
    assert genuine.authenticity is None and genuine.heatmap is None and "near_copy" not in genuine.to_json()
    assert genuine.reasons[0].startswith("no enrolled brand matches")
    assert re.fullmatch(
        r"Dior lines up nearly \(edge correlation 0\.\d\d\) but shows no deviation to flag: not named",
        genuine.reasons[-1],
    )
    off = replace(near_only, match=replace(near_only.match, near_correlation=0.0))
    with Pipeline(off, demo_index_path) as scanner:
        assert scanner.scan(copy_scene).verdict is Verdict.UNKNOWN


def test_a_match_to_a_photo_reference_is_judged_by_the_photo_threshold(tmp_path, embedder):
    """A brand enrolled from a photo only: a scan whose nearest reference is that photo must clear the
    photo threshold (calibrate_threshold.py --photos-per-brand), not the artwork's."""
    from scanner.enroll import enroll_images
    from scanner.imageio import read_image
    from scanner.index import BrandIndex
    from tests.conftest import PHOTOS

    enrolled = tmp_path / "ferrari_photo.jpg"
    cv2.imwrite(str(enrolled), make_photo(BRANDS / "ferrari" / "logo.png", "genuine", SEED))
    config = ScannerConfig()
    config = replace(
        config,
        match=replace(config.match, shape_inliers=0, align_correlation=0.0),
        locate=replace(config.locate, search=False),
    )
    db = tmp_path / "photos.db"
    with BrandIndex.create(db, embedder.sha256, embedder.dim) as index:
        enroll_images(index, embedder, config.locate, "ferrari", [enrolled], "Ferrari")
    frame = read_image(PHOTOS / "genuine_ferrari_0.jpg")
    with Pipeline(config, db) as scanner:
        named = scanner.scan(frame)
        assert named.brand == "ferrari" and not named.candidates[0].artwork, named.reasons
        assert named.similarity >= scanner.photo_unknown_threshold >= scanner.unknown_threshold
        scanner.photo_unknown_threshold = named.similarity + 0.01  # a stricter photo threshold ...
        refused = scanner.scan(frame)
        scanner.unknown_threshold = 0.0  # ... which the artwork threshold does not override
        still_refused = scanner.scan(frame)
    assert refused.verdict == still_refused.verdict == Verdict.UNKNOWN


def test_a_near_tie_between_two_brands_is_decided_by_outline(tmp_path, embedder):
    """The embedder sees a wordmark and its upside-down mirror image as nearly the same: against an index
    holding Dior and a brand whose mark is Dior's flipped top to bottom (only the R differs), a genuine Dior
    photo comes nearer the flipped brand. Within [match] tie_margin the brand whose reference the mark lines up
    with better names it, and the reason says so; a scan with no near tie pays no alignment for it; tie_margin
    = 0 leaves the embedder's name."""
    from scanner.enroll import enroll_images
    from scanner.imageio import read_image
    from scanner.index import BrandIndex
    from tests.conftest import PHOTOS

    artwork = BRANDS / "dior" / "logo.png"
    flipped = tmp_path / "flipped.png"
    cv2.imwrite(str(flipped), cv2.flip(cv2.imread(str(artwork), cv2.IMREAD_UNCHANGED), 0))
    db = tmp_path / "tie.db"
    config = ScannerConfig()
    with BrandIndex.create(db, embedder.sha256, embedder.dim) as index:
        enroll_images(index, embedder, config.locate, "dior", [artwork], "Dior")
        enroll_images(index, embedder, config.locate, "roid", [flipped], "Roid")
        enroll_images(index, embedder, config.locate, "ferrari", [BRANDS / "ferrari" / "logo.png"], "Ferrari")
    tied = make_photo(artwork, "genuine", 2)  # a photo the embedder puts nearer Roid
    off = replace(config, match=replace(config.match, tie_margin=0.0))
    with Pipeline(off, db) as scanner:
        as_embedded = scanner.scan(tied)
    first, second = as_embedded.candidates[:2]
    assert (first.brand_id, second.brand_id) == ("roid", "dior"), as_embedded.candidates
    assert as_embedded.brand == "roid" and "tie" not in as_embedded.timings_ms
    assert first.similarity - second.similarity < config.match.tie_margin
    with Pipeline(config, db) as scanner:
        untied, clear = scanner.scan(tied), scanner.scan(read_image(PHOTOS / "genuine_ferrari_0.jpg"))
    assert untied.verdict is Verdict.PASS and untied.brand == "dior", untied.reasons
    assert untied.candidates[0].brand_id == "dior" and "tie" in untied.timings_ms
    lines_up = re.fullmatch(
        r"named by outline from a near tie: the mark lines up with the Dior reference \(edge correlation "
        r"(0\.\d{3})\); Roid was as similar \(0\.\d\d against 0\.\d\d\) but lines up (0\.\d{3})",
        untied.reasons[-1],
    )
    assert lines_up is not None, untied.reasons
    assert float(lines_up[1]) > float(lines_up[2])
    assert clear.brand == "ferrari" and "tie" not in clear.timings_ms


def test_a_brand_enrolled_in_a_second_colourway_passes_marks_in_it(refs_copy, embedder, tmp_path):
    """The demo set's recoloured Ferrari is a counterfeit against the one artwork; enrol the same horse in
    that colourway (its hue turned as far as the photo's ink is from the artwork's) and the mark matches the
    new artwork, is verified against it and passes, while the genuine red photo still passes against the red."""
    from scanner.enroll import build_index
    from scanner.imageio import read_image
    from scanner.index import BrandIndex
    from scanner.locate import crop, foreground_mask
    from tests.conftest import PHOTOS

    config = ScannerConfig()
    photo = read_image(PHOTOS / "colour_ferrari_0.jpg")
    query = crop(photo, locate(photo, config.locate).box, 224)
    ink = np.median(query[foreground_mask(query) > 0], axis=0).astype(np.uint8)
    art = cv2.imread(str(refs_copy / "ferrari" / "logo.png"), cv2.IMREAD_UNCHANGED)
    hsv = cv2.cvtColor(np.ascontiguousarray(art[..., :3]), cv2.COLOR_BGR2HSV)
    ink_hue = int(cv2.cvtColor(ink[None, None], cv2.COLOR_BGR2HSV)[0, 0, 0])
    turn = ink_hue - int(np.median(hsv[..., 0][art[..., 3] > 127]))
    hsv[..., 0] = (hsv[..., 0].astype(int) + turn) % 180
    art[..., :3] = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)

    verdicts = {}
    for colourways in (1, 2):
        if colourways == 2:
            cv2.imwrite(str(refs_copy / "ferrari" / "logo_second_colourway.png"), art)
        path = tmp_path / f"{colourways}.db"
        with BrandIndex.create(path, embedder.sha256, embedder.dim) as index:
            build_index(refs_copy, index, embedder, config.locate)
        with Pipeline(config, path) as scanner:
            for name in ("colour_ferrari_0.jpg", "genuine_ferrari_0.jpg"):
                result = scanner.scan(read_image(PHOTOS / name))
                verdicts[colourways, name] = (result.verdict, result.brand, result.candidates[0].reference_id)
    assert verdicts[1, "colour_ferrari_0.jpg"][:2] == (Verdict.SUSPECT, "ferrari")
    assert verdicts[2, "colour_ferrari_0.jpg"][:2] == (Verdict.PASS, "ferrari")
    assert verdicts[2, "genuine_ferrari_0.jpg"][:2] == (Verdict.PASS, "ferrari")
    # Each matched its own colourway and was verified against it.
    assert verdicts[2, "colour_ferrari_0.jpg"][2] != verdicts[2, "genuine_ferrari_0.jpg"][2]


def _photographed(mark: np.ndarray) -> np.ndarray:
    """A handheld photo of an RGBA mark, as the bundled samples were taken (tools/synth_photos.py)."""
    return photograph(mark, np.random.default_rng(SEED))


def test_a_mark_drawn_bolder_is_suspect_and_says_so(pipeline):
    """A stroke counterfeit the pair model passes, through the whole scan: the McDonald's arches drawn 2 px
    bolder, photographed now, come out `suspect` with the stroke named first and the offset in the JSON; the
    artwork as drawn, photographed the same way, passes."""
    from tests.conftest import drawn_bolder

    artwork = cv2.resize(load_mark(BRANDS / "mcdonalds" / "logo.png"), (256, 256), interpolation=cv2.INTER_AREA)
    genuine = pipeline.scan(_photographed(artwork))
    bolder = pipeline.scan(_photographed(drawn_bolder(artwork, 2)))
    assert (genuine.verdict, genuine.brand) == (Verdict.PASS, "mcdonalds")
    assert genuine.stroke_offset is not None and abs(genuine.stroke_offset) < 0.5
    assert (bolder.verdict, bolder.brand) == (Verdict.SUSPECT, "mcdonalds"), bolder.reasons
    assert re.fullmatch(r"lines drawn about \d+% thicker than reference", bolder.reasons[0]), bolder.reasons
    assert bolder.to_json()["stroke_offset"] > pipeline.config.verify.stroke_bound


def test_a_mark_with_one_part_recoloured_is_suspect_whatever_its_score(demo_index_path):
    """The Starbucks mark with its lower left quarter printed magenta, photographed now. With the score's
    threshold at nothing, only the part-colour check can flag it: it does, naming where, and with the check off
    the same photo passes; the mark as drawn passes either way."""
    artwork = cv2.resize(load_mark(BRANDS / "starbucks" / "logo.png"), (256, 256), interpolation=cv2.INTER_AREA)
    recoloured = artwork.copy()
    quarter = np.zeros(artwork.shape[:2], bool)
    quarter[128:, :128] = artwork[128:, :128, 3] > 127
    recoloured[quarter, :3] = (180, 40, 200)
    photos = {name: _photographed(mark) for name, mark in (("genuine", artwork), ("recoloured", recoloured))}
    verdicts = {}
    shipped = ScannerConfig().verify.part_colour_bound
    for bound in (shipped, 0.0):
        verify = replace(ScannerConfig().verify, suspect_threshold=1e-6, part_colour_bound=bound)
        with Pipeline(replace(ScannerConfig(), verify=verify), demo_index_path) as scanner:
            for name, photo in photos.items():
                result = scanner.scan(photo)
                verdicts[bound, name] = (result.verdict, result.brand, result.reasons[0])
    assert verdicts[shipped, "recoloured"] == (
        Verdict.SUSPECT,
        "starbucks",
        "one part in another colour near bottom left",
    )
    assert verdicts[0.0, "recoloured"][:2] == (Verdict.PASS, "starbucks")
    assert verdicts[shipped, "genuine"][:2] == verdicts[0.0, "genuine"][:2] == (Verdict.PASS, "starbucks")


def test_a_part_in_another_colour_is_named_before_the_whole_marks_colour(demo_index_path):
    """A recoloured part also moves the whole mark's colours: where both colour checks fire (the whole mark's
    bound set to nothing here), the part's words, which say where, come first."""
    artwork = cv2.resize(load_mark(BRANDS / "starbucks" / "logo.png"), (256, 256), interpolation=cv2.INTER_AREA)
    recoloured = artwork.copy()
    quarter = np.zeros(artwork.shape[:2], bool)
    quarter[128:, :128] = artwork[128:, :128, 3] > 127
    recoloured[quarter, :3] = (180, 40, 200)
    verify = replace(ScannerConfig().verify, suspect_threshold=1e-6, colour_bound=1e-6)
    with Pipeline(replace(ScannerConfig(), verify=verify), demo_index_path) as scanner:
        result = scanner.scan(_photographed(recoloured))
    assert result.verdict is Verdict.SUSPECT and result.colour_deviation > 1e-6
    assert result.reasons[0] == "one part in another colour near bottom left", result.reasons
    assert any(r.startswith("colour differs from reference") for r in result.reasons[1:]), result.reasons
