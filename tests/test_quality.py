import cv2
import numpy as np

from scanner.config import QualityConfig
from scanner.imageio import read_image
from scanner.quality import assess
from tests.conftest import BRANDS, PHOTOS

CONFIG = QualityConfig()


def test_sharp_sample_passes():
    report = assess(read_image(PHOTOS / "genuine_ferrari_0.jpg"), CONFIG)
    assert report.ok, report.reasons


def test_blurred_copy_of_a_sharp_photo_is_refused():
    sharp = read_image(PHOTOS / "genuine_ferrari_0.jpg")
    report = assess(cv2.GaussianBlur(sharp, (0, 0), 7), CONFIG)
    assert report.reasons == ["blurred: hold steady and refocus"]


def test_darkened_copy_is_refused():
    dark = (read_image(PHOTOS / "genuine_ferrari_0.jpg") * 0.1).astype(np.uint8)
    assert "too dark" in assess(dark, CONFIG).reasons[0]


def _with_highlight(frame: np.ndarray, strength: float) -> np.ndarray:
    """A specular spot centred on the frame (where the samples' marks are), saturated at its core."""
    height, width = frame.shape[:2]
    yy, xx = np.mgrid[0:height, 0:width]
    spot = np.exp(-((xx - width / 2) ** 2 + (yy - height / 2) ** 2) / (2 * (0.28 * width) ** 2))
    return np.clip(frame + strength * spot[..., None], 0, 255).astype(np.uint8)


def test_a_highlight_over_the_mark_is_glare():
    frame = _with_highlight(read_image(PHOTOS / "genuine_ferrari_0.jpg").astype(np.float32), 300)
    assert "glare" in assess(frame, CONFIG).reasons[0]


def test_a_logo_printed_on_white_is_not_glare():
    """Saturation the frame's edges share is the surface: a clean mark on white goods is judged."""
    logo = read_image(BRANDS / "ferrari" / "logo.png", keep_alpha=True)
    frame = np.full((480, 640, 3), 255, np.uint8)
    alpha = cv2.resize(logo[..., 3], (200, 200))[..., None] / 255.0
    ink = cv2.resize(logo[..., :3], (200, 200))
    frame[140:340, 220:420] = (ink * alpha + 255 * (1 - alpha)).astype(np.uint8)
    report = assess(frame, CONFIG)
    assert report.ok, report.reasons
    assert report.glare == 0.0


def test_a_frame_washed_out_entirely_is_turned_away():
    frame = read_image(PHOTOS / "genuine_ferrari_0.jpg").astype(np.int32) + 240
    assert assess(np.clip(frame, 0, 255).astype(np.uint8), CONFIG).reasons


def test_blank_frame_has_nothing_in_view():
    frame = np.full((480, 640, 3), 128, np.uint8)
    assert "no contrast" in assess(frame, CONFIG).reasons[0]


def test_tiny_image_is_refused_before_measuring():
    report = assess(np.zeros((60, 80, 3), np.uint8), CONFIG)
    assert report.reasons == ["image too small (80x60): move closer or use a larger image"]


def test_bundled_degraded_photos_fail_for_the_right_reason():
    expectations = {"blur_nike_0.jpg": "blurred", "dark_adidas_0.jpg": "too dark", "glare_apple_0.jpg": "glare"}
    for name, reason in expectations.items():
        report = assess(read_image(PHOTOS / name), CONFIG)
        assert report.reasons and reason in report.reasons[0], (name, report.reasons)


def test_histogram_percentiles_equal_numpys():
    """The gate's percentiles come from a histogram; they must be numpy's (linear interpolation) exactly."""
    from scanner.quality import integer_percentiles

    rng = np.random.default_rng(0)
    for _ in range(200):
        values = rng.integers(0, int(rng.integers(1, 3000)), int(rng.integers(1, 5000)))
        percents = [0, 1, 50, 99, 99.5, 100]
        assert np.allclose(integer_percentiles(values, percents), np.percentile(values, percents))


def _mark_on(surface: float, size: int = 160) -> np.ndarray:
    """The Ferrari sample mark printed small in the middle of a plain 640x480 surface of grey level `surface`."""
    logo = read_image(BRANDS / "ferrari" / "logo.png", keep_alpha=True)
    alpha = cv2.resize(logo[..., 3], (size, size))[..., None] / 255.0
    ink = cv2.resize(logo[..., :3], (size, size)).astype(np.float32)
    frame = np.full((480, 640, 3), surface, np.float32)
    top, left = (480 - size) // 2, (640 - size) // 2
    frame[top : top + size, left : left + size] = ink * alpha + surface * (1 - alpha)
    return frame


def test_a_bright_mark_on_dark_goods_is_not_too_dark():
    """The frame's mean is as low as an underexposed frame's; its brightest part is not."""
    frame = np.clip(_mark_on(12), 0, 255).astype(np.uint8)
    assert frame.mean() < 24
    report = assess(frame, CONFIG)
    assert report.ok, report.reasons
    assert "too dark" in assess((frame * 0.12).astype(np.uint8), CONFIG).reasons[0]


def test_a_sharp_mark_beside_a_cast_shadow_is_not_blurred():
    """A soft shadow's large step beside the mark's small ones: focus is judged on each edge's own step."""
    frame = _mark_on(200) * 0.6 + 80  # a pale print: small steps
    xx = np.arange(640, dtype=np.float32)
    shade = 1 - 0.75 / (1 + np.exp(-(xx - 120) / 6))  # dark from x = 120 on, the mark (x 240-400) inside
    frame = np.clip(frame * shade[None, :, None], 0, 255).astype(np.uint8)
    report = assess(frame, CONFIG)
    assert report.ok, report.reasons
    assert "blurred" in assess(cv2.GaussianBlur(frame, (0, 0), 6), CONFIG).reasons[0]
