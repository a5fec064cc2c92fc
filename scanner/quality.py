"""Quality gate: is this frame good enough to judge? Blur, exposure, glare, contrast and size.

All measures are taken on a grey copy scaled to a fixed width, so thresholds do not depend on the camera's
resolution. Failing frames get `rescan` with reasons that say what the operator should do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .config import QualityConfig
from .locate import edge_band

ANALYSIS_WIDTH = 320
NEAR_WHITE = 250  # grey level from which a pixel counts as saturated
EDGE = 0.05  # the frame's edge band, as a fraction of its shorter side: what the surroundings look like
EDGE_WINDOW = np.ones((5, 5), np.uint8)  # neighbourhood whose grey-level range is an edge's step height
MIN_EDGE_STEP = 12  # grey levels: a smaller step is noise or texture, not an edge to judge focus on
MIN_EDGE_PIXELS = 20


@dataclass
class QualityReport:
    sharpness: float  # edge steepness, see sharpness()
    brightness: float  # grey level of the brightest 1% of the frame, see exposure()
    glare: float
    contrast: float
    reasons: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.reasons

    def metrics(self) -> dict[str, float]:
        return {
            "sharpness": self.sharpness,
            "brightness": self.brightness,
            "glare": self.glare,
            "contrast": self.contrast,
        }


def gradient_magnitude(grey: np.ndarray) -> np.ndarray:
    """Sobel gradient magnitude of a float32 grey image.

    numpy's square root, not cv2.magnitude: OpenCV 4.10's result differs in the last bit with the arrays'
    memory alignment, so the same frame could be measured a little differently from one scan to the next.
    """
    dx, dy = cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)
    return np.sqrt(dx * dx + dy * dy)


def edge_strength(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gradient magnitude of a BGR image's grey, blurred by `sigma` first: where its edges are and how strong,
    whatever colour the ink is."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return gradient_magnitude(cv2.GaussianBlur(grey, (0, 0), sigma))


def analysis_grey(frame: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    scale = ANALYSIS_WIDTH / grey.shape[1]
    return cv2.resize(grey, (ANALYSIS_WIDTH, max(1, round(grey.shape[0] * scale))), interpolation=cv2.INTER_AREA)


def integer_percentiles(values: np.ndarray, percents: list[float]) -> list[float]:
    """np.percentile (linear interpolation) of non-negative integer-valued pixels, from a histogram: the
    same numbers without sorting the frame (a quarter of the quality gate's time went to sorting)."""
    counts = np.bincount(values.astype(np.int64).ravel())
    cumulative = np.cumsum(counts)
    results = []
    for percent in percents:
        rank = percent / 100 * (cumulative[-1] - 1)
        low = int(np.floor(rank))
        low_value = int(np.searchsorted(cumulative, low, side="right"))
        high_value = int(np.searchsorted(cumulative, min(low + 1, cumulative[-1] - 1), side="right"))
        results.append(low_value + (rank - low) * (high_value - low_value))
    return results


def sharpness(grey: np.ndarray) -> float:
    """How steep the frame's crispest edges are for their height: the 99th percentile, over pixels on an
    edge, of the gradient divided by the grey-level range around the pixel (5x5). About 1 / (edge width in
    analysis pixels): 0.7-0.9 for a sharp photo, near 0.5 once a blur spreads each edge over a few pixels.

    Each edge is measured against its own step, not the frame's contrast: a sharp pale mark under a dark
    cast shadow has small steps beside the shadow's large one, and the old ratio to the frame's spread (p99.5
    |Laplacian| / p99 - p1) called 7 of 600 usable held-out photos blurred while letting 4 of 100 blurred
    ones through. A light blur first keeps sensor noise from passing for detail; 0 when the frame has almost
    no edges (the contrast rule says why).
    """
    smoothed = cv2.GaussianBlur(grey, (3, 3), 0).astype(np.float32)
    gradient = gradient_magnitude(smoothed) / 4
    step = cv2.dilate(smoothed, EDGE_WINDOW) - cv2.erode(smoothed, EDGE_WINDOW)
    on_edge = step >= MIN_EDGE_STEP
    if np.count_nonzero(on_edge) < MIN_EDGE_PIXELS:
        return 0.0
    return float(np.percentile(gradient[on_edge] / step[on_edge], 99))


def exposure(grey: np.ndarray) -> tuple[float, float]:
    """(highlights, contrast) from one histogram of the frame.

    Highlights: the grey level the brightest 1% of the frame reaches. An underexposed frame is dark all
    over; a bright mark on dark goods is not, although the frame's mean is as low (the mean called 5 of 600
    usable held-out photos too dark, among them an orange mark on navy cloth).
    Contrast: the spread between the darkest and brightest 1% of pixels: a logo on a plain surface is high
    contrast even though most of the frame is flat (so not the standard deviation).
    """
    low, high = integer_percentiles(grey, [1, 99])
    return high, float(high - low)


def glare(grey: np.ndarray) -> float:
    """Share of the frame saturated beyond what its edge band already is: a highlight over the goods.

    Saturation the edges share is the surface itself (white packaging, a logo printed on white), and the
    mark on it is intact; only the excess is light washing the mark out. The plain share of saturated
    pixels turned away 27% of the FlickrLogos-27 photos (most of them clean logos on white) as glare.
    """
    saturated = grey >= NEAR_WHITE
    band = max(1, int(EDGE * min(grey.shape)))
    return max(0.0, float(saturated.mean()) - float(edge_band(saturated, band, band).mean()))


def assess(frame: np.ndarray, config: QualityConfig) -> QualityReport:
    height, width = frame.shape[:2]
    if min(height, width) < config.min_side:
        return QualityReport(
            0.0, 0.0, 0.0, 0.0, [f"image too small ({width}x{height}): move closer or use a larger image"]
        )
    grey = analysis_grey(frame)
    highlights, spread = exposure(grey)
    report = QualityReport(sharpness=sharpness(grey), brightness=highlights, glare=glare(grey), contrast=spread)
    report.reasons = gate_reasons(report, config)
    return report


def gate_reasons(report: QualityReport, config: QualityConfig) -> list[str]:
    """Why a frame with these measurements cannot be judged under `config` (empty when it can). Separate
    from the measuring so that tools/calibrate_quality.py can try many settings on one set of measurements."""
    reasons = []
    if report.brightness < config.min_brightness:
        reasons.append("too dark: add light or turn on the torch")
    elif report.glare > config.max_glare:
        reasons.append("glare or overexposed: tilt the item away from the light")
    if report.contrast < config.min_contrast:
        reasons.append("no contrast: nothing recognisable in view")
    elif report.sharpness < config.min_sharpness:
        reasons.append("blurred: hold steady and refocus")
    return reasons
