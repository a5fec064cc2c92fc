"""The photo generator's camera (tools/synth_photos.py): a genuine mark's perspective stays within what a
handheld camera at up to 25 degrees of tilt gives, so that a proportions counterfeit is a real deviation."""

import math
import sys

import cv2
import numpy as np
import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from synth_photos import MAX_TILT, tilted_corners  # noqa: E402


def _stretch(corners: np.ndarray, side: int) -> float:
    """Largest / smallest scale of the mark's mapping at its centre (1.0: no change of proportions)."""
    square = np.float32([[0, 0], [side, 0], [side, side], [0, side]]) - side / 2
    homography = cv2.getPerspectiveTransform(square, corners.astype(np.float32))
    # At the centre (0, 0) the projective term is 1, so the linear part's derivative is H[:2,:2] - t * h[2].
    jacobian = homography[:2, :2] - np.outer(homography[:2, 2], homography[2, :2])
    scales = np.linalg.svd(jacobian, compute_uv=False)
    return float(scales[0] / scales[1])


def test_tilt_foreshortens_no_more_than_a_real_camera():
    rng = np.random.default_rng(7)
    stretches = np.array([_stretch(tilted_corners(side, rng), side) for side in (144, 288, 432) for _ in range(400)])
    cosine_limit = 1 / math.cos(math.radians(MAX_TILT))  # 1.103
    assert np.percentile(stretches, 99) < cosine_limit + 0.04  # plus the 2% jitter of goods not quite flat
    assert np.median(stretches) > 1.01  # the goods are tilted, not photographed square on


def test_no_tilt_keeps_the_square():
    corners = tilted_corners(200, np.random.default_rng(3), max_tilt=0.0)
    expected = np.array([[-100, -100], [100, -100], [100, 100], [-100, 100]])
    assert np.abs(corners - expected).max() <= 0.02 * 200 + 1e-9


def test_an_ablated_photo_differs_in_that_factor_only():
    """make_heldout_set.py --without: the same photo with one factor of the generator removed, and the
    generator as it was once the block ends."""
    from synth_photos import ablated, photograph_with_extent

    mark = np.zeros((256, 256, 4), np.uint8)
    mark[16:240, 16:240] = (40, 40, 200, 255)  # a square: square on, its extent stays square whatever the turn

    def shoot(seed: int) -> tuple[np.ndarray, tuple[int, int, int, int]]:
        return photograph_with_extent(mark, np.random.default_rng(seed), "genuine", rich=True)

    before = shoot(11)
    with ablated("tilt"):
        square_on = [shoot(seed) for seed in range(11, 19)]
    with ablated("print"):
        plain = shoot(11)
    with pytest.raises(RuntimeError), ablated("tilt", "print"):
        raise RuntimeError("a failure inside the block must not leave the generator ablated")
    assert np.array_equal(shoot(11)[0], before[0])
    with pytest.raises(ValueError, match="unknown capture factor"), ablated("lens"):
        pass
    assert not np.array_equal(square_on[0][0], before[0]) and not np.array_equal(plain[0], before[0])
    # Print styles and shadows do not move the mark; square on, the square's extent is as wide as tall (only
    # turned in the plane), which tilted photos' extents are not.
    assert plain[1] == before[1]

    def aspect(extent: tuple[int, int, int, int]) -> float:
        x0, y0, x1, y1 = extent
        return abs((x1 - x0) / (y1 - y0) - 1)

    assert max(aspect(e) for _, e in square_on) < 0.03
    assert max(aspect(shoot(seed)[1]) for seed in range(11, 19)) > 0.05


def test_a_counterfeits_changes_are_framed_as_the_index_frames_its_reference(tmp_path):
    """make_heldout_set.py writes what a counterfeit altered in the reference crop's pixels, so `scanner eval`
    can lay it on the heatmap: the altered part lands on that part of the reference's mask."""
    from make_heldout_set import framed_as_reference

    from scanner.config import LocateConfig
    from scanner.enroll import frame_reference
    from scanner.imageio import read_image

    mark = np.zeros((256, 256, 4), np.uint8)
    cv2.circle(mark, (80, 128), 40, (40, 40, 200, 255), -1)
    cv2.rectangle(mark, (150, 60), (220, 110), (40, 40, 200, 255), -1)  # the part a counterfeit altered
    where = np.zeros((256, 256), np.uint8)
    where[60:111, 150:221] = 255
    cv2.imwrite(str(tmp_path / "logo.png"), mark)
    framed = framed_as_reference(where, tmp_path / "logo.png") > 0
    _, reference_mask, _ = frame_reference(read_image(tmp_path / "logo.png", keep_alpha=True), LocateConfig())
    assert reference_mask is not None and framed.shape == reference_mask.shape
    on_mark = reference_mask > 127
    assert (framed & on_mark).sum() >= 0.95 * framed.sum()  # it lies on the reference's ink...
    ys, xs = np.nonzero(framed)
    side = framed.shape[0]
    assert xs.mean() > 0.6 * side and ys.mean() < 0.5 * side  # ...at the top right, where the rectangle is
    assert framed.sum() < 0.5 * on_mark.sum()  # the rectangle, not the disc


def test_views_of_one_item_share_the_goods_and_differ_in_the_capture(monkeypatch):
    """make_heldout_set.py --views: each view prints the mark on the same surface in the same style, and is
    taken from its own pose, light and noise."""
    import synth_photos

    surfaces, styles = [], []
    real_surface, real_style = synth_photos.surface, synth_photos._print_style

    def recorded_surface(kind, rng):
        image = real_surface(kind, rng)
        surfaces.append(image)
        return image

    def recorded_style(surface_img, ink, alpha, rng, inked=False):
        styles.append(rng.bit_generator.state["state"]["state"])  # where the goods' stream stands
        return real_style(surface_img, ink, alpha, rng, inked)

    monkeypatch.setattr(synth_photos, "surface", recorded_surface)
    monkeypatch.setattr(synth_photos, "_print_style", recorded_style)
    mark = np.zeros((256, 256, 4), np.uint8)
    mark[40:216, 60:196] = (30, 30, 220, 255)
    views = synth_photos.photograph_views(mark, np.random.default_rng(21), 2, rich=True)
    assert len(views) == 2 and views[0].shape == views[1].shape
    assert np.array_equal(surfaces[0], surfaces[1]) and styles[0] == styles[1]
    assert np.abs(views[0].astype(int) - views[1]).mean() > 5  # another pose and light
    again = synth_photos.photograph_views(mark, np.random.default_rng(21), 2, rich=True)
    assert all(np.array_equal(a, b) for a, b in zip(views, again, strict=True))  # deterministic by seed


def test_a_photo_taken_with_its_own_generator_for_the_capture_is_the_photo_as_before():
    """`capture` defaults to the goods' generator: every set made before --views existed is made again alike."""
    from synth_photos import photograph

    mark = np.zeros((128, 128, 4), np.uint8)
    mark[20:100, 30:90] = (200, 60, 30, 255)
    one_stream = photograph(mark, np.random.default_rng(4), rich=True)
    assert np.array_equal(one_stream, photograph(mark, np.random.default_rng(4), rich=True, capture=None))
    other = photograph(mark, np.random.default_rng(4), rich=True, capture=np.random.default_rng(5))
    assert not np.array_equal(one_stream, other)


def test_the_print_style_of_each_photo_is_recorded_and_changes_nothing():
    """make_heldout_set.py labels each photo with its print style (synth_photos.recording_styles): the style
    drawn for the photo, the photo the same as one taken without recording, nothing recorded outside the block;
    with the print styles ablated, every photo reads `print`."""
    from synth_photos import ablated, photograph_with_extent, recording_styles

    mark = np.zeros((128, 128, 4), np.uint8)
    mark[16:112, 16:112] = (30, 30, 220, 255)  # a red square: its middle is ink, unless embossed

    def shoot(seed: int) -> tuple[np.ndarray, tuple[int, int, int, int]]:
        return photograph_with_extent(mark, np.random.default_rng(seed), "genuine", rich=True)

    plain = [shoot(seed) for seed in range(40)]
    with recording_styles() as styles:
        recorded = [shoot(seed) for seed in range(40)]
        with ablated("print"), recording_styles() as flat:
            shoot(0)
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(plain, recorded, strict=True))
    assert len(styles) == 40 and set(styles) == {"print", "emboss", "embroider", "foil", "faded"}
    assert flat == ["print"]
    shoot(1)  # outside a block: nothing to record into, and no error

    # The style recorded is the one the photo shows: an embossed mark has no ink of its own, so its middle is
    # hardly redder than the frame's edge, where a printed one is red ink.
    def redder_than_the_edge(photo: np.ndarray, extent: tuple[int, int, int, int]) -> float:
        redness = photo[..., 2].astype(float) - photo[..., 1]
        x0, y0, x1, y1 = extent
        w, h = x1 - x0, y1 - y0
        middle = redness[y0 + h // 3 : y1 - h // 3, x0 + w // 3 : x1 - w // 3]
        edge = np.concatenate([redness[:8].ravel(), redness[-8:].ravel()])
        return float(np.median(middle) - np.median(edge))

    contrast = [redder_than_the_edge(*shot) for shot in plain]
    embossed = [c for c, s in zip(contrast, styles, strict=True) if s == "emboss"]
    printed = [c for c, s in zip(contrast, styles, strict=True) if s == "print"]
    assert embossed and printed and max(embossed) < min(printed)


def test_embossed_marks_lit_from_anywhere_change_only_the_embossed_photos():
    """make_heldout_set.py --emboss-light any: an embossed photo is lit from a direction of its own; every other
    photo, and the photos taken after an embossed one from the same generator, come out the same."""
    from synth_photos import emboss_lit, photograph, recording_styles

    mark = np.zeros((128, 128, 4), np.uint8)
    mark[16:112, 16:112] = (30, 30, 220, 255)

    def two_photos(seed: int) -> list[np.ndarray]:
        rng = np.random.default_rng(seed)  # two items in a row from one generator, as a split is shot
        return [photograph(mark, rng, "genuine", True) for _ in range(2)]

    with recording_styles() as styles:
        diagonal = [two_photos(seed) for seed in range(24)]
    with emboss_lit("any"):
        anywhere = [two_photos(seed) for seed in range(24)]
    firsts, seconds = styles[0::2], styles[1::2]
    # Some item after an embossed one is not embossed: its photo shows whether the stream was drawn from.
    assert any(f == "emboss" and s != "emboss" for f, s in zip(firsts, seconds, strict=True))
    for (before, after), first, second in zip(zip(diagonal, anywhere, strict=True), firsts, seconds, strict=True):
        assert np.array_equal(before[0], after[0]) == (first != "emboss")
        assert np.array_equal(before[1], after[1]) == (second != "emboss")  # the stream went on as before
    photograph(mark, np.random.default_rng(0), "genuine", True)  # and the diagonal is back after the block
