import cv2
import numpy as np
import pytest

from scanner.align import RULES_SIZE, align, align_in_frame, reframed_box, shape_inliers, tolerant_overlap
from scanner.config import LocateConfig
from scanner.index import ReferenceImage
from scanner.locate import Box, crop, locate
from scanner.refine import anisotropy
from scanner.verify import (
    OVERLAP_PASS,
    Piece,
    RuleFindings,
    _deviation_reasons,
    _extent_aspect,
    _hottest,
    _lit_first,
    _where,
    region_named,
    rule_findings,
    verify,
)


def _artwork() -> tuple[np.ndarray, np.ndarray]:
    """A red mark on white: a wordmark over a disc (letters give local features to align on), with its mask."""
    mask = np.zeros((224, 224), np.uint8)
    cv2.putText(mask, "ACME", (22, 100), cv2.FONT_HERSHEY_DUPLEX, 1.9, 255, 7)
    cv2.circle(mask, (110, 160), 35, 255, -1)
    image = np.full((224, 224, 3), 255, np.uint8)
    image[mask > 0] = (30, 30, 200)
    return image, mask


@pytest.fixture
def reference() -> ReferenceImage:
    image, mask = _artwork()
    box = locate(image, LocateConfig()).box  # references are framed like queries (see enroll.prepare_reference)
    return ReferenceImage(1, "demo", crop(image, box, 224), crop(mask, box, 224))


def _photo(image: np.ndarray) -> np.ndarray:
    """The artwork printed on a grey surface in a 640x480 frame, then located and cropped as a scan is."""
    rng = np.random.default_rng(0)
    frame = np.clip(rng.normal(150, 3, (480, 640, 3)), 0, 255).astype(np.uint8)
    ink = image.min(axis=2) < 250
    region = frame[130:354, 200:424]
    region[ink] = image[ink]
    return crop(frame, locate(frame, LocateConfig()).box, 224)


def test_genuine_copy_passes(reference):
    result = verify(_photo(_artwork()[0]), reference)
    assert result.authenticity > 0.9 and result.reasons == []


def test_missing_element_is_flagged_and_located(reference):
    image, _ = _artwork()
    cv2.circle(image, (110, 160), 37, (255, 255, 255), -1)  # remove the disc
    result = verify(_photo(image), reference)
    assert result.authenticity < 0.5
    assert any(r.startswith("element missing near bottom") for r in result.reasons), result.reasons


def test_stretched_mark_is_reported_wider(reference):
    image, _ = _artwork()
    stretched = cv2.resize(image, (300, 224))[:, 38:262]  # 34% wider, cropped back to 224
    result = verify(_photo(stretched), reference)
    assert any("wider than reference" in r for r in result.reasons), result.reasons
    assert result.authenticity < 0.5


def test_the_proportions_are_read_from_the_fitted_refinement_not_the_silhouette(reference):
    """A 20% wider mark reads about 20% wider from the refinement as fitted; a mark whose disc is printed
    near the surface's grey reads square, where its segmented silhouette (the letters alone) reads nearly
    three times as wide: the words the scanner gave such marks before."""
    image, _ = _artwork()
    wider = cv2.resize(image, (269, 224))[:, 22:246]
    stretched = align(_photo(wider), reference, RULES_SIZE, refined=True)
    assert stretched.fitted is not None and rule_findings(stretched).aspect_change == pytest.approx(0.2, abs=0.05)
    faint = image.copy()
    faint[(faint[..., 2] == 200) & (np.arange(224)[:, None] > 120)] = (160, 150, 150)  # the disc, near the surface
    recoloured = align(_photo(faint), reference, RULES_SIZE, refined=True)
    assert recoloured.fitted is not None and abs(rule_findings(recoloured).aspect_change) < 0.08
    silhouette = _extent_aspect(recoloured.warped) / _extent_aspect(recoloured.ref_mask) - 1
    assert abs(silhouette) > 0.2


def test_a_missing_part_is_named_where_it_lies_not_where_the_slivers_centre():
    """Five bars registered 3 px off leave a sliver along each, as many pixels as the badge left out at the top
    right; named by the centroid of everything missing, the badge read as missing "near centre"."""
    reference = np.zeros((128, 128), np.uint8)
    warped = np.zeros_like(reference)
    for x in (10, 26, 42, 58, 74):
        reference[50:110, x : x + 8] = 255
        warped[50:110, x + 3 : x + 11] = 255
    reference[8:32, 100:124] = 255  # the badge, left out of `warped`
    _, pieces = _deviation_reasons(warped, reference)
    named = [piece.words for piece in pieces if piece.largest]
    assert "element missing near top right" in named, named


def test_a_part_missing_from_a_mark_that_still_overlaps_well_is_named_once_registered(reference):
    """The disc's bottom chord cut off (8% of the ink): the silhouettes still overlap past OVERLAP_PASS, where
    the similarity transform's local differences are noise; registered by the homography, the part is named."""
    image, _ = _artwork()
    image[179:, :] = 255
    registered = align(_photo(image), reference, RULES_SIZE, refined=True)
    assert registered.homography is not None and registered.overlap > OVERLAP_PASS
    assert "element missing near bottom" in rule_findings(registered).reasons
    similar = align(_photo(image), reference, RULES_SIZE)
    assert not any(r.startswith("element missing") for r in rule_findings(similar).reasons)


def test_wrong_colour_is_flagged(reference):
    image, mask = _artwork()
    image[mask > 0] = (200, 80, 30)  # blue instead of red
    result = verify(_photo(image), reference)
    assert any("colour differs" in r for r in result.reasons), result.reasons
    assert result.authenticity < 0.5


def test_deviation_map_is_at_compare_resolution(reference):
    result = verify(_photo(_artwork()[0]), reference, size=96)
    assert result.deviation is not None and result.deviation.shape == (96, 96)
    assert 0.0 <= float(result.deviation.min()) and float(result.deviation.max()) <= 1.0


def test_tolerant_overlap_forgives_a_one_pixel_shift_but_not_a_missing_half():
    mask = np.zeros((64, 64), np.uint8)
    mask[20:44, 10:54] = 255
    assert min(tolerant_overlap(np.roll(mask, 1, axis=1), mask, 2)) == 1.0
    half = mask.copy()
    half[:, 32:] = 0
    recall, precision = tolerant_overlap(half, mask, 2)
    assert recall < 0.6 and precision == 1.0


def test_shape_inliers_count_features_shared_in_place(reference):
    """The same mark, recoloured and turned a little, shares many features with the reference; a different
    mark (other letters, no disc) shares few."""
    image, mask = _artwork()
    turned = cv2.warpAffine(
        image, cv2.getRotationMatrix2D((112, 112), 12, 0.9), (224, 224), borderValue=(255, 255, 255)
    )
    turned[turned.min(axis=2) < 250] = (200, 120, 30)  # another colour: the embedder's problem, not the shape's
    other = np.full((224, 224, 3), 255, np.uint8)
    cv2.putText(other, "ZOWIE", (8, 130), cv2.FONT_HERSHEY_COMPLEX, 1.6, (30, 30, 200), 5)
    same, different = shape_inliers(_photo(turned), reference), shape_inliers(_photo(other), reference)
    assert same >= 20 and different < 10, (same, different)


def _small_print(side: int, shadow: bool = False) -> tuple[np.ndarray, tuple[float, float, float]]:
    """A 640x480 frame with the artwork printed at `side` px (of its 224) on a grey surface, optionally under a
    dark cast shadow band; with the mark's (centre x, centre y, longer extent) in frame pixels."""
    image, mask = _artwork()
    rng = np.random.default_rng(1)
    frame = np.clip(rng.normal(150, 3, (480, 640, 3)), 0, 255).astype(np.uint8)
    if shadow:  # a soft dark band across the frame, wider than the mark: what locate takes for foreground
        ys, xs = np.mgrid[0:480, 0:640]
        band = np.exp(-(((ys - 0.5 * xs - 170) / 45.0) ** 2))  # passing below the mark
        frame = (frame * (1 - 0.55 * band)[..., None]).astype(np.uint8)
    small, small_mask = cv2.resize(image, (side, side)), cv2.resize(mask, (side, side)) > 127
    x0, y0 = 380, 150
    region = frame[y0 : y0 + side, x0 : x0 + side]
    region[small_mask] = small[small_mask]
    ys, xs = np.nonzero(small_mask)
    extent = max(xs.max() - xs.min(), ys.max() - ys.min())
    return frame, (x0 + (xs.min() + xs.max()) / 2, y0 + (ys.min() + ys.max()) / 2, float(extent))


def _refined_fit(frame: np.ndarray, box: Box, reference: ReferenceImage) -> float:
    """How well the frame's `box` lines up with the reference, aligned as the shipped verifier aligns
    (refined: scanner/refine.py)."""
    return align(crop(frame, box, 224), reference, RULES_SIZE, refined=True).fit


def test_a_well_framed_mark_is_not_framed_again(reference):
    a = align(_photo(_artwork()[0]), reference, RULES_SIZE, refined=True)
    assert a.fit > 0.9
    assert reframed_box(a, Box(0, 0, 224, 224), reference, RULES_SIZE) is None


def test_a_mark_small_in_its_box_is_framed_again_around_it_at_the_references_scale(reference):
    frame, (cx, cy, extent) = _small_print(90)
    loose = Box(170, 0, 480, 480)  # a box four times the mark's side, as a cast shadow or a search window gives
    first = align(crop(frame, loose, 224), reference, RULES_SIZE, refined=True)
    box = reframed_box(first, loose, reference, RULES_SIZE)
    assert box is not None
    # The reference crop holds the mark at about 0.8 of its side (the artwork's extent over its framing).
    _, ref_mask = _artwork()
    ys, xs = np.nonzero(crop(ref_mask, locate(_artwork()[0], LocateConfig()).box, 224) > 127)
    share = max(xs.max() - xs.min(), ys.max() - ys.min()) / 224
    # The first alignment's scale comes from a mark 40 px wide at the compared side: within a quarter.
    assert abs(box.w - extent / share) < 0.25 * extent / share
    half = extent / 2  # the whole mark inside the new box
    assert box.x < cx - half and cx + half < box.x + box.w and box.y < cy - half and cy + half < box.y + box.h
    second, chosen = align_in_frame(frame, loose, reference, RULES_SIZE, refined=True)
    assert chosen == box
    assert anisotropy(second.transform, (64, 64))[1] < 1.3 and anisotropy(first.transform, (64, 64))[1] > 3
    assert second.fit > first.fit


def test_a_failed_alignment_is_framed_again_around_the_mark(reference):
    frame, (cx, cy, extent) = _small_print(130, shadow=True)
    loose = Box(150, -20, 520, 520)
    first = align(crop(frame, loose, 224), reference, RULES_SIZE, refined=True)
    assert first.fit < 0.5  # the alignment failed: the query's mark moments say where the mark is
    box = reframed_box(first, loose, reference, RULES_SIZE)
    assert box is not None and box.w < loose.w / 2  # the shadow's faint edges still widen it somewhat
    half = extent / 2
    assert box.x < cx - half and cx + half < box.x + box.w and box.y < cy - half and cy + half < box.y + box.h
    assert _refined_fit(frame, box, reference) > 0.8
    assert align_in_frame(frame, loose, reference, RULES_SIZE, refined=True)[0].fit > 0.8


@pytest.mark.parametrize("row", ["top", "", "bottom"])
@pytest.mark.parametrize("col", ["left", "", "right"])
def test_the_place_a_reason_names_is_the_part_of_the_frame_it_was_named_from(row, col):
    place = f"{row} {col}".strip() or "centre"
    region = region_named(place, (128, 128))
    assert region is not None and _where(region) == place
    assert region_named("middle", (128, 128)) is None and region_named("right top", (128, 128)) is None


def test_the_part_the_learned_map_lights_is_named_first_even_if_not_the_largest():
    """The silhouettes differ in two places: a large piece (a shadow cut the silhouette at the bottom left) and a
    smaller one at the top right, where the map is hottest. The top right is named first, as the heatmap beside
    the words shows it; the largest piece is still named after it. A map of nothing leaves the order as it is."""
    shadow = np.zeros((128, 128), bool)
    shadow[90:120, 5:45] = True
    badge = np.zeros((128, 128), bool)
    badge[10:25, 100:115] = True
    pieces = [
        Piece("element missing", shadow, largest=True),
        Piece("element missing", badge, largest=False),
        Piece("extra marking", np.roll(shadow, 50, axis=1), largest=True),
    ]
    reasons = ["about 25% wider than reference", "element missing near bottom left", "extra marking near bottom"]
    rules = RuleFindings(0.2, 0.25, None, reasons, None, np.zeros((128, 128), np.float32), pieces)
    deviation = np.zeros((128, 128), np.float32)
    deviation[12:22, 102:112] = 0.3
    assert _lit_first(rules, _hottest(deviation)) == [
        "about 25% wider than reference",
        "element missing near top right",
        "element missing near bottom left",
        "extra marking near bottom",
    ]
    assert _lit_first(rules, _hottest(np.zeros((128, 128), np.float32))) == reasons
