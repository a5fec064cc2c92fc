"""Make the sample handheld video: the operator sweeps the camera onto a logo, holds it steady, moves on.

    python tools/make_sample_video.py --out samples/video/handheld.mp4

Segments, in order, from the bundled sample photos: a genuine Ferrari mark (pass), a Ferrari mark printed
in the wrong colour (suspect), a Shell mark, which is not enrolled (unknown), and a dark frame (rescan). Each is
10 frames of a motion-blurred sweep followed by 20 still frames with sensor noise and sub-pixel shake,
at 15 fps, 640x480, MPEG-4 Part 2 (OpenCV's `mp4v`, decodable everywhere OpenCV runs).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

PHOTOS = Path(__file__).resolve().parent.parent / "samples" / "photos"
SEGMENTS = ["genuine_ferrari_0.jpg", "colour_ferrari_0.jpg", "unknown_shell_0.jpg", "dark_adidas_0.jpg"]
FPS, SWEEP, STILL = 15, 10, 20


def shifted(image: np.ndarray, dx: float, dy: float) -> np.ndarray:
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(image, matrix, image.shape[1::-1], borderMode=cv2.BORDER_REFLECT)


def motion_blur(image: np.ndarray, length: int) -> np.ndarray:
    kernel = np.zeros((1, length), np.float32)
    kernel[0, :] = 1.0 / length
    return cv2.filter2D(image, -1, kernel)


def frames(rng: np.random.Generator):  # type: ignore[no-untyped-def]
    for name in SEGMENTS:
        photo = cv2.imread(str(PHOTOS / name))
        for step in range(SWEEP):  # sweeping in from the right, slowing down
            offset = 300 * (1 - step / SWEEP) ** 2
            yield motion_blur(shifted(photo, offset, 0), max(1, int(offset / 6)))
        for _ in range(STILL):
            still = shifted(photo, *rng.uniform(-0.4, 0.4, 2))
            yield np.clip(still + rng.normal(0, 2.0, still.shape), 0, 255).astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(args.out), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (640, 480))
    if not writer.isOpened():
        raise SystemExit(f"cannot write {args.out}: this OpenCV has no mp4v encoder")
    count = 0
    for frame in frames(np.random.default_rng(args.seed)):
        writer.write(frame)
        count += 1
    writer.release()
    print(f"wrote {args.out}: {count} frames, {count / FPS:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
