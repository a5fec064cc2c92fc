"""The scanning pipeline, wired once: quality -> locate -> embed -> match -> verify -> verdict.

When the located logo matches no enrolled brand, scene search embeds the frame's other candidate windows
(locate.search_windows) and goes on with the best one if it clears the stricter search threshold; a
framed, recognised logo never pays for it. Naming a brand where similarity alone does not (by shape, by
outline, from a print's field, as a near copy, or a near tie decided by outline) is scanner/naming.py's; what
a scan found is a scanner/result.py ScanResult.

One `Pipeline` per process: it loads the model and opens the brand index once; the CLI, the live loop and
the benchmarks all call `scan()` (a frame) or `scan_file()` (a path).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from . import quality as quality_stage
from .align import RULES_SIZE, align_in_frame, alignment_correlation
from .config import ScannerConfig
from .embed import DEFAULT_UNKNOWN_THRESHOLD, Embedder
from .exc import ImageError, ModelError
from .imageio import read_image
from .index import BrandIndex, ReferenceImage
from .locate import CROP_SIZE, Box, Location, crop, locate, search_windows
from .naming import Match, Namer, near_copy_not_named
from .pair_model import PairVerifier
from .result import ScanResult, StageTimer
from .verdict import TOO_SMALL, Verdict, decide_authenticity, decide_recognition, too_small
from .verify import Verification, judge

logger = logging.getLogger(__name__)
V0_SUSPECT_THRESHOLD = 0.5  # the v0 rules' authenticity scale


def _unknown(result: ScanResult, reasons: list[str]) -> None:
    """Make the scan `unknown` for `reasons`: it names no brand; its candidates keep the closest."""
    result.verdict, result.reasons = Verdict.UNKNOWN, reasons
    result.brand = result.brand_name = None


def _closest(matches: list[Match]) -> Match | None:
    """The match nearest to any enrolled brand (the first of equals), or None for no matches."""
    return max(matches, key=lambda m: m.similarity, default=None)


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
        self.namer = Namer(config, self.index, self.embedder, self._threshold)
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
        timer = StageTimer()
        result = ScanResult()
        self._run_stages(frame, timer, result)
        result.timings_ms = timer.timings
        result.timings_ms["total"] = (time.perf_counter() - start) * 1000
        logger.debug("scan: %s %s in %.1f ms", result.verdict, result.brand, result.timings_ms["total"])
        return result

    def _run_stages(self, frame: np.ndarray, timer: StageTimer, result: ScanResult) -> None:
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

        self.namer.name(result, match)
        searched = _closest(windows)
        closest_window = searched.candidates[0] if searched is not None and searched.candidates else None
        nearest = result.candidates[0] if result.candidates else None
        verdict, reasons = decide_recognition(nearest, threshold, closest_window)
        named_by: list[str] = []
        near_copy: float | None = None  # the correlation of a frame named only as a near copy
        as_found = (result.box, result.candidates, result.similarity)
        if verdict is Verdict.UNKNOWN and result.candidates:
            named = self.namer.name_unmatched(result, match, windows, threshold, timer)
            if named is not None:
                match, near_copy, verdict = named.match, named.near_copy, None
                named_by = [named.reason]
        if verdict is not None:
            _unknown(result, reasons)
            return
        if not named_by and self.namer.reads_fields:
            renamed = timer("field", self.namer.named_otherwise, result, match)
            if renamed is not None:
                match, reason = renamed
                named_by = [reason]
        if not named_by:
            tie = self.namer.near_tie(match)
            if tie is not None:
                untied = timer("tie", self.namer.tie_broken_by_outline, frame, result, match, tie)
                if untied is not None:
                    match, reason = untied
                    named_by = [reason]

        best = result.candidates[0]
        reference = self.index.reference_for(best)
        verifier, threshold = self.judged_by(reference)
        verification, box = timer("verify", self._verify, frame, match, reference, verifier, threshold)
        against_photo = not reference.artwork
        verdict, verdict_reasons = decide_authenticity(verification, threshold, against_photo)
        if near_copy is not None and verdict is not Verdict.SUSPECT:
            # Named only as a near copy: nothing to flag, and no genuine mark to pass.
            not_named = near_copy_not_named(result.brand_name, near_copy)
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
        match: Match,
        reference: ReferenceImage,
        verifier: PairVerifier | None,
        threshold: float,
    ) -> tuple[Verification, Box]:
        """The match verified against `reference` by `verifier` at `threshold` (judged_by), and the box it was
        verified in (the mark framed again when the match's box framed it badly: align.align_in_frame). A mark
        reversed out of a field is verified with the field's edge erased, when that print is then read as a
        colourway of the artwork (_edge_erased; the verification's field_edge_erased)."""

        def judged(in_frame: np.ndarray, cut: Match) -> tuple[Verification, Box]:
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
        self, frame: np.ndarray, match: Match, reference: ReferenceImage
    ) -> tuple[np.ndarray, Match] | None:
        """(the frame with the field's edge erased, the match cut from it) for a mark reversed out of a field
        (scanner/reprint.py) whose copy, redrawn dark on light, lines up with `reference` as naming by outline
        asks; None otherwise, or where colourways are not repainted (the erased print is kept only when it reads
        as one). The field's edge, which the artwork lacks, pulls the alignment off the mark."""
        if not (self.config.verify.erase_field_edge and self.namer.reads_fields and self.repaints_colourways):
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

    def _recognise(self, frame: np.ndarray, location: Location, timer: StageTimer) -> tuple[Match, float, list[Match]]:
        """The located box's match, widened or replaced by the scene search's best window when it falls short;
        with the threshold it is to be judged by, and the windows searched (none when the box sufficed)."""
        config = self.config
        match = self._match(frame, location.box, timer)
        windows: list[Match] = []
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

    def _accepted_window(self, windows: list[Match]) -> tuple[Match, float] | None:
        """The scene search's closest window and the threshold it cleared, or None when it clears none."""
        closest = _closest(windows)
        if closest is None:
            return None
        threshold = self._threshold(closest, search=True)
        return (closest, threshold) if closest.similarity >= threshold else None

    def _threshold(self, match: Match, search: bool = False) -> float:
        """The similarity `match` must reach to name its nearest brand: the located box's (unknown_threshold)
        or a scene-search window's (`search`), each with a photo counterpart for a nearest reference that
        is a photo."""
        photo = bool(match.candidates) and not match.candidates[0].artwork
        if search:
            return self.photo_search_threshold if photo else self.search_threshold
        return self.photo_unknown_threshold if photo else self.unknown_threshold

    def _search(self, frame: np.ndarray, location: Location, timer: StageTimer) -> list[Match]:
        """Scene search's windows, when it is on (none when not)."""
        if not self.search_threshold:
            return []
        return timer("search", self.scene_windows, frame, self.search_stop, location)

    def _match(self, frame: np.ndarray, box: Box, timer: StageTimer) -> Match:
        query_crop = crop(frame, box, CROP_SIZE)  # the embedder scales it to its own input size
        embedding = timer("embed", self.embedder.embed, query_crop)
        return Match(box, query_crop, embedding, timer("match", self.index.search, embedding, self.config.match.top_k))

    def search_scene(
        self, frame: np.ndarray, good_enough: float | None = None, location: Location | None = None
    ) -> Match:
        """The window of the frame (locate.search_windows) nearest to any enrolled brand, whatever its similarity;
        with `good_enough`, the first window (blobs first, then larger windows first) that reaches it.
        `location`, the frame's own when the scan already located it, saves locating again."""
        best = _closest(self.scene_windows(frame, good_enough, location))
        assert best is not None  # the grid always has windows
        return best

    def scene_windows(
        self, frame: np.ndarray, good_enough: float | None = None, location: Location | None = None
    ) -> list[Match]:
        """Every window search_scene looked at, in order: all of them, or up to the first that reaches
        `good_enough`."""
        timer = StageTimer()  # the scan's own embed and match timings stay the located box's
        matches: list[Match] = []
        for box in search_windows(frame, self.config.locate, location):
            matches.append(self._match(frame, box, timer))
            if good_enough is not None and matches[-1].similarity >= good_enough:
                break  # a recognised window: the rest would only cost time
        return matches
