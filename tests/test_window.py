"""A real OpenCV window on a virtual X display: the live screen during `scanner run`, captured with xwd.

The test starts Xvfb itself. Screenshots are kept in test-artifacts/ (ignored by git) to look at.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from scanner.display import COLOURS
from scanner.verdict import Verdict
from tests.conftest import live_run

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
pytestmark = pytest.mark.skipif(
    not (shutil.which("Xvfb") and shutil.which("xwd")), reason="needs Xvfb and xwd (apt-get install xvfb x11-apps)"
)


def read_xwd(data: bytes) -> np.ndarray:
    """BGR image from an xwd dump of a TrueColor screen (Xvfb's 24-bit default)."""
    header = struct.unpack(">25I", data[:100])
    header_size, width, height = header[0], header[4], header[5]
    bits_per_pixel, bytes_per_line, colours = header[11], header[12], header[19]
    start = header_size + colours * 12
    rows = np.frombuffer(data[start : start + bytes_per_line * height], np.uint8).reshape(height, bytes_per_line)
    step = bits_per_pixel // 8
    return rows[:, : width * step].reshape(height, width, step)[:, :, :3].copy()


@pytest.fixture
def display():
    number = 90 + os.getpid() % 100
    server = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(50):
        if Path(f"/tmp/.X11-unix/X{number}").exists():
            break
        time.sleep(0.1)
    yield f":{number}"
    server.terminate()
    server.wait(timeout=10)


def test_live_window_shows_the_verdict_banner(display, demo_index_path, tmp_path):
    screens = tmp_path / "screens"
    env = {**os.environ, "DISPLAY": display}
    options = ("--auto", "--windowed", "--screens", str(screens))
    command = [sys.executable, "-m", "scanner.cli", *live_run(demo_index_path, *options)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (screens.exists() and any(screens.glob("*_pass.png"))) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # the window has drawn the banner by its next frame
    shot = read_xwd(
        subprocess.run(
            ["xwd", "-root", "-silent", "-display", display], capture_output=True, check=True, timeout=30
        ).stdout
    )
    out, err = process.communicate(timeout=60)
    ARTIFACTS.mkdir(exist_ok=True)
    cv2.imwrite(str(ARTIFACTS / "live_window_pass.png"), shot)

    assert process.returncode == 0, err
    assert [line.split()[1] for line in out.splitlines()] == ["pass", "suspect", "unknown", "rescan"]
    green = np.all(np.abs(shot.astype(int) - COLOURS[Verdict.PASS]) <= 2, axis=2)
    assert green.sum() > 40_000  # the banner: 800 x 120 pixels of the pass colour, less the text
    rows = np.nonzero(green.sum(axis=1) > 400)[0]
    assert rows.max() - rows.min() > 80  # a band of full rows, not a thin locate box
