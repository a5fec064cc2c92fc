import cv2
import numpy as np

from scanner.config import QualityConfig
from scanner.imageio import read_image
from scanner.quality import assess
from tests.conftest import PHOTOS

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


def test_overexposed_frame_is_refused():
    frame = read_image(PHOTOS / "genuine_ferrari_0.jpg").astype(np.int32) + 160
    assert "glare" in assess(np.clip(frame, 0, 255).astype(np.uint8), CONFIG).reasons[0]


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
