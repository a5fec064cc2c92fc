"""The scanning pipeline, wired once: quality -> locate -> embed -> match -> verify -> verdict.

When the located logo matches no enrolled brand, scene search embeds the frame's other candidate windows
(locate.search_windows) and goes on with the best one if it clears the stricter search threshold; a
framed, recognised logo never pays for it.

One `Pipeline` per process: it loads the model and opens the brand index once; the CLI, the live loop and
the benchmarks all call `scan()` (a frame) or `scan_file()` (a path).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import numpy as np

from . import quality as quality_stage
from .align import RULES_SIZE, align_in_frame, alignment_correlation, shape_inliers
from .config import ScannerConfig
from .embed import DEFAULT_UNKNOWN_THRESHOLD, Embedder
from .exc import ImageError, ModelError
from .imageio import read_image
from .index import BrandIndex, Candidate, ReferenceImage
from .locate import CROP_SIZE, Box, Location, crop, locate, search_windows
from .pair_model import PairVerifier
from .reprint import FieldReading, read_field
from .verdict import TOO_SMALL, Verdict, decide_authenticity, decide_recognition, too_small
from .verify import Verification, judge

logger = logging.getLogger(__name__)
T = TypeVar("T")
V0_SUSPECT_THRESHOLD = 0.5  # the v0 rules' authenticity scale
# Naming by shape looks at this many of the frame's matches, nearest to any brand first: the same names on
# both held-out splits as all ~30 windows, 1 FlickrLogos photo of 105 fewer, half the time (9.5 ms p50).
SHAPE_WINDOWS = 8
# Naming by outline costs an alignment per window (about 8 ms here): the nearest match only (three caught
# one counterfeit fewer on the test split at 3x the cost, their higher chance correlation raising the bar).
ALIGN_WINDOWS = 1
# Reading a mark printed inside a field looks at the located box, then at this many scene windows nearest to
# any brand, aligning only the copy of theirs nearest to any brand: 4 raised the test colourway split's accuracy
# 1.5 points (8: 2.0) for 7 ms more at the median on a frame that stays `unknown` (8: 14 ms).
REPRINT_WINDOWS = 4


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
    near_copy: bool = False  # named only as a near copy of its brand, and flagged (Pipeline._near_copy)
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


@dataclass
class _Match:
    """A crop of the frame, its embedding and the brands nearest to it."""

    box: Box
    crop: np.ndarray
    embedding: np.ndarray
    candidates: list[Candidate]
    # (reference id, edge correlation) of the copy of a mark inside a field that named this match (_copy_named):
    # verification checks the same copy against the same reference before erasing the field's edge.
    copy_fit: tuple[int, float] | None = None

    @property
    def similarity(self) -> float:
        return self.candidates[0].similarity if self.candidates else -1.0

    @functools.cached_property
    def field(self) -> FieldReading | None:
        """The crop read as a mark printed inside a field (scanner/reprint.py), read once."""
        return read_field(self.crop)


class _Naming(NamedTuple):
    """How a frame no brand matched by similarity was named (Pipeline._name_unmatched): the match to verify,
    the reason that says how, and for a frame named only as a near copy (to be flagged or not named at all) the
    edge correlation it nearly lined up at."""

    match: _Match
    reason: str
    near_copy: float | None = None


def _named_from_copy(brand_name: str | None, correlation: float) -> str:
    """The reason for a name read from a copy of a mark printed inside a field (scanner/reprint.py)."""
    inside = f"the mark inside its field, redrawn dark on light, lines up with the {brand_name} reference"
    return f"named as a print on a field: {inside} (edge correlation {correlation:.2f})"


NEAR_COPY = "named as a near copy"  # how the reason of a mark named only as a near copy of a brand begins
NEAR_NOT_NAMED = "shows no deviation to flag: not named"  # ...and how an unknown scan's ends, where it passed


def _named_near_copy(brand_name: str | None, correlation: float) -> str:
    """The reason for a name given to a mark that nearly lines up with a brand's reference (_near_copy)."""
    return f"{NEAR_COPY}: the mark nearly lines up with the {brand_name} reference (edge correlation {correlation:.2f})"


def _near_copy_not_named(brand_name: str | None, correlation: float) -> str:
    """The reason an unknown scan adds when its near copy of a brand showed no deviation to flag."""
    return f"{brand_name} lines up nearly (edge correlation {correlation:.2f}) but {NEAR_NOT_NAMED}"


def _unknown(result: ScanResult, reasons: list[str]) -> None:
    """Make the scan `unknown` for `reasons`: it names no brand; its candidates keep the closest."""
    result.verdict, result.reasons = Verdict.UNKNOWN, reasons
    result.brand = result.brand_name = None


def _closest(matches: list[_Match]) -> _Match | None:
    """The match nearest to any enrolled brand (the first of equals), or None for no matches."""
    return max(matches, key=lambda m: m.similarity, default=None)


class _Timer:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    def __call__(self, stage: str, fn: Callable[..., T], *args: Any) -> T:
        start = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.timings[stage] = (time.perf_counter() - start) * 1000


class Pipeline:
    def __init__(self, config: ScannerConfig, index_path: Path) -> None:
        self.config = config
        self.embedder = Embedder(Path(config.model.path), config.model.threads, config.model.runtime)
        self.index = BrandIndex.open(index_path, self.embedder.sha256)
        calibration = self.embedder.calibration

        def threshold(key: str, override: float, default: float) -> float:
            """The config's value when set, else the model's calibrated one, else `default`."""
            return override or float(calibration.get(key, default))

        settings = config.match
        self.unknown_threshold = threshold("unknown_threshold", settings.unknown_threshold, DEFAULT_UNKNOWN_THRESHOLD)
        # Scene search needs a threshold calibrated for the best of many windows; a model without one
        # (tools/calibrate_threshold.py records it) scans the located box only.
        self.search_threshold = (
            threshold("search_threshold", settings.search_threshold, 0.0) if config.locate.search else 0.0
        )
        # A photo reference carries its background, so other scenes come closer to it than to artwork: a match
        # whose nearest reference is a photo is judged by the thresholds calibrated for an index with photos
        # (calibrate_threshold.py --photos-per-brand), the artwork's where the model has none.
        self.photo_unknown_threshold = threshold(
            "photo_unknown_threshold", settings.unknown_threshold, self.unknown_threshold
        )
        self.photo_search_threshold = (
            threshold("photo_search_threshold", settings.search_threshold, self.search_threshold)
            if self.search_threshold
            else 0.0
        )
        self.verifier = (
            PairVerifier(Path(config.verify.model), config.model.threads, config.model.runtime)
            if config.verify.model
            else None
        )
        self.photo_verifier = self._photo_verifier(config)
        # Search stops at the first window as close as a typical framed genuine photo (the calibration
        # split's lower quartile): a closer window would change little, and recognised frames pay half.
        stop = float(calibration.get("search_stop", 0.0))
        self.search_stop = max(stop, self.search_threshold) if stop else None
        # Align at the side the pair model sees: a finer alignment than the model's input is thrown away, and a
        # coarser one upsampled is detail the model was trained to see but would not get.
        self.verify_size = config.verify.size or (self.verifier.size if self.verifier else RULES_SIZE)
        default_threshold = self.verifier.suspect_threshold if self.verifier else V0_SUSPECT_THRESHOLD
        self.suspect_threshold = config.verify.suspect_threshold or default_threshold
        # A brand enrolled from photos only is verified photo against photo, whose genuine pairs score lower.
        default_photo = self.photo_verifier.photo_suspect_threshold if self.photo_verifier else None
        self.photo_suspect_threshold = config.verify.photo_suspect_threshold or default_photo or self.suspect_threshold
        # An item's mean authenticity over several views is judged by its own threshold (scanner/views.py).
        default_views = self.verifier.views_suspect_threshold if self.verifier else None
        self.views_threshold = config.verify.views_suspect_threshold or default_views or self.suspect_threshold
        self.index.load(config.match.search_breadth)
        # OpenCV builds its colour-conversion tables on first use (~70 ms): pay that at start-up.
        locate(np.zeros((48, 64, 3), np.uint8), config.locate)

    def _photo_verifier(self, config: ScannerConfig) -> PairVerifier | None:
        """The pair model for marks verified against a photo reference: [verify] photo_model, trained with photo
        references, or the artwork's model where none is set. It must take the pair the artwork's model takes,
        since one alignment serves both."""
        path = config.verify.photo_model
        if not path or not self.verifier or Path(path).resolve() == self.verifier.path.resolve():
            return self.verifier
        model = PairVerifier(Path(path), config.model.threads, config.model.runtime)
        if (model.size, model.alignment) != (self.verifier.size, self.verifier.alignment):
            raise ModelError(
                f"[verify] photo_model {path} takes {model.size} px pairs aligned by {model.alignment}, but [verify] "
                f"model takes {self.verifier.size} px by {self.verifier.alignment}: set photo_model to a verifier "
                'trained like the model, or to "" to use the model for photo references too'
            )
        return model

    def judged_by(self, reference: ReferenceImage) -> tuple[PairVerifier | None, float]:
        """(the pair model that scores a mark verified against `reference`, the authenticity below which it is
        `suspect`): the photo model and threshold for a photo of genuine goods, the artwork's otherwise."""
        if reference.artwork:
            return self.verifier, self.suspect_threshold
        return self.photo_verifier, self.photo_suspect_threshold

    def views_threshold_for(self, brand_id: str | None) -> float:
        """The threshold for an item's mean authenticity over views naming `brand_id`. A brand enrolled from
        photos alone takes its one-view photo threshold: no two-view photo split calibrates one, and the mean of
        two views falls under a one-view 3% point less often than one view does."""
        if brand_id is not None and not self.index.has_artwork(brand_id):
            return self.photo_suspect_threshold
        return self.views_threshold

    @property
    def refined_alignment(self) -> bool:
        """Whether scans align as the verifier's training pairs were: refined (its .json says); v0 rules: no."""
        return bool(self.verifier and self.verifier.refined)

    @property
    def repaints_colourways(self) -> bool:
        """Whether a mark printed in a genuine colourway is scored in the artwork's colours: where the config
        asks for it and the verifier was not trained on colourways itself."""
        return bool(self.config.verify.colourways and self.verifier and not self.verifier.trained_on_colourways)

    def close(self) -> None:
        self.index.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def scan_file(self, path: Path) -> tuple[np.ndarray | None, ScanResult]:
        """(frame, result) for an image file; an unreadable file gives (None, a result with `error`)."""
        try:
            frame = read_image(path)
        except ImageError as err:
            return None, ScanResult(image=str(path), error=str(err))
        result = self.scan(frame)
        result.image = str(path)
        return frame, result

    def combine(self, views: list[ScanResult], frames: list[np.ndarray]) -> tuple[int, ScanResult]:
        """(the view it shows, one result for an item) from the results of its views (scanner/views.py) and the
        frames they were scanned from, which the result keeps for the record."""
        from .views import combine_views

        shown, item = combine_views(views, self.views_threshold_for)
        item.view_frames = frames
        return shown, item

    def scan_item(
        self, paths: list[Path], more_views_for: str = "all"
    ) -> tuple[np.ndarray | None, ScanResult, list[ScanResult]]:
        """(the frame the item's result shows, that result, the results of views that could not be read) for image
        files that are views of one item. The views after the first are scanned only where `more_views_for`
        wants them ([live] more_views_for). With no readable view, the first view's error result and no frame."""
        from .views import wants_more_views

        frame, first = self.scan_file(paths[0])
        if first.error is None and not wants_more_views(first, more_views_for):
            return frame, first, []
        scanned = [(frame, first)] + [self.scan_file(path) for path in paths[1:]]
        readable = [(f, r) for f, r in scanned if r.error is None]
        unreadable = [r for _, r in scanned if r.error is not None]
        if not readable:
            return None, first, unreadable
        shown, item = self.combine([r for _, r in readable], [f for f, _ in readable if f is not None])
        return readable[shown][0], item, unreadable

    def scan(self, frame: np.ndarray) -> ScanResult:
        start = time.perf_counter()
        timer = _Timer()
        result = ScanResult()
        self._run_stages(frame, timer, result)
        result.timings_ms = timer.timings
        result.timings_ms["total"] = (time.perf_counter() - start) * 1000
        logger.debug("scan: %s %s in %.1f ms", result.verdict, result.brand, result.timings_ms["total"])
        return result

    def _run_stages(self, frame: np.ndarray, timer: _Timer, result: ScanResult) -> None:
        config = self.config
        report = timer("quality", quality_stage.assess, frame, config.quality)
        result.quality = report.metrics()
        if not report.ok:
            result.verdict, result.reasons = Verdict.RESCAN, list(report.reasons)
            return
        location = timer("locate", locate, frame, config.locate)
        result.box = location.box
        if too_small(location, config):
            # Often one piece of a larger mark (a cast shadow or a pale part split it from the rest): the
            # scene search looks over the frame before the operator is asked to move closer.
            windows = self._search(frame, location, timer)
            accepted = self._accepted_window(windows)
            if accepted is None:
                result.verdict, result.reasons = Verdict.RESCAN, [TOO_SMALL]
                return
            match, threshold = accepted
        else:
            match, threshold, windows = self._recognise(frame, location, timer)

        self._name(result, match)
        searched = _closest(windows)
        closest_window = searched.candidates[0] if searched is not None and searched.candidates else None
        nearest = result.candidates[0] if result.candidates else None
        verdict, reasons = decide_recognition(nearest, threshold, closest_window)
        named_by: list[str] = []
        near_copy: float | None = None  # the correlation of a frame named only as a near copy
        as_found = (result.box, result.candidates, result.similarity)
        if verdict is Verdict.UNKNOWN and result.candidates:
            named = self._name_unmatched(result, match, windows, threshold, timer)
            if named is not None:
                match, near_copy, verdict = named.match, named.near_copy, None
                named_by = [named.reason]
        if verdict is not None:
            _unknown(result, reasons)
            return
        if not named_by and self.reads_fields:
            renamed = timer("field", self._named_otherwise, result, match)
            if renamed is not None:
                match, reason = renamed
                named_by = [reason]
        if not named_by:
            tie = self._near_tie(match)
            if tie is not None:
                untied = timer("tie", self._tie_broken_by_outline, frame, result, match, tie)
                if untied is not None:
                    match, reason = untied
                    named_by = [reason]

        best = result.candidates[0]
        reference = self.index.verification_reference(best.brand_id, best.reference_id)
        verifier, threshold = self.judged_by(reference)
        verification, box = timer("verify", self._verify, frame, match, reference, verifier, threshold)
        against_photo = not reference.artwork
        verdict, verdict_reasons = decide_authenticity(verification, threshold, against_photo)
        if near_copy is not None and verdict is not Verdict.SUSPECT:
            # Named only as a near copy: nothing to flag, and no genuine mark to pass.
            not_named = _near_copy_not_named(result.brand_name, near_copy)
            result.box, result.candidates, result.similarity = as_found
            _unknown(result, [*reasons, not_named])
            return
        result.box = box
        result.authenticity = verification.authenticity
        result.colour_deviation = verification.colour_deviation
        result.stroke_offset = verification.stroke_offset
        result.part_colour = verification.part_colour
        result.heatmap = verification.deviation
        result.reference, result.reference_png = reference.crop, reference.png
        result.aligned, result.compared = verification.aligned, verification.compared
        result.findings, result.overruled = verification.reasons, verification.overruled
        result.verifier_sha256 = verifier.sha256 if verifier else None
        result.verdict, result.reasons = verdict, verdict_reasons + named_by
        result.near_copy = near_copy is not None

    def _verify(
        self,
        frame: np.ndarray,
        match: _Match,
        reference: ReferenceImage,
        verifier: PairVerifier | None,
        threshold: float,
    ) -> tuple[Verification, Box]:
        """The match verified against `reference` by `verifier` at `threshold` (judged_by), and the box it was
        verified in (the mark framed again when the match's box framed it badly: align.align_in_frame). A mark
        reversed out of a field is verified with the field's edge erased, when that print is then read as a
        colourway of the artwork (_edge_erased; the verification's field_edge_erased)."""

        def judged(in_frame: np.ndarray, cut: _Match) -> tuple[Verification, Box]:
            refined = self.refined_alignment  # as the model's training pairs were aligned
            a, box = align_in_frame(in_frame, cut.box, reference, self.verify_size, refined, cut.crop)
            bounds = self.config.verify
            verification = judge(
                a,
                verifier,
                threshold,
                colour_bound=bounds.colour_bound,
                stroke_bound=bounds.stroke_bound,
                part_colour_bound=bounds.part_colour_bound,
                colourways=self.repaints_colourways,
            )
            return verification, box

        erased = self._edge_erased(frame, match, reference)
        if erased is not None:
            verification, box = judged(*erased)
            if verification.compared is not None:
                return replace(verification, field_edge_erased=True), box
        return judged(frame, match)

    def _edge_erased(
        self, frame: np.ndarray, match: _Match, reference: ReferenceImage
    ) -> tuple[np.ndarray, _Match] | None:
        """(the frame with the field's edge erased, the match cut from it) for a mark reversed out of a field
        (scanner/reprint.py) whose copy, redrawn dark on light, lines up with `reference` as naming by outline
        asks; None otherwise, or where colourways are not repainted (the erased print is kept only when it reads
        as one). The field's edge, which the artwork lacks, pulls the alignment off the mark."""
        if not (self.config.verify.erase_field_edge and self.reads_fields and self.repaints_colourways):
            return None
        reading = match.field
        if reading is None or not reading.reversed_out:
            return None
        if match.copy_fit is not None and match.copy_fit[0] == reference.id:
            correlation = match.copy_fit[1]  # the copy named the match against this reference
        else:
            correlation = alignment_correlation(reading.redrawn(self.config.locate), reference)
        if correlation < self.config.match.align_correlation:
            return None
        erased = reading.edge_erased(frame, match.box)
        return erased, replace(match, crop=crop(erased, match.box, CROP_SIZE), copy_fit=None)

    def _name(self, result: ScanResult, match: _Match) -> None:
        """Put the match's box, candidates and nearest brand on the result."""
        result.box, result.candidates = match.box, match.candidates
        best = match.candidates[0] if match.candidates else None
        if best is not None:
            result.brand, result.similarity = best.brand_id, best.similarity
            result.brand_name = self.index.brand(best.brand_id).name

    def _name_unmatched(
        self, result: ScanResult, located: _Match, windows: list[_Match], threshold: float, timer: _Timer
    ) -> _Naming | None:
        """A frame no brand matched by similarity, named by shape, else by outline, else as a mark printed on a
        field (_reprinted), else as a near copy of a brand (_near_copy); None when none names it. `threshold` is
        the located box's."""

        def missed(named: _Match) -> str:
            """How far the named match's similarity fell short: a scene-search window has its own threshold."""
            own = self._threshold(named, search=True) if any(named is w for w in windows) else threshold
            return f"similarity {result.similarity:.2f}, under the {own:.2f} that names a brand"

        matches = [located, *windows]
        if self.config.match.shape_inliers:
            shaped, inliers = self._best_by(matches, SHAPE_WINDOWS, shape_inliers, timer, "shape")
            result.shape_inliers = int(inliers)
            if shaped is not None and inliers >= self.config.match.shape_inliers:
                self._name(result, shaped)
                features = f"{inliers} local features match the {result.brand_name} reference in place"
                return _Naming(shaped, f"named by shape: {features} ({missed(shaped)})")
        if self.config.match.align_correlation:
            lined_up, result.align_correlation = self._best_by(
                matches, ALIGN_WINDOWS, alignment_correlation, timer, "outline"
            )
            if lined_up is not None and result.align_correlation >= self.config.match.align_correlation:
                self._name(result, lined_up)
                outline = f"the mark lines up with the {result.brand_name} reference"
                correlation = f"edge correlation {result.align_correlation:.2f}"
                return _Naming(lined_up, f"named by outline: {outline} ({correlation}; {missed(lined_up)})")
            if self.reads_fields:
                reprinted = timer("reprint", self._reprinted, located, windows)
                if reprinted is not None:
                    copied, lines_up = reprinted
                    self._name(result, copied)
                    return _Naming(copied, _named_from_copy(result.brand_name, lines_up))
            if lined_up is not None and self._near_copy(lined_up, result.align_correlation, threshold):
                self._name(result, lined_up)
                near = result.align_correlation
                return _Naming(lined_up, _named_near_copy(result.brand_name, near), near)
        return None

    def _near_copy(self, lined_up: _Match, correlation: float, threshold: float) -> bool:
        """Whether the window that lined up best, short of naming its brand by outline, is near enough that
        brand to be verified as a copy of it ([match] near_correlation): as similar as the located box must be to
        be named, and lined up at least near_correlation in edges. Unrelated marks seldom reach both
        (tools/calibrate_shape.py --by near); a counterfeit that moved, dropped or mirrored a part often does."""
        bound = self.config.match.near_correlation
        return bool(bound) and correlation >= bound and lined_up.similarity >= threshold

    @property
    def reads_fields(self) -> bool:
        """Whether a mark printed inside a field is read from a copy redrawn dark on light ([match]
        reprint_fields), which the outline's bound ([match] align_correlation) gates."""
        return bool(self.config.match.reprint_fields and self.config.match.align_correlation)

    def _copy_named(self, matches: list[_Match], other_than: str | None = None) -> tuple[_Match, float] | None:
        """Of the matches whose crop holds a mark inside a field, the one whose mark, redrawn dark on light, comes
        nearest to any brand, named anew from that copy, with how well the copy lines up with its nearest brand's
        reference; None when no crop holds a field, when that copy comes nearest `other_than`, or when it lines
        up less than [match] align_correlation asks. One alignment, however many copies."""
        nearest: tuple[_Match, np.ndarray, np.ndarray, list[Candidate]] | None = None
        for match in matches:
            if match.field is None:
                continue
            copy = match.field.redrawn(self.config.locate)
            embedding = self.embedder.embed(copy)
            candidates = self.index.search(embedding, self.config.match.top_k)
            if candidates and (nearest is None or candidates[0].similarity > nearest[3][0].similarity):
                nearest = (match, copy, embedding, candidates)
        if nearest is None or nearest[3][0].brand_id == other_than:
            return None
        match, copy, embedding, candidates = nearest
        reference = self.index.verification_reference(candidates[0].brand_id, candidates[0].reference_id)
        correlation = alignment_correlation(copy, reference)
        if correlation < self.config.match.align_correlation:
            return None
        # The box and its crop as photographed: the verifier judges the print, not the copy.
        return replace(
            match, embedding=embedding, candidates=candidates, copy_fit=(reference.id, correlation)
        ), correlation

    def _reprinted(self, located: _Match, windows: list[_Match]) -> tuple[_Match, float] | None:
        """_copy_named of the located box, else of the scene-search windows nearest to any brand: a small label
        beside a long cast shadow is a small share of the box the shadow widened, and a window frames it closer."""
        nearest_windows = sorted(windows, key=lambda m: -m.similarity)[:REPRINT_WINDOWS]
        return self._copy_named([located]) or self._copy_named(nearest_windows)

    def _named_otherwise(self, result: ScanResult, match: _Match) -> tuple[_Match, str] | None:
        """A mark printed inside a field that similarity named, renamed when its copy lines up with another brand's
        reference better than the photographed crop lines up with the brand it was named: the field takes the
        embedder's eye, so a white mark on a red label can come nearest a brand whose mark is a red label.
        (the match to verify, the reason that says why), or None when the name stands."""
        copied = self._copy_named([match], other_than=result.brand)
        if copied is None:
            return None
        renamed, lines_up = copied
        named = match.candidates[0]
        as_named = alignment_correlation(
            match.crop, self.index.verification_reference(named.brand_id, named.reference_id)
        )
        if lines_up <= as_named:
            return None
        resembled = result.brand_name
        self._name(result, renamed)
        better = f"better than the print lines up with the {resembled} reference it resembles ({as_named:.2f})"
        return renamed, f"{_named_from_copy(result.brand_name, lines_up)}, {better}"

    def _near_tie(self, match: _Match) -> Candidate | None:
        """The nearest candidate of another brand when it comes within [match] tie_margin of the named one in
        similarity (a tie the embedder cannot break), else None."""
        margin = self.config.match.tie_margin
        if not margin or not match.candidates:
            return None
        named = match.candidates[0]
        runner_up = next((c for c in match.candidates[1:] if c.brand_id != named.brand_id), None)
        if runner_up is None or named.similarity - runner_up.similarity >= margin:
            return None
        return runner_up

    def _tie_broken_by_outline(
        self, frame: np.ndarray, result: ScanResult, match: _Match, runner_up: Candidate
    ) -> tuple[_Match, str] | None:
        """A near tie in similarity (_near_tie) decided by outline: the match renamed to the runner-up when the
        crop lines up with its reference better than with the named brand's, with the reason that says so;
        None when the name stands. Two marks of one style (a wave and a letter drawn in the same stroke) can
        sit equally near one photo, and only one of them has its outline."""
        named = match.candidates[0]

        def lines_up_with(candidate: Candidate) -> float:
            # Framed again where the box framed the mark badly, as verification will: a loose box fails to align.
            reference = self.index.verification_reference(candidate.brand_id, candidate.reference_id)
            return align_in_frame(frame, match.box, reference, RULES_SIZE, True, match.crop)[0].fit

        as_named, other = lines_up_with(named), lines_up_with(runner_up)
        if other <= as_named:
            return None
        passed_over = result.brand_name
        candidates = [c for c in match.candidates if c.brand_id == runner_up.brand_id]
        renamed = replace(match, candidates=candidates + [c for c in match.candidates if c not in candidates])
        self._name(result, renamed)
        lines_up = f"the mark lines up with the {result.brand_name} reference (edge correlation {other:.3f})"
        similar = f"{named.similarity:.2f} against {runner_up.similarity:.2f}"
        tied = f"{passed_over} was as similar ({similar}) but lines up {as_named:.3f}"
        return renamed, f"named by outline from a near tie: {lines_up}; {tied}"

    def _best_by(
        self,
        matches: list[_Match],
        count: int,
        measure: Callable[[np.ndarray, ReferenceImage], float],
        timer: _Timer,
        stage: str,
    ) -> tuple[_Match | None, float]:
        """Of the `count` matches nearest to any brand, the one whose crop measures highest against its nearest
        brand's reference, and that measure (timed as `stage`); (None, 0) when no match has a candidate."""
        nearest_first = sorted(matches, key=lambda m: -m.similarity)[:count]
        return timer(stage, self._highest, nearest_first, measure)

    def _highest(
        self, matches: list[_Match], measure: Callable[[np.ndarray, ReferenceImage], float]
    ) -> tuple[_Match | None, float]:
        best: tuple[_Match | None, float] = (None, 0)
        for match in matches:
            if not match.candidates:
                continue
            nearest = match.candidates[0]
            reference = self.index.verification_reference(nearest.brand_id, nearest.reference_id)
            value = measure(match.crop, reference)
            if best[0] is None or value > best[1]:
                best = (match, value)
        return best

    def _recognise(self, frame: np.ndarray, location: Location, timer: _Timer) -> tuple[_Match, float, list[_Match]]:
        """The located box's match, widened or replaced by the scene search's best window when it falls short;
        with the threshold it is to be judged by, and the windows searched (none when the box sufficed)."""
        config = self.config
        match = self._match(frame, location.box, timer)
        windows: list[_Match] = []
        if match.similarity < self._threshold(match) and config.match.wide_breadth and self.index.approximate:
            # The graph may have missed the brand's reference: a wider search before looking elsewhere.
            wide = timer("rematch", self.index.search, match.embedding, config.match.top_k, config.match.wide_breadth)
            if wide and wide[0].similarity > match.similarity:
                match.candidates = wide
        threshold = self._threshold(match)
        if match.similarity < threshold and match.candidates:
            windows = self._search(frame, location, timer)
            match, threshold = self._accepted_window(windows) or (match, threshold)
        return match, threshold, windows

    def _accepted_window(self, windows: list[_Match]) -> tuple[_Match, float] | None:
        """The scene search's closest window and the threshold it cleared, or None when it clears none."""
        closest = _closest(windows)
        if closest is None:
            return None
        threshold = self._threshold(closest, search=True)
        return (closest, threshold) if closest.similarity >= threshold else None

    def _threshold(self, match: _Match, search: bool = False) -> float:
        """The similarity `match` must reach to name its nearest brand: the located box's (unknown_threshold)
        or a scene-search window's (`search`), each with a photo counterpart for a nearest reference that
        is a photo."""
        photo = bool(match.candidates) and not match.candidates[0].artwork
        if search:
            return self.photo_search_threshold if photo else self.search_threshold
        return self.photo_unknown_threshold if photo else self.unknown_threshold

    def _search(self, frame: np.ndarray, location: Location, timer: _Timer) -> list[_Match]:
        """Scene search's windows, when it is on (none when not)."""
        if not self.search_threshold:
            return []
        return timer("search", self.scene_windows, frame, self.search_stop, location)

    def _match(self, frame: np.ndarray, box: Box, timer: _Timer) -> _Match:
        query_crop = crop(frame, box, CROP_SIZE)  # the embedder scales it to its own input size
        embedding = timer("embed", self.embedder.embed, query_crop)
        return _Match(box, query_crop, embedding, timer("match", self.index.search, embedding, self.config.match.top_k))

    def search_scene(
        self, frame: np.ndarray, good_enough: float | None = None, location: Location | None = None
    ) -> _Match:
        """The window of the frame (locate.search_windows) nearest to any enrolled brand, whatever its similarity;
        with `good_enough`, the first window (blobs first, then larger windows first) that reaches it.
        `location`, the frame's own when the scan already located it, saves locating again."""
        best = _closest(self.scene_windows(frame, good_enough, location))
        assert best is not None  # the grid always has windows
        return best

    def scene_windows(
        self, frame: np.ndarray, good_enough: float | None = None, location: Location | None = None
    ) -> list[_Match]:
        """Every window search_scene looked at, in order: all of them, or up to the first that reaches
        `good_enough`."""
        timer = _Timer()  # the scan's own embed and match timings stay the located box's
        matches: list[_Match] = []
        for box in search_windows(frame, self.config.locate, location):
            matches.append(self._match(frame, box, timer))
            if good_enough is not None and matches[-1].similarity >= good_enough:
                break  # a recognised window: the rest would only cost time
        return matches
