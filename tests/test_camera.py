import sys
import types

import numpy as np
import pytest

from scanner.camera import open_camera
from scanner.config import CameraConfig
from scanner.exc import CameraError
from scanner.imageio import read_image
from tests import fake_picamera2
from tests.conftest import PHOTOS, VIDEO

CONFIG = CameraConfig()


@pytest.fixture
def picamera2(monkeypatch):
    monkeypatch.setitem(sys.modules, "picamera2", fake_picamera2)
    monkeypatch.setattr(fake_picamera2, "FRAMES", [read_image(PHOTOS / "genuine_ferrari_0.jpg")])
    monkeypatch.setattr(fake_picamera2, "opened", [])
    return fake_picamera2


def test_video_file_plays_to_the_end():
    with open_camera(f"opencv:{VIDEO}", CONFIG) as camera:
        assert not camera.live and camera.fps == pytest.approx(15)
        frames = []
        while (frame := camera.read()) is not None:
            frames.append(frame)
    assert len(frames) == 120
    assert frames[0].image.shape == (480, 640, 3) and [f.index for f in frames[:3]] == [0, 1, 2]


def test_missing_video_file():
    with pytest.raises(CameraError, match="video file not found"):
        open_camera("opencv:/nonexistent/clip.mp4", CONFIG).open()


def test_absent_usb_camera():
    with pytest.raises(CameraError, match="cannot open opencv:63"):
        open_camera("opencv:63", CONFIG).open()


def test_unknown_spec():
    with pytest.raises(CameraError, match="unknown camera 'webcam'"):
        open_camera("webcam", CONFIG)


def test_file_source_reads_a_folder_and_skips_bad_files(tmp_path):
    (tmp_path / "a.jpg").write_bytes((PHOTOS / "genuine_bmw_0.jpg").read_bytes())
    (tmp_path / "b.jpg").write_bytes(b"")
    with open_camera(f"file:{tmp_path}", CONFIG) as camera:
        first, second = camera.read(), camera.read()
    assert first is not None and first.image.shape == (480, 640, 3) and second is None


def test_picamera2_streams(picamera2):
    with open_camera("picamera2", CONFIG) as camera:
        assert camera.live
        config = picamera2.opened[0].camera_config
        assert config["main"] == {"format": "RGB888", "size": (1280, 960)}
        assert config["lores"] == {"format": "YUV420", "size": (640, 480)}
        frame = camera.read()
    assert frame.preview.shape == (960, 1280, 3) and frame.image.shape == (480, 640, 3)
    # The lores frame went through YUV420 and back: the same picture to within chroma subsampling.
    source = read_image(PHOTOS / "genuine_ferrari_0.jpg")
    assert np.abs(frame.image.astype(int) - source.astype(int)).mean() < 6
    assert picamera2.opened[0].closed


def test_picamera2_lores_width_must_be_aligned(picamera2):
    with pytest.raises(CameraError, match="multiple of 64"):
        open_camera("picamera2", CameraConfig(lores_size=(300, 200)))


def test_picamera2_no_camera_attached(picamera2, monkeypatch):
    monkeypatch.setattr(picamera2, "CAMERAS_ATTACHED", 0)
    with pytest.raises(CameraError, match="no Pi camera available"):
        open_camera("picamera2", CONFIG).open()


def test_picamera2_bad_sizes_are_reported(picamera2):
    with pytest.raises(CameraError, match="cannot start the Pi camera"):
        open_camera("picamera2", CameraConfig(main_size=(320, 240), lores_size=(640, 480))).open()


def test_picamera2_not_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "picamera2", None)
    with pytest.raises(CameraError, match="sudo apt install python3-picamera2"):
        open_camera("picamera2", CONFIG).open()


def test_picamera2_in_a_venv_without_system_packages(monkeypatch):
    broken = types.ModuleType("picamera2")

    def missing_libcamera(name):  # what `from picamera2 import Picamera2` raises in such a venv
        raise ModuleNotFoundError("No module named 'libcamera'", name="libcamera")

    broken.__getattr__ = missing_libcamera  # type: ignore[method-assign]
    monkeypatch.setitem(sys.modules, "picamera2", broken)
    with pytest.raises(CameraError, match="--system-site-packages"):
        open_camera("picamera2", CONFIG).open()
