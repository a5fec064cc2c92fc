import cv2
import numpy as np
import pytest

from scanner.exc import ImageError
from scanner.imageio import composite_on_background, expand_paths, read_image
from tests.conftest import BRANDS, PHOTOS

SAMPLE = PHOTOS / "genuine_adidas_0.jpg"


def test_reads_a_jpeg_as_bgr():
    image = read_image(SAMPLE)
    assert image.shape == (480, 640, 3) and image.dtype == np.uint8


def test_keep_alpha_returns_bgra():
    image = read_image(BRANDS / "ferrari" / "logo.png", keep_alpha=True)
    assert image.shape[2] == 4 and image[..., 3].min() == 0


def test_empty_file(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(ImageError, match="empty"):
        read_image(path)


def test_truncated_jpeg(tmp_path):
    path = tmp_path / "cut.jpg"
    path.write_bytes(SAMPLE.read_bytes()[:5000])
    with pytest.raises(ImageError, match="truncated JPEG"):
        read_image(path)


def test_truncated_png(tmp_path):
    path = tmp_path / "cut.png"
    path.write_bytes((BRANDS / "bmw" / "logo.png").read_bytes()[:3000])
    with pytest.raises(ImageError, match="truncated PNG"):
        read_image(path)


def test_text_file_named_jpg(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("not a picture")
    with pytest.raises(ImageError, match="not a readable image"):
        read_image(path)


def test_missing_file(tmp_path):
    with pytest.raises(ImageError, match="cannot read"):
        read_image(tmp_path / "gone.jpg")


def test_white_mark_goes_on_a_dark_background():
    mark = np.zeros((64, 64, 4), np.uint8)
    mark[16:48, 16:48] = (255, 255, 255, 255)
    bgr, mask = composite_on_background(mark)
    assert bgr[0, 0].max() < 64 and bgr[32, 32].min() == 255
    assert mask is not None and mask[32, 32] == 255 and mask[0, 0] == 0


def test_dark_mark_goes_on_white():
    mark = np.zeros((64, 64, 4), np.uint8)
    mark[16:48, 16:48] = (0, 0, 200, 255)
    bgr, _ = composite_on_background(mark)
    assert tuple(bgr[0, 0]) == (255, 255, 255)


def test_expand_paths_lists_images_in_folders(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "sub").mkdir()
    cv2.imwrite(str(tmp_path / "sub" / "b.png"), np.zeros((4, 4, 3), np.uint8))
    names = [p.name for p in expand_paths([tmp_path])]
    assert names == ["a.jpg", "b.png"]
