import numpy as np

from scanner.config import LocateConfig, ScannerConfig
from scanner.locate import SEARCH_SCALES, Box, crop, locate, search_windows
from scanner.verdict import too_small

CONFIG = LocateConfig()


def _frame_with_mark(x: int, y: int, w: int, h: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    frame = np.clip(rng.normal(170, 4, (480, 640, 3)), 0, 255).astype(np.uint8)
    frame[y : y + h, x : x + w] = (30, 30, 160)
    return frame


def test_box_contains_the_mark_with_padding():
    location = locate(_frame_with_mark(300, 150, 120, 60), CONFIG)
    box = location.box
    assert location.found
    assert box.w == box.h
    assert box.x < 300 and box.y < 150 and box.x + box.w > 420 and box.y + box.h > 210
    assert box.w < 120 * 1.6  # padded, not the whole frame
    assert 0.23 < location.size < 0.27  # 120 wide in a 480-high frame: 0.25


def test_thin_parts_stay_inside_the_box():
    frame = _frame_with_mark(200, 200, 100, 80)
    frame[238:241, 300:420] = (30, 30, 160)  # a 3-pixel stroke sticking out to the right
    box = locate(frame, CONFIG).box
    assert box.x + box.w >= 420


def test_plain_frame_falls_back_to_the_centre_square():
    frame = np.full((480, 640, 3), 128, np.uint8)
    location = locate(frame, CONFIG)
    assert not location.found
    assert location.box == Box(80, 0, 480, 480)


def test_crop_pads_past_the_frame_edge():
    frame = np.arange(100 * 100 * 3, dtype=np.uint32).reshape(100, 100, 3).astype(np.uint8)
    patch = crop(frame, Box(-10, -10, 50, 50), size=32)
    assert patch.shape == (32, 32, 3)
    assert np.array_equal(crop(frame, Box(10, 20, 30, 30)), frame[20:50, 10:40])


def _covered(windows: list[Box], height: int, width: int) -> np.ndarray:
    seen = np.zeros((height, width), bool)
    for box in windows:
        seen[max(0, box.y) : box.y + box.h, max(0, box.x) : box.x + box.w] = True
    return seen


def test_search_windows_tile_the_whole_frame_at_every_scale():
    frame = _frame_with_mark(300, 150, 120, 60)
    windows = search_windows(frame, CONFIG)
    short = min(frame.shape[:2])
    for fraction in SEARCH_SCALES:
        grid = [box for box in windows if box.w == int(short * fraction)]
        assert len(grid) >= 2, fraction
        assert _covered(grid, *frame.shape[:2]).all(), fraction  # no corner of the scene goes unsearched
    assert all(box.w == box.h for box in windows)
    assert len(windows) <= 40  # the fallback's cost: one embedding each


def test_search_windows_put_a_box_on_each_separate_object():
    frame = _frame_with_mark(40, 40, 90, 90)
    frame[330:420, 480:580] = (160, 40, 30)  # a second object, far from the first
    blobs = search_windows(frame, CONFIG)[:2]  # blobs come first, largest first
    for x0, y0, x1, y1 in ((40, 40, 130, 130), (480, 330, 580, 420)):
        assert any(b.x <= x0 and b.y <= y0 and b.x + b.w >= x1 and b.y + b.h >= y1 and b.w < 200 for b in blobs)


def test_size_is_the_longer_side_so_a_thin_wordmark_is_not_too_small():
    """A 160 x 14 line of text covers under 1% of the frame, yet spans a third of its height."""
    config = ScannerConfig()
    wordmark = locate(_frame_with_mark(240, 233, 160, 14), config.locate)
    assert 0.3 < wordmark.size < 0.37 and not too_small(wordmark, config)
    speck = locate(_frame_with_mark(300, 220, 40, 30), config.locate)
    assert speck.size < config.locate.min_size and too_small(speck, config)
