"""What one scan found: the verdict, the brand and scores, the reasons in words and the evidence, as the
pipeline fills it in (scanner/pipeline.py) and the CLI, the screen, the scan store and the hub read it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from .index import Candidate
from .locate import Box
from .verdict import Verdict

T = TypeVar("T")


@dataclass
class ScanResult:
    image: str | None = None
    verdict: Verdict | None = None
    brand: str | None = None
    brand_name: str | None = None
    similarity: float | None = None
    authenticity: float | None = None
    colour_deviation: float | None = None  # how far the mark's colours lie from its ink's (verify.colour_deviation)
    stroke_offset: float | None = None  # px its strokes lie outside the artwork's (stroke.stroke_offset)
    part_colour: float | None = None  # how far its most off-colour part strays from its ink (colour.part_colour)
    reasons: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    box: Box | None = None
    candidates: list[Candidate] = field(default_factory=list)
    error: str | None = None
    quality: dict[str, float] = field(default_factory=dict)
    heatmap: np.ndarray | None = None  # deviation map at reference resolution, when verified
    reference: np.ndarray | None = None  # the reference crop the scan was verified against
    reference_png: bytes | None = None  # the same, as the index stores it (the scan store keeps these bytes)
    aligned: np.ndarray | None = None  # the query warped onto that reference, at the verifier's size
    compared: np.ndarray | None = None  # `aligned` in the artwork's colours, where a colourway was repainted
    evidence: dict[str, str] = field(default_factory=dict)  # evidence files written for this scan
    record_id: str | None = None  # uuid in the scan store, once recorded
    shape_inliers: int | None = None  # best local-feature match count, when no brand matched by similarity
    align_correlation: float | None = None  # best edge correlation once aligned, when shape named no brand either
    near_copy: bool = False  # named only as a near copy of its brand, and flagged (naming.Namer._near_copy)
    findings: list[str] = field(default_factory=list)  # what verification found deviating, kept on a pass too
    overruled: bool = False  # a check beside the learned score flagged the mark (verify.Verification.overruled)
    views: list[dict[str, Any]] = field(default_factory=list)  # per view, for an item scanned from several
    view_frames: list[np.ndarray] = field(default_factory=list)  # those views' frames, for the record (not JSON)
    verifier_sha256: str | None = None  # the pair model that scored it (a photo reference may have its own)

    def to_json(self) -> dict[str, Any]:
        if self.error is not None:
            return {"image": self.image, "error": self.error}
        return {
            "image": self.image,
            "record": self.record_id,
            "verdict": self.verdict.value if self.verdict else None,
            "brand": self.brand,
            "brand_name": self.brand_name,
            "similarity": rounded(self.similarity),
            "authenticity": rounded(self.authenticity),
            **({"colour_deviation": round(self.colour_deviation, 1)} if self.colour_deviation is not None else {}),
            **({"stroke_offset": round(self.stroke_offset, 2)} if self.stroke_offset is not None else {}),
            **({"part_colour": round(self.part_colour, 1)} if self.part_colour is not None else {}),
            "reasons": self.reasons,
            "box": self.box.as_list() if self.box else None,
            "quality": {k: round(v, 3) for k, v in self.quality.items()},
            "candidates": [{"brand": c.brand_id, "similarity": rounded(c.similarity)} for c in self.candidates],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            **({"shape_inliers": self.shape_inliers} if self.shape_inliers is not None else {}),
            **({"align_correlation": round(self.align_correlation, 4)} if self.align_correlation is not None else {}),
            **({"near_copy": True} if self.near_copy else {}),
            **({"evidence": self.evidence} if self.evidence else {}),
            **({"views": self.views} if self.views else {}),
        }


def rounded(value: float | None) -> float | None:
    """A score as the JSON gives it (4 decimals); None stays None."""
    return None if value is None else round(value, 4)


class StageTimer:
    """Runs the stages of one scan and keeps how long each took, in ms: a ScanResult's timings_ms."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    def __call__(self, stage: str, fn: Callable[..., T], *args: Any) -> T:
        start = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.timings[stage] = (time.perf_counter() - start) * 1000
