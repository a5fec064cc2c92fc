"""Embed a logo crop: int8 TFLite backbone, then L2 normalisation in numpy.

The model takes NHWC RGB pixels; for the int8 model the input quantization is scale 1, zero point -128, so
a uint8 pixel goes in as `pixel - 128` without loss. L2 normalisation stays out of the graph because
tflite-runtime 2.14 has no int8 SQRT kernel.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import numpy as np

from .exc import ModelError
from .runtime import TFLiteModel


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


DEFAULT_UNKNOWN_THRESHOLD = 0.64  # for a model without a calibration record (v0's value)


def calibration_path(model_path: Path) -> Path:
    """`models/embedder_v2_int8.json` beside `models/embedder_v2_int8.tflite`: thresholds chosen for this model."""
    return Path(model_path).with_suffix(".json")


def record_calibration(model_path: Path, values: dict) -> Path:
    """Merge `values` into the model's calibration record (keeping what other tools wrote there); its path."""
    path = calibration_path(model_path)
    record = read_calibration(model_path)
    record.update(values)
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def read_calibration(model_path: Path) -> dict:
    path = calibration_path(model_path)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ModelError(f"{path} is not valid JSON ({err}): restore it from models/") from err
    return data if isinstance(data, dict) else {}


class Embedder:
    def __init__(self, model_path: Path, num_threads: int = 1, runtime: str = "auto") -> None:
        self.model = TFLiteModel(Path(model_path), num_threads=num_threads, runtime=runtime)
        shape = self.model.input.shape
        if len(shape) != 4 or shape[0] != 1 or shape[3] != 3 or shape[1] != shape[2]:
            raise ModelError(f"{model_path} takes input {shape}; an embedder takes one square RGB image (1, S, S, 3)")
        if len(self.model.output.shape) != 2:
            raise ModelError(f"{model_path} gives output {self.model.output.shape}; an embedder gives (1, D)")
        self.input_size = shape[1]
        self.dim = self.model.output.shape[1]
        self.sha256 = file_sha256(model_path)
        self.calibration = read_calibration(model_path)
        spec = self.model.input
        self._uint8_direct = spec.dtype == np.int8 and (spec.scale, spec.zero_point) == (1.0, -128)
        # One invoke at load time: the first one allocates and packs weights (tens of ms), and that cost
        # belongs to start-up, not to the operator's first scan.
        self.embed(np.zeros((self.input_size, self.input_size, 3), np.uint8))

    @property
    def runtime(self) -> str:
        return self.model.runtime

    def embed(self, crop_bgr: np.ndarray) -> np.ndarray:
        """Unit-length float32 embedding of a square BGR crop (resized to the model's input size here)."""
        size = self.input_size
        if crop_bgr.shape[:2] != (size, size):
            crop_bgr = cv2.resize(crop_bgr, (size, size), interpolation=cv2.INTER_AREA)
        rgb = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2RGB)[None]
        if self._uint8_direct:
            batch = (rgb.astype(np.int16) - 128).astype(np.int8)
        else:
            batch = rgb.astype(np.float32)
        vector = self.model.run(batch)[0]
        norm = float(np.linalg.norm(vector))
        return (vector / norm if norm > 0 else vector).astype(np.float32)
