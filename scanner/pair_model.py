"""The learned authenticity model: an int8 TFLite pair network scoring an aligned (query, reference) pair.

Input: the query warped onto the reference (scanner/align.py `align`) and the reference, side by side as
six channels (NHWC, BGR, 0..255), each brought to the same mean brightness first so exposure is not
mistaken for a difference. Output: one vector, a logit (high = genuine) followed by a coarse deviation map
(a logit per cell, high = this part differs, row-major G x G), which the scanner upsamples to the
reference's resolution. One output keeps the file loadable by the same single-output runtime shim.

The model's calibrated operating point lives beside it in `<model>.json` (`suspect_threshold`, chosen on
held-out brands by tools/calibrate_verifier.py; the config can override it), with the alignment its training
pairs used (`alignment`) and whether they included genuine colourways (`colourways`), both written by
tools/train_verifier.py.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import cv2
import numpy as np

from .embed import file_sha256, read_calibration
from .exc import ModelError
from .runtime import TFLiteModel

logger = logging.getLogger(__name__)

DEFAULT_SUSPECT_THRESHOLD = 0.5
# How the query was brought onto the reference in the model's training pairs (scanner/align.py `align`);
# models written before the record existed were trained on the similarity alignment.
ALIGNMENTS = ("similarity", "refined")
TARGET_MEAN = 128.0


def pair_input(aligned: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(H, W, 6) float32: the aligned query and the reference, each scaled to the same mean brightness."""

    def levelled(image: np.ndarray) -> np.ndarray:
        image = image.astype(np.float32)
        return np.clip(image * (TARGET_MEAN / max(float(image.mean()), 1.0)), 0, 255)

    return np.concatenate([levelled(aligned), levelled(reference)], axis=2)


def sigmoid(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float32)))


class PairVerifier:
    def __init__(self, path: Path, threads: int = 1, runtime: str = "auto") -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelError(
                f"verifier model not found: {self.path}. Set [verify] model in scanner.toml to a verifier .tflite "
                'from models/ (or to "" for the v0 rules)'
            )
        self.model = TFLiteModel(self.path, threads, runtime)
        shape, out = self.model.input.shape, self.model.output.shape
        grid = math.isqrt(max(0, out[-1] - 1)) if len(out) == 2 else 0
        if len(shape) != 4 or shape[3] != 6 or shape[1] != shape[2] or grid < 2 or grid * grid + 1 != out[-1]:
            raise ModelError(
                f"{self.path} is not a pair verifier (input {shape}, output {out}; expected (1, N, N, 6) in and "
                "(1, 1 + G*G) out): set [verify] model to a verifier .tflite from models/"
            )
        self.size, self.grid = int(shape[1]), grid
        self.sha256 = file_sha256(self.path)
        self.calibration = read_calibration(self.path)
        if self.alignment not in ALIGNMENTS:
            raise ModelError(
                f"{self.path}: unknown alignment {self.alignment!r} in its .json (expected one of {ALIGNMENTS}); "
                "restore the .json from models/"
            )

    @property
    def suspect_threshold(self) -> float:
        return float(self.calibration.get("suspect_threshold", DEFAULT_SUSPECT_THRESHOLD))

    @property
    def photo_suspect_threshold(self) -> float | None:
        """The threshold for a mark verified against a photo reference, when calibrated: such a pair differs by
        two captures, not one (tools/calibrate_verifier.py --photo-references)."""
        value = self.calibration.get("photo_suspect_threshold")
        return None if value is None else float(value)

    @property
    def views_suspect_threshold(self) -> float | None:
        """The threshold for an item's mean authenticity over several views, when calibrated."""
        value = self.calibration.get("views_suspect_threshold")
        return None if value is None else float(value)

    @property
    def alignment(self) -> str:
        return str(self.calibration.get("alignment", "similarity"))

    @property
    def refined(self) -> bool:
        """Whether the model expects the refined alignment (scanner/refine.py)."""
        return self.alignment == "refined"

    @property
    def trained_on_colourways(self) -> bool:
        """Whether its genuine training pairs included marks printed in black, white or reversed
        (make_verifier_set.py --colourways): such a model scores them as photographed, without the repaint of
        scanner/colourway.py."""
        return bool(self.calibration.get("colourways", False))

    def score(self, aligned: np.ndarray, reference: np.ndarray) -> tuple[float, np.ndarray]:
        """(authenticity 0..1, deviation 0..1 at the pair's resolution) for an aligned pair."""
        side = aligned.shape[0]
        if side != self.size:
            aligned = cv2.resize(aligned, (self.size, self.size), interpolation=cv2.INTER_AREA)
            reference = cv2.resize(reference, (self.size, self.size), interpolation=cv2.INTER_AREA)
        output = self.model.run(pair_input(aligned, reference)[None])[0]
        cells = output[1:].reshape(self.grid, self.grid)
        deviation = cv2.resize(sigmoid(cells), (side, side), interpolation=cv2.INTER_LINEAR)
        return float(sigmoid(output[0])), deviation.astype(np.float32)
