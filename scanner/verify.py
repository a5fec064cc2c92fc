"""Judge a recognised logo aligned to its brand's reference (scanner/align.py brings it there).

The v0 rules compare the aligned mark's silhouette and colour with the reference artwork: shape overlap
(tolerant_overlap), proportions (aspect ratio of the aligned extents) and colour (hue in Lab); their deviation
map is where the aligned masks disagree, at reference resolution. With a learned pair model
(scanner/pair_model.py, [verify] model) the model's score and deviation map replace the rules' score and map;
the rule measurements stay as the words of the reasons. Beside the score, the colour, part-colour and stroke
checks (checks_beside_score) can make a mark `suspect` whatever its score, and `judge` words the reasons.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from .align import REFRAME_FIT, RULES_SIZE, Alignment, align, tolerance_pixels
from .colour import colour_deviation, part_colour
from .colourway import in_artwork_colours, read_colourway
from .index import ReferenceImage
from .locate import dilated
from .mirror import MIRROR_SIDE, WHOLE_MIRROR_FIT, WHOLE_MIRROR_GAIN, MirroredPart, mirrored_part
from .pair_model import PairVerifier
from .refine import jacobian
from .stroke import STROKE_SIDE, THINNER_WORDS_BELOW, stroke_offset, stroke_words

OVERLAP_FAIL, OVERLAP_PASS = 0.70, 0.88  # shape score ramps from 0 to 1 between these overlaps
SLIVER_SHARE = 0.25  # local disagreement below this share is alignment noise in the deviation map
ASPECT_TOLERANCE = 0.20  # relative aspect-ratio change accepted as camera perspective
HUE_TOLERANCE = 40.0  # degrees of hue shift accepted as white balance
CHROMATIC = 15.0  # Lab chroma above which a colour has a hue worth comparing
MAP_STRONG = 0.5  # learned deviation above which a part of the mark is named in the reasons
MAP_HOTTEST = 0.9  # of the map's peak: where it is hottest (named in the reasons; scanner eval's "placed" reads it)
MAP_FAINT = 0.05  # a map peaking below this shows nothing in particular: no place is named from it
# The checks beside the learned score (checks_beside_score), as Verification.overruled_by names them.
COLOUR, PART_COLOUR, STROKE = "colour", "part colour", "stroke"
COLOUR_WORDS = "colour differs from reference"  # how every colour reason begins, the rules' and the check's


@dataclass
class Verification:
    authenticity: float  # 0 (deviates) .. 1 (consistent with the reference)
    overlap: float  # min(recall, precision) of the aligned marks, see tolerant_overlap
    aspect_change: float | None  # query aspect / reference aspect - 1; None when not measured
    hue_shift: float | None  # degrees, None when either mark is achromatic
    reasons: list[str] = field(default_factory=list)
    deviation: np.ndarray | None = None  # float32 0..1 at reference resolution
    aligned: np.ndarray | None = None  # the query warped onto the reference (evidence)
    colour_deviation: float | None = None  # see colour_deviation; None when not measured
    stroke_offset: float | None = None  # see stroke.stroke_offset; None when not measured
    part_colour: float | None = None  # see colour.part_colour; None when not measured
    overruled_by: tuple[str, ...] = ()  # the checks beside the score past their bounds (COLOUR, STROKE, ...)
    colourway: str | None = None  # words for the genuine colourway the score was taken in (scanner/colourway.py)
    compared: np.ndarray | None = None  # the query as the model scored it, where it was repainted for a colourway
    field_edge_erased: bool = False  # aligned with a field's edge painted out (scanner/reprint.py, Pipeline._verify)

    @property
    def overruled(self) -> bool:
        """A check beside the learned score found what the score forgives: suspect whatever the score."""
        return bool(self.overruled_by)

    @property
    def off_colour(self) -> bool:
        return COLOUR in self.overruled_by

    @property
    def thick_strokes(self) -> bool:
        return STROKE in self.overruled_by

    @property
    def part_off_colour(self) -> bool:
        return PART_COLOUR in self.overruled_by


def _extent_aspect(mask: np.ndarray) -> float:
    ys, xs = np.nonzero(mask)
    if len(xs) < 4:
        return 1.0
    x0, x1 = np.percentile(xs, [1, 99])
    y0, y1 = np.percentile(ys, [1, 99])
    return float((x1 - x0 + 1) / (y1 - y0 + 1))


def _mark_colour(image: np.ndarray, mask: np.ndarray) -> tuple[float, float] | None:
    """(chroma, hue in degrees) of the mark's median Lab colour, or None with no mark pixels."""
    pixels = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)[mask > 0].astype(np.float32)
    if len(pixels) < 8:
        return None
    a, b = np.median(pixels[:, 1]) - 128, np.median(pixels[:, 2]) - 128
    return float(math.hypot(a, b)), float(math.degrees(math.atan2(b, a)))


def _colour_check(
    query: np.ndarray, query_mask: np.ndarray, reference: np.ndarray, ref_mask: np.ndarray
) -> tuple[float | None, str | None]:
    """(hue shift in degrees or None, reason or None). Hue only: brightness and saturation change with light."""
    query_colour, ref_colour = _mark_colour(query, query_mask), _mark_colour(reference, ref_mask)
    if not query_colour or not ref_colour:
        return None, None
    (q_chroma, q_hue), (r_chroma, r_hue) = query_colour, ref_colour
    if q_chroma > CHROMATIC and r_chroma > CHROMATIC:
        shift = abs((q_hue - r_hue + 180) % 360 - 180)
        reason = f"{COLOUR_WORDS} (hue off by {shift:.0f} degrees)" if shift > HUE_TOLERANCE else None
        return shift, reason
    if r_chroma < CHROMATIC / 2 and q_chroma > 2.5 * CHROMATIC:
        return None, f"{COLOUR_WORDS} (coloured where the reference is black or grey)"
    return None, None


# The reference frame in thirds of a sort for the words that say where: (word, from, to) as fractions of the side.
COLUMNS = (("left", 0.0, 0.4), ("", 0.4, 0.6), ("right", 0.6, 1.0))
ROWS = (("top", 0.0, 0.4), ("", 0.4, 0.6), ("bottom", 0.6, 1.0))


def _band(fraction: float, bands: tuple) -> str:
    (first, _, first_end), _, (last, last_start, _) = bands
    return first if fraction < first_end else last if fraction > last_start else ""


def _where(mask: np.ndarray) -> str:
    """Words for where a blob lies: "top right", "centre", "left"..."""
    ys, xs = np.nonzero(mask)
    return _place(_band(ys.mean() / mask.shape[0], ROWS), _band(xs.mean() / mask.shape[1], COLUMNS))


def _place(row: str, col: str) -> str:
    """The words for a row band and a column band: "top right", "left", "centre"..."""
    return f"{row} {col}".strip() or "centre"


def region_named(place: str, shape: tuple[int, ...]) -> np.ndarray | None:
    """The part of a frame of `shape` that `_where` calls `place` (None: not a place it names)."""
    words = place.split()
    row = next((w for w in words if w in {r for r, _, _ in ROWS}), "")
    col = next((w for w in words if w in {c for c, _, _ in COLUMNS}), "")
    if place != _place(row, col):
        return None
    _, y0, y1 = next(band for band in ROWS if band[0] == row)
    _, x0, x1 = next(band for band in COLUMNS if band[0] == col)
    region = np.zeros(shape[:2], bool)
    height, width = shape[:2]
    region[round(y0 * height) : round(y1 * height), round(x0 * width) : round(x1 * width)] = True
    return region


@dataclass
class Piece:
    """A part of the mark that the registered silhouettes show missing or extra."""

    kind: str  # "element missing" or "extra marking"
    where: np.ndarray  # boolean, at the compared size
    largest: bool  # the largest of its kind: named whatever the learned map shows

    @functools.cached_property
    def words(self) -> str:
        return f"{self.kind} near {_where(self.where)}"


def _deviation_reasons(warped: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, list[Piece]]:
    missing = ((reference > 0) & (warped == 0)).astype(np.float32)
    extra = ((warped > 0) & (reference == 0)).astype(np.float32)
    kernel = max(3, reference.shape[0] // 16) | 1
    # Local share of disagreeing pixels, not scaled to its own maximum: the thin slivers of a good alignment
    # stay faint, and only whole missing or added parts come out strong.
    share = cv2.GaussianBlur(missing + extra, (kernel, kernel), 0)
    deviation = np.clip((share - SLIVER_SHARE) / (1 - SLIVER_SHARE) * 2, 0, 1)
    pieces = []
    for kind, part in (("element missing", missing), ("extra marking", extra)):
        # Each piece past the floor, largest first, named where it lies: the slivers along every edge of a
        # slightly misregistered mark add up to as much as a part, but their centre is the mark's, and naming it
        # there reads as a part at the centre. The largest is named; `_lit_first` may name another first.
        blob = cv2.morphologyEx(part.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        count, labels, stats, _ = cv2.connectedComponentsWithStats(blob, connectivity=8)
        floor = 0.04 * max(1, int((reference > 0).sum()))
        by_area = sorted(range(1, count), key=lambda i: -stats[i, cv2.CC_STAT_AREA])
        for rank, i in enumerate(i for i in by_area if stats[i, cv2.CC_STAT_AREA] > floor):
            pieces.append(Piece(kind, labels == i, largest=rank == 0))
    return deviation.astype(np.float32), pieces


@dataclass
class RuleFindings:
    """What the v0 rules measure on an alignment, and their words for it."""

    score: float
    aspect_change: float
    hue_shift: float | None
    reasons: list[str]  # specific ones first (proportions, colour, missing or extra parts): the screen shows the first
    shape_summary: str | None  # "shape differs ..." when the overlap is poor: the reason of last resort
    deviation: np.ndarray
    pieces: list[Piece] = field(default_factory=list)  # parts missing or extra; the largest of each kind is in reasons


def _drawn_aspect(a: Alignment) -> float:
    """The query's width over height against the reference's, less 1. From the refinement as fitted where
    there is one: edges place a stretch however the mark is printed or recoloured, where the segmented
    silhouettes (the fallback) break with a part in another colour, a moved part or a shadow. A tilt of the
    goods adds up to 10% (refine.TILT_ANISOTROPY), inside ASPECT_TOLERANCE."""
    if a.fitted is None:
        return _extent_aspect(a.warped) / _extent_aspect(a.ref_mask) - 1
    side = a.query.shape[0]
    to_query = np.linalg.inv(jacobian(a.fitted, (side / 2, side / 2)))  # reference directions in the query
    return float(np.linalg.norm(to_query[:, 0]) / np.linalg.norm(to_query[:, 1])) - 1


def _registered_mask(a: Alignment) -> np.ndarray:
    """The query's mark mask on the reference as finely as the alignment registered it: by the homography when
    one was refined, else the similarity's `warped`. The similarity transform left half the genuine marks more
    than 3.9 px (at 128) from where they belong (README, the v5 alignment), which reads as parts missing on
    one side of a stroke and added on the other."""
    if a.homography is None:
        return a.warped
    side = a.ref_mask.shape[0]
    return cv2.warpPerspective(a.query_mask, a.homography, (side, side), flags=cv2.INTER_NEAREST)


def rule_findings(a: Alignment) -> RuleFindings:
    overlap = a.overlap
    aspect_change = _drawn_aspect(a)
    deviation, local = _deviation_reasons(_registered_mask(a), a.ref_mask)
    score = float(np.clip((overlap - OVERLAP_FAIL) / (OVERLAP_PASS - OVERLAP_FAIL), 0, 1))
    reasons = []
    if abs(aspect_change) > ASPECT_TOLERANCE:
        wider = aspect_change > 0
        percent = round(100 * abs(aspect_change))  # width relative to height, against the reference's
        reasons.append(f"about {percent}% {'wider' if wider else 'narrower'} than reference")
        score *= 0.4
    hue_shift, colour_reason = _colour_check(a.query, a.query_mask, a.reference, a.ref_mask)
    if colour_reason:
        reasons.append(colour_reason)
        deviation = np.maximum(deviation, (a.ref_mask > 0) * 0.8)  # the whole mark is the wrong colour
        score *= 0.3
    shape_summary = None
    if overlap < OVERLAP_PASS:
        shape_summary = f"shape differs from reference (overlap {overlap:.2f})"
    # Within a good overlap, the similarity transform's local differences are print and segmentation noise; a
    # homography registers the silhouettes finely enough that a part left over is one (a missing or moved
    # element whose mark still overlaps well).
    pieces = local if overlap < OVERLAP_PASS or a.homography is not None else []
    reasons += [piece.words for piece in pieces if piece.largest]
    return RuleFindings(score, aspect_change, hue_shift, reasons, shape_summary, deviation, pieces)


def rule_checks(a: Alignment) -> Verification:
    """v0: silhouette overlap, proportions and hue against the reference, with reasons for each failure."""
    f = rule_findings(a)
    reasons = f.reasons + ([f.shape_summary] if f.shape_summary else [])
    return Verification(f.score, a.overlap, f.aspect_change, f.hue_shift, reasons, f.deviation, a.aligned)


def _map_reasons(deviation: np.ndarray, ref_mask: np.ndarray) -> list[str]:
    """Where the learned deviation map is strong, in words; empty when nothing stands out."""
    strong = (deviation > MAP_STRONG).astype(np.uint8)
    if strong.sum() == 0:
        return []
    if strong.sum() > 0.6 * max(1, int((ref_mask > 0).sum())):
        return ["differs from reference across the whole mark"]
    return [f"differs from reference near {_where(strong)}"]


def _hottest(deviation: np.ndarray) -> np.ndarray | None:
    """The largest patch where the map is hottest (MAP_HOTTEST of its peak); None for a map of nothing."""
    peak = float(deviation.max())
    if peak < MAP_FAINT:
        return None
    hottest = (deviation >= MAP_HOTTEST * peak).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(hottest, connectivity=8)
    return labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))


def _lit_first(rules: RuleFindings, hot: np.ndarray | None) -> list[str]:
    """The rules' reasons with the missing or extra parts that the learned map's hottest patch (`_hottest`) touches
    first (the largest such part of each kind, the largest of its kind or not). The silhouettes also differ where
    a shadow, glare or a misregistration cut them, and the screen shows the first reason beside the heatmap."""
    if hot is None:
        return rules.reasons
    reach = dilated(hot.astype(np.uint8), tolerance_pixels(hot.shape[0]))
    lit: dict[str, str] = {}
    for piece in rules.pieces:
        if piece.kind not in lit and (piece.where & reach).any():
            lit[piece.kind] = piece.words
    named = [piece.words for piece in rules.pieces if piece.largest]
    first = list(lit.values())
    return [r for r in rules.reasons if r not in named] + first + [w for w in named if w not in first]


def _hottest_reasons(hot: np.ndarray | None) -> list[str]:
    """Where the map is hottest (`_hottest`), for a flagged mark that nothing else places: the heatmap the screen
    shows lights it. On the held-out splits the hottest pixels of a detected counterfeit's map lie on the part it
    altered for 93-94% of part counterfeits (scanner eval's 'placed'), below MAP_STRONG too."""
    return [] if hot is None else [f"differs most from reference near {_where(hot)}"]


def verify(
    query_crop: np.ndarray,
    reference: ReferenceImage,
    size: int = RULES_SIZE,
    model: PairVerifier | None = None,
    threshold: float | None = None,
) -> Verification:
    """Align (as the model's training pairs were aligned), then score (`judge`)."""
    return judge(align(query_crop, reference, size, refined=bool(model and model.refined)), model, threshold)


@dataclass
class BesideScore:
    """What the checks beside the learned score measured on an alignment (None: not measured), and for each
    check past its bound, its words and where the heatmap shows it."""

    colour_deviation: float | None = None
    stroke_offset: float | None = None
    part_colour: float | None = None
    found: dict[str, tuple[str, np.ndarray]] = field(default_factory=dict)  # check -> (words, where)


def checks_beside_score(
    a: Alignment, colour_bound: float, stroke_bound: float, part_colour_bound: float
) -> BesideScore:
    """The colour, part-colour and stroke checks of `judge` on an alignment; a bound of 0 turns a check off,
    and against a photo reference none is measured (Alignment.inks, Alignment.edges)."""
    checks = BesideScore()  # `found` in the order the words come
    # A part is compared with the rest of its ink where the alignment put it: not on a failed alignment. It comes
    # first: a part in another colour also moves the whole mark's colours past their bound, and its words say where.
    if part_colour_bound and a.fit >= REFRAME_FIT:
        part = part_colour(a.aligned, a.inks)
        checks.part_colour = None if part is None else part.deviation
        if part is not None and part.deviation > part_colour_bound:
            checks.found[PART_COLOUR] = (f"one part in another colour near {_where(part.where)}", part.where)
    if colour_bound:
        checks.colour_deviation = colour_deviation(a.aligned, a.inks)
        if checks.colour_deviation is not None and checks.colour_deviation > colour_bound:
            words = f"{COLOUR_WORDS} (more than light or print explains)"
            checks.found[COLOUR] = (words, a.ref_mask > 0)  # the whole mark, as the rules show it
    # Edges are compared to a fraction of a pixel: only once the homography registered them (scanner/refine.py).
    edges = a.edges if stroke_bound and a.homography is not None else None
    if edges is not None:
        checks.stroke_offset = stroke_offset(a.view(STROKE_SIDE), edges)
        if checks.stroke_offset is not None and checks.stroke_offset > stroke_bound:
            checks.found[STROKE] = (stroke_words(checks.stroke_offset, edges), _outline(a.ref_mask))
    return checks


def judge(
    a: Alignment,
    model: PairVerifier | None = None,
    threshold: float | None = None,
    colour_bound: float = 0.0,
    stroke_bound: float = 0.0,
    part_colour_bound: float = 0.0,
    colourways: bool = False,
) -> Verification:
    """Score an alignment: with the learned pair model when one is given, else with the v0 rules.

    The learned score decides, except where a check beside it finds what the model forgives
    (checks_beside_score): a mark whose colour_deviation passes `colour_bound` is off-colour, one with a
    part whose colour strays from the rest of its ink by more than `part_colour_bound` (colour.part_colour)
    has a part in another colour, one whose strokes lie further than `stroke_bound` px outside the artwork's
    (stroke.stroke_offset, at STROKE_SIDE) is drawn thicker, and each is suspect whatever its score. The
    rule measurements still supply the words (how much wider, which colour, what is missing where), after a
    mirrored part's and thinner lines' (_named_before_rules), and the model's deviation map says where when
    nothing else was named. With the operating `threshold` given, a mark that passes skips the rule
    measurements (about 1 ms): only a suspect needs its reasons worded. With `colourways`, a mark printed in a
    genuine colourway (scanner/colourway.py) is scored repainted in the artwork's colours, and its words say so;
    the checks beside the score read it as photographed.
    """
    if model is None:
        return rule_checks(a)
    layout = a.colourway_layout if colourways else None
    way = read_colourway(a.aligned, layout) if layout is not None else None
    scored = a.aligned if way is None or layout is None else in_artwork_colours(a.aligned, layout, way)
    authenticity, deviation = model.score(scored, a.reference)
    checks = checks_beside_score(a, colour_bound, stroke_bound, part_colour_bound)
    verification = Verification(
        authenticity,
        a.overlap,
        None,
        None,
        [],
        deviation,
        a.aligned,
        colour_deviation=checks.colour_deviation,
        stroke_offset=checks.stroke_offset,
        part_colour=checks.part_colour,
        overruled_by=tuple(checks.found),
        colourway=None if way is None else way.words,
        compared=None if way is None else scored,
    )
    if threshold is not None and authenticity >= threshold and not checks.found:
        return verification
    rules = rule_findings(a)
    hot = _hottest(deviation)
    # Where the map is strong, its place; else, where nothing else was named, where it is hottest (the heatmap
    # the screen shows lights it however faint); the overlap figure after that.
    where = _map_reasons(deviation, a.ref_mask) or [
        *([] if rules.reasons else _hottest_reasons(hot)),
        *([rules.shape_summary] if rules.shape_summary else []),
    ]
    reasons = _lit_first(rules, hot) + where
    found = dict(checks.found)
    if checks.colour_deviation is not None:
        # The colour check read the inks where the alignment put them, so it alone speaks of colour. The rules'
        # hue comes from a segmented silhouette, which relief, glare or a shadow can lay on the surface: their
        # words stand only for a check that fired, where they say by how many degrees.
        rules_colour = [r for r in reasons if r.startswith(COLOUR_WORDS)]
        reasons = [r for r in reasons if r not in rules_colour]
        if COLOUR in found and rules_colour:
            found[COLOUR] = (rules_colour[0], found[COLOUR][1])
    leading, named = _named_before_rules(a, checks.stroke_offset)
    # The words of the checks that decided the verdict go first (the screen shows the first), then what the
    # rules' silhouettes would misread, then the rules'; a mirror image of the whole mark before all of them.
    shown_words = [*leading, *found.values(), *named]
    verification.reasons = [words for words, _ in shown_words] + reasons
    for _, shown in shown_words:
        deviation = np.maximum(deviation, shown * np.float32(0.8))
    verification.deviation = deviation
    verification.aspect_change, verification.hue_shift = rules.aspect_change, rules.hue_shift
    return verification


Named = list[tuple[str, np.ndarray]]  # (words, where the heatmap shows them)


def _named_before_rules(a: Alignment, stroke_offset: float | None) -> tuple[Named, Named]:
    """Words for what the rules' silhouettes would read as parts missing and added, each with where the
    heatmap shows it: a mirrored part (scanner/mirror.py), and strokes further inside the artwork's than relief
    or fading took any genuine print (stroke.THINNER_WORDS_BELOW). Words only: never a verdict. Returned as
    (before the checks beside the score, after them): a mark that is the mirror image of the whole artwork
    leads, since those checks measured it where the alignment laid it, the wrong way round."""
    leading: Named = []
    named: Named = []
    mirrored = _mirrored(a)
    if mirrored is not None:
        whole = mirrored.where is None
        part = np.ones_like(a.ref_mask, bool) if mirrored.where is None else at_side(mirrored.where, a.ref_mask)
        (leading if whole else named).append((_mirrored_words(mirrored), part & (a.ref_mask > 0)))
    if stroke_offset is not None and stroke_offset < THINNER_WORDS_BELOW and a.edges is not None:
        named.append((stroke_words(stroke_offset, a.edges), _outline(a.ref_mask)))
    return leading, named


def _mirrored(a: Alignment) -> MirroredPart | None:
    """A mark against artwork printed the wrong way round as a whole (_mirror_image), else the mirrored part
    mirror.mirrored_part finds on a homography-registered alignment."""
    if a.source is None or a.source.mask is None:
        return None
    whole = _mirror_image(a, a.source)
    if whole is not None:
        return whole
    parts = a.parts if a.homography is not None else None
    return mirrored_part(a.view(MIRROR_SIDE), parts) if parts is not None else None


def _mirror_image(a: Alignment, source: ReferenceImage) -> MirroredPart | None:
    """The whole mark mirrored, when the query flipped left to right and aligned afresh to `source` (what `a`
    aligned it to) lines up at WHOLE_MIRROR_FIT or better and by WHOLE_MIRROR_GAIN better than as photographed
    (one more alignment, for a mark already flagged)."""
    flipped = align(np.ascontiguousarray(a.query[:, ::-1]), source, a.query.shape[0], refined=True)
    gain = flipped.fit - a.fit
    return MirroredPart(gain, None) if flipped.fit >= WHOLE_MIRROR_FIT and gain >= WHOLE_MIRROR_GAIN else None


def _mirrored_words(mirrored: MirroredPart) -> str:
    if mirrored.where is None:
        return "mirror image of the genuine mark"
    return f"one part mirrored near {_where(mirrored.where)}"


def at_side(mask: np.ndarray, like: np.ndarray) -> np.ndarray:
    """A boolean mask (or a 0/255 one) resized to `like`'s shape."""
    return cv2.resize((mask > 0).astype(np.uint8), like.shape[::-1], interpolation=cv2.INTER_NEAREST) > 0


def _outline(mask: np.ndarray) -> np.ndarray:
    """The band along a mark's edges, where thicker strokes show."""
    band = cv2.morphologyEx(mask, cv2.MORPH_GRADIENT, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    return band > 0
