"""Naming a scan's brand where similarity alone does not, or cannot choose between two brands.

A frame no brand matched by similarity is named by shape (local features of a brand's reference in place), by
outline (its edges line up with a reference once aligned), as a print on a field (the mark inside a label,
redrawn dark on light) or as a near copy of a brand, to be verified and flagged or else left unnamed. A mark
that similarity named is renamed where its print on a field lines up with another brand better, or where
another brand is as similar (within [match] tie_margin) and the mark lines up with that brand's reference
instead. Every such name carries a reason that says how it was given.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from .align import RULES_SIZE, align_in_frame, alignment_correlation, shape_inliers
from .config import ScannerConfig
from .embed import Embedder
from .index import BrandIndex, Candidate, ReferenceImage
from .locate import Box
from .reprint import FieldReading, read_field
from .result import ScanResult, StageTimer

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
class Match:
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


class Naming(NamedTuple):
    """How a frame no brand matched by similarity was named (Namer.name_unmatched): the match to verify,
    the reason that says how, and for a frame named only as a near copy (to be flagged or not named at all) the
    edge correlation it nearly lined up at."""

    match: Match
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


def near_copy_not_named(brand_name: str | None, correlation: float) -> str:
    """The reason an unknown scan adds when its near copy of a brand showed no deviation to flag."""
    return f"{brand_name} lines up nearly (edge correlation {correlation:.2f}) but {NEAR_NOT_NAMED}"


class Namer:
    """Names a scan's brand beyond similarity, against the pipeline's index and embedder. `threshold_of(match,
    search)` is the similarity a match must reach to be named (a scene-search window's when `search`)."""

    def __init__(
        self,
        config: ScannerConfig,
        index: BrandIndex,
        embedder: Embedder,
        threshold_of: Callable[[Match, bool], float],
    ) -> None:
        self.config, self.index, self.embedder, self.threshold_of = config, index, embedder, threshold_of

    def name(self, result: ScanResult, match: Match) -> None:
        """Put the match's box, candidates and nearest brand on the result."""
        result.box, result.candidates = match.box, match.candidates
        best = match.candidates[0] if match.candidates else None
        if best is not None:
            result.brand, result.similarity = best.brand_id, best.similarity
            result.brand_name = self.index.brand(best.brand_id).name

    def name_unmatched(
        self, result: ScanResult, located: Match, windows: list[Match], threshold: float, timer: StageTimer
    ) -> Naming | None:
        """A frame no brand matched by similarity, named by shape, else by outline, else as a mark printed on a
        field (_reprinted), else as a near copy of a brand (_near_copy); None when none names it. `threshold` is
        the located box's."""

        def missed(named: Match) -> str:
            """How far the named match's similarity fell short: a scene-search window has its own threshold."""
            own = self.threshold_of(named, True) if any(named is w for w in windows) else threshold
            return f"similarity {result.similarity:.2f}, under the {own:.2f} that names a brand"

        matches = [located, *windows]
        if self.config.match.shape_inliers:
            shaped, inliers = self._best_by(matches, SHAPE_WINDOWS, shape_inliers, timer, "shape")
            result.shape_inliers = int(inliers)
            if shaped is not None and inliers >= self.config.match.shape_inliers:
                self.name(result, shaped)
                features = f"{inliers} local features match the {result.brand_name} reference in place"
                return Naming(shaped, f"named by shape: {features} ({missed(shaped)})")
        if self.config.match.align_correlation:
            lined_up, result.align_correlation = self._best_by(
                matches, ALIGN_WINDOWS, alignment_correlation, timer, "outline"
            )
            if lined_up is not None and result.align_correlation >= self.config.match.align_correlation:
                self.name(result, lined_up)
                outline = f"the mark lines up with the {result.brand_name} reference"
                correlation = f"edge correlation {result.align_correlation:.2f}"
                return Naming(lined_up, f"named by outline: {outline} ({correlation}; {missed(lined_up)})")
            if self.reads_fields:
                reprinted = timer("reprint", self._reprinted, located, windows)
                if reprinted is not None:
                    copied, lines_up = reprinted
                    self.name(result, copied)
                    return Naming(copied, _named_from_copy(result.brand_name, lines_up))
            if lined_up is not None and self._near_copy(lined_up, result.align_correlation, threshold):
                self.name(result, lined_up)
                near = result.align_correlation
                return Naming(lined_up, _named_near_copy(result.brand_name, near), near)
        return None

    def _near_copy(self, lined_up: Match, correlation: float, threshold: float) -> bool:
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

    def _copy_named(self, matches: list[Match], other_than: str | None = None) -> tuple[Match, float] | None:
        """Of the matches whose crop holds a mark inside a field, the one whose mark, redrawn dark on light, comes
        nearest to any brand, named anew from that copy, with how well the copy lines up with its nearest brand's
        reference; None when no crop holds a field, when that copy comes nearest `other_than`, or when it lines
        up less than [match] align_correlation asks. One alignment, however many copies."""
        nearest: tuple[Match, np.ndarray, np.ndarray, list[Candidate]] | None = None
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
        reference = self.index.reference_for(candidates[0])
        correlation = alignment_correlation(copy, reference)
        if correlation < self.config.match.align_correlation:
            return None
        # The box and its crop as photographed: the verifier judges the print, not the copy.
        return replace(
            match, embedding=embedding, candidates=candidates, copy_fit=(reference.id, correlation)
        ), correlation

    def _reprinted(self, located: Match, windows: list[Match]) -> tuple[Match, float] | None:
        """_copy_named of the located box, else of the scene-search windows nearest to any brand: a small label
        beside a long cast shadow is a small share of the box the shadow widened, and a window frames it closer."""
        nearest_windows = sorted(windows, key=lambda m: -m.similarity)[:REPRINT_WINDOWS]
        return self._copy_named([located]) or self._copy_named(nearest_windows)

    def named_otherwise(self, result: ScanResult, match: Match) -> tuple[Match, str] | None:
        """A mark printed inside a field that similarity named, renamed when its copy lines up with another brand's
        reference better than the photographed crop lines up with the brand it was named: the field takes the
        embedder's eye, so a white mark on a red label can come nearest a brand whose mark is a red label.
        (the match to verify, the reason that says why), or None when the name stands."""
        copied = self._copy_named([match], other_than=result.brand)
        if copied is None:
            return None
        renamed, lines_up = copied
        named = match.candidates[0]
        as_named = alignment_correlation(match.crop, self.index.reference_for(named))
        if lines_up <= as_named:
            return None
        resembled = result.brand_name
        self.name(result, renamed)
        better = f"better than the print lines up with the {resembled} reference it resembles ({as_named:.2f})"
        return renamed, f"{_named_from_copy(result.brand_name, lines_up)}, {better}"

    def near_tie(self, match: Match) -> Candidate | None:
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

    def tie_broken_by_outline(
        self, frame: np.ndarray, result: ScanResult, match: Match, runner_up: Candidate
    ) -> tuple[Match, str] | None:
        """A near tie in similarity (near_tie) decided by outline: the match renamed to the runner-up when the
        crop lines up with its reference better than with the named brand's, with the reason that says so;
        None when the name stands. Two marks of one style (a wave and a letter drawn in the same stroke) can
        sit equally near one photo, and only one of them has its outline."""
        named = match.candidates[0]

        def lines_up_with(candidate: Candidate) -> float:
            # Framed again where the box framed the mark badly, as verification will: a loose box fails to align.
            reference = self.index.reference_for(candidate)
            return align_in_frame(frame, match.box, reference, RULES_SIZE, True, match.crop)[0].fit

        as_named, other = lines_up_with(named), lines_up_with(runner_up)
        if other <= as_named:
            return None
        passed_over = result.brand_name
        candidates = [c for c in match.candidates if c.brand_id == runner_up.brand_id]
        renamed = replace(match, candidates=candidates + [c for c in match.candidates if c not in candidates])
        self.name(result, renamed)
        lines_up = f"the mark lines up with the {result.brand_name} reference (edge correlation {other:.3f})"
        similar = f"{named.similarity:.2f} against {runner_up.similarity:.2f}"
        tied = f"{passed_over} was as similar ({similar}) but lines up {as_named:.3f}"
        return renamed, f"named by outline from a near tie: {lines_up}; {tied}"

    def _best_by(
        self,
        matches: list[Match],
        count: int,
        measure: Callable[[np.ndarray, ReferenceImage], float],
        timer: StageTimer,
        stage: str,
    ) -> tuple[Match | None, float]:
        """Of the `count` matches nearest to any brand, the one whose crop measures highest against its nearest
        brand's reference, and that measure (timed as `stage`); (None, 0) when no match has a candidate."""
        nearest_first = sorted(matches, key=lambda m: -m.similarity)[:count]
        return timer(stage, self._highest, nearest_first, measure)

    def _highest(
        self, matches: list[Match], measure: Callable[[np.ndarray, ReferenceImage], float]
    ) -> tuple[Match | None, float]:
        best: tuple[Match | None, float] = (None, 0)
        for match in matches:
            if not match.candidates:
                continue
            nearest = match.candidates[0]
            reference = self.index.reference_for(nearest)
            value = measure(match.crop, reference)
            if best[0] is None or value > best[1]:
                best = (match, value)
        return best
