"""Evaluate the pipeline on labelled photos (`labels.csv`: file,expected,brand[,kind,magnitude[,changes[,more_views]]]
and an optional `colourway` or `style`).

`expected` is the verdict a correct scanner gives; `brand` is the enrolled brand shown (empty for
unknown brands). Reports the verdict confusion matrix, per-verdict precision and recall, overall
accuracy, brand top-1 on photos of enrolled brands, unknown-brand rejection, and the share of
enrolled-brand photos wrongly called unknown. With the optional `kind` and `magnitude` columns (written by
tools/make_heldout_set.py), also counterfeit detection per kind, subtle (magnitude below 0.5) against
obvious, the share of genuine photos wrongly flagged, and how often a detected counterfeit's first reason
(what the screen shows first) names what was done to it (KIND_WORDS). With the optional `changes` column (a
mask of what a counterfeit altered in one part of the mark, framed as the brand's reference), also how often
the heatmap of a detected counterfeit points at that part (`points_at`) and how often its first reason says
where that part is (`says_where`). With the optional `more_views` (other photos of the same item, `;` between
them: tools/make_heldout_set.py --views), each row is scored as one item from all its views
(scanner/views.py), unless told to take the first view only. With the optional `colourway` (how the goods
print the mark: tools/make_heldout_set.py --colourways), genuine photos flagged and called unknown, and
counterfeits detected, per colourway; with the optional `style` (how the goods carry it: printed, embossed,
embroidered, foil, faded; tools/make_heldout_set.py), the same per style.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .display import evidence_strip
from .exc import ImageError, ScannerError
from .imageio import read_image
from .locate import dilated
from .pipeline import Pipeline
from .result import ScanResult
from .verdict import Verdict
from .verify import COLOUR_WORDS, MAP_HOTTEST, at_side, region_named

VERDICTS = [v.value for v in Verdict]
ERROR = "error"
ENROLLED = ("pass", "suspect")  # expected verdicts of photos of enrolled brands (genuine, counterfeit)


SUBTLE_BELOW = 0.5  # counterfeit magnitude (0 subtle .. 1 obvious) splitting the two bands
# Words in a reason that name each counterfeit kind (tools/counterfeits.py) as the inspector reads it. A
# warped part has no words of its own: the deviation map's "differs from reference near ..." places it
# without naming it, so that kind is not counted.
KIND_WORDS = {
    "proportions": ("wider than reference", "narrower than reference"),
    "colour": (COLOUR_WORDS,),
    "element_colour": ("one part in another colour", COLOUR_WORDS),
    "missing": ("element missing",),
    "moved": ("element missing", "extra marking"),
    "stroke": ("thicker than reference", "thinner than reference"),
    "mirrored": ("mirrored", "mirror image"),
}


# The heatmap points at a changed part when most of its hottest pixels lie within this share of the side
# of that part: the map is blurred, and a part that is left out or moved shows as much along its edge as on it.
PLACE_TOLERANCE = 0.06


@dataclass
class Sample:
    file: Path
    expected: str
    brand: str | None
    kind: str | None = None  # counterfeit kind, degradation or "genuine", when the labels say
    magnitude: float | None = None  # counterfeit magnitude 0..1
    changes: Path | None = None  # 0/255 mask of the part a counterfeit altered, framed as the brand's reference
    more_views: list[Path] = field(default_factory=list)  # other photos of the same item
    colourway: str | None = None  # how the goods print the mark, when not in the artwork's colour
    style: str | None = None  # how the goods carry the mark: print, emboss, embroider, foil, faded


def band(magnitude: float) -> str:
    return "subtle" if magnitude < SUBTLE_BELOW else "obvious"


@dataclass(frozen=True)
class Outcome:
    file: str
    expected: str
    predicted: str
    brand: str | None
    nearest: str | None  # nearest enrolled brand, whatever the verdict
    similarity: float | None  # to the nearest brand
    authenticity: float | None
    kind: str | None = None
    magnitude: float | None = None
    first_reason: str | None = None
    placed: bool | None = None  # the heatmap points at the altered part (None: no part mask, or not verified)
    said_where: bool | None = None  # the first reason names where the altered part is (None: as for `placed`)
    colourway: str | None = None
    style: str | None = None


def names_kind(outcome: Outcome) -> bool | None:
    """Whether a counterfeit's first reason names its kind; None where the kind has no words of its own."""
    words = KIND_WORDS.get(outcome.kind or "")
    if words is None:
        return None
    return outcome.first_reason is not None and any(w in outcome.first_reason for w in words)


def _near(changed: np.ndarray, like: np.ndarray) -> np.ndarray:
    """The changed part at `like`'s side, grown by PLACE_TOLERANCE of it."""
    part = at_side(changed, like).astype(np.uint8)
    return dilated(part, max(1, round(PLACE_TOLERANCE * like.shape[0])))


def points_at(heatmap: np.ndarray | None, changed: np.ndarray) -> bool:
    """Whether most of the heatmap's hottest pixels lie on (within PLACE_TOLERANCE of) the changed part; a scan
    with no heatmap, or a blank one, points nowhere."""
    if heatmap is None or float(heatmap.max()) <= 0:
        return False
    hottest = heatmap >= MAP_HOTTEST * float(heatmap.max())  # where the inspector's eye goes
    return bool(_near(changed, heatmap)[hottest].mean() > 0.5)


def says_where(reason: str | None, changed: np.ndarray) -> bool:
    """Whether a reason ends by naming a place ("... near top right") that the changed part reaches, within
    PLACE_TOLERANCE; a reason naming no place says nowhere."""
    place = re.search(r" near ([a-z ]+)$", reason or "")
    region = region_named(place.group(1), changed.shape) if place else None
    return region is not None and bool((_near(changed, changed) & region).any())


@dataclass
class Evaluation:
    outcomes: list[Outcome] = field(default_factory=list)  # every figure below is read off these
    # Verified misses, as evidence strips (photo crop | aligned query | reference | heatmap), for the gallery.
    miss_strips: dict[str, np.ndarray] = field(default_factory=dict)
    views_per_item: int = 1  # the most views any row was judged from (more_views)

    @property
    def confusion(self) -> Counter:
        """(expected, predicted) -> count."""
        return Counter((o.expected, o.predicted) for o in self.outcomes)

    @property
    def total(self) -> int:
        return sum(self.confusion.values())

    def recall(self, verdict: str) -> float | None:
        row = sum(n for (e, _), n in self.confusion.items() if e == verdict)
        return self.confusion[(verdict, verdict)] / row if row else None

    def precision(self, verdict: str) -> float | None:
        column = sum(n for (_, p), n in self.confusion.items() if p == verdict)
        return self.confusion[(verdict, verdict)] / column if column else None

    @property
    def accuracy(self) -> float:
        return sum(n for (e, p), n in self.confusion.items() if e == p) / max(1, self.total)

    def _enrolled(self, expected: tuple[str, ...]) -> list[Outcome]:
        return [o for o in self.outcomes if o.expected in expected and o.brand]

    @property
    def top1_total(self) -> int:
        return len(self._enrolled(ENROLLED))

    @property
    def top1(self) -> float | None:
        """Brand top-1 on photos of enrolled brands, genuine and counterfeit: the nearest enrolled brand is
        theirs. A photo never recognised (rescan, error) has no nearest brand: a miss."""
        return _share([o.nearest == o.brand for o in self._enrolled(ENROLLED)])

    @property
    def genuine_top1(self) -> float | None:
        """Brand top-1 on genuine photos only (expected pass), the issue's definition; `top1` also counts
        counterfeits, whose altered marks are harder to name. A rescan is a miss in both."""
        return _share([o.nearest == o.brand for o in self._enrolled(("pass",))])

    @property
    def false_unknown(self) -> float | None:
        """Share of photos of enrolled brands (genuine and counterfeit) called unknown."""
        return _share([o.predicted == "unknown" for o in self.outcomes if o.expected in ENROLLED])

    @property
    def genuine_called_unknown(self) -> float | None:
        """Share of genuine photos (expected pass) called unknown; `false_unknown` also counts counterfeits."""
        return _share([o.predicted == "unknown" for o in self.outcomes if o.expected == "pass"])

    @property
    def genuine_flagged(self) -> float | None:
        """Share of genuine photos (expected pass) called suspect."""
        return _share([o.predicted == "suspect" for o in self.outcomes if o.expected == "pass"])

    def by_colourway(self) -> dict[str, dict[str, float | int | None]]:
        """{colourway: {"genuine": n, "flagged", "unknown": shares of those genuine photos called suspect and
        unknown, "counterfeits": n, "detected": share of them called suspect}} for labelled colourways."""
        return self._tallied_by(lambda o: o.colourway)

    def by_style(self) -> dict[str, dict[str, float | int | None]]:
        """The same as by_colourway, per labelled print style (printed, embossed, embroidered, foil, faded)."""
        return self._tallied_by(lambda o: o.style)

    def _tallied_by(self, label: Callable[[Outcome], str | None]) -> dict[str, dict[str, float | int | None]]:
        table: dict[str, dict[str, float | int | None]] = {}
        # Only genuine photos and counterfeits are tallied: a set of unknown brands gets no table of zeros.
        judged = [o for o in self.outcomes if o.expected in ("pass", "suspect")]
        for value in sorted({v for o in judged if (v := label(o))}):
            genuine = [o for o in judged if label(o) == value and o.expected == "pass"]
            fakes = [o for o in judged if label(o) == value and o.expected == "suspect"]
            table[value] = {
                "genuine": len(genuine),
                "flagged": _share([o.predicted == "suspect" for o in genuine]),
                "unknown": _share([o.predicted == "unknown" for o in genuine]),
                "counterfeits": len(fakes),
                "detected": _detected(fakes),
            }
        return table

    def counterfeit_detection(self) -> dict[str, dict[str, float | int | None]]:
        """{kind: {"all", "subtle", "obvious": share called suspect, "count": n, "named": share of those called
        suspect whose first reason names the kind (None where it has no words or none was called suspect)}}
        for labelled counterfeits."""
        table: dict[str, dict[str, float | int | None]] = {}
        fakes = [o for o in self.outcomes if o.expected == "suspect" and o.kind]
        for kind in sorted({o.kind for o in fakes if o.kind}) + ["all kinds"]:
            rows = [o for o in fakes if kind in ("all kinds", o.kind)]
            table[kind] = {
                "all": _detected(rows),
                "subtle": _detected([o for o in rows if o.magnitude is not None and band(o.magnitude) == "subtle"]),
                "obvious": _detected([o for o in rows if o.magnitude is not None and band(o.magnitude) == "obvious"]),
                "count": len(rows),
                "named": _share([n for o in rows if o.predicted == "suspect" and (n := names_kind(o)) is not None]),
                "placed": _share([o.placed for o in rows if o.predicted == "suspect" and o.placed is not None]),
                "where": _share([o.said_where for o in rows if o.predicted == "suspect" and o.said_where is not None]),
            }
        return table if fakes else {}

    def as_dict(self) -> dict:
        return {
            "photos": self.total,
            "views_per_item": self.views_per_item,
            "accuracy": self.accuracy,
            "brand_top1": self.top1,
            "brand_top1_genuine": self.genuine_top1,
            "unknown_rejection": self.recall("unknown"),
            "enrolled_called_unknown": self.false_unknown,
            "genuine_called_unknown": self.genuine_called_unknown,
            "per_verdict": {v: {"precision": self.precision(v), "recall": self.recall(v)} for v in VERDICTS},
            "confusion": {f"{e}->{p}": n for (e, p), n in sorted(self.confusion.items())},
            "genuine_flagged": self.genuine_flagged,
            "counterfeit_detection": self.counterfeit_detection(),
            # Only a set labelled with colourways (make_heldout_set.py --colourways) has the text report's table.
            **({"by_colourway": colourways} if (colourways := self.by_colourway()) else {}),
            **({"by_style": styles} if (styles := self.by_style()) else {}),
        }


def _share(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def _detected(counterfeits: list[Outcome]) -> float | None:
    return _share([o.predicted == "suspect" for o in counterfeits])


def item_files(row: dict[str, str]) -> list[str]:
    """A labels row's photos of its item, relative to labels.csv: `file`, then the other views `more_views`
    lists (`;` between them)."""
    return [row["file"], *filter(None, (row.get("more_views") or "").split(";"))]


def read_labels(labels_csv: Path) -> list[Sample]:
    labels_csv = Path(labels_csv)
    try:
        with labels_csv.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as err:
        raise ScannerError(f"cannot read {labels_csv}: {err.strerror}") from err
    if not rows or not {"file", "expected", "brand"} <= set(rows[0]):
        raise ScannerError(f"{labels_csv} needs a header file,expected,brand and at least one row")
    samples = []
    for n, row in enumerate(rows, start=2):
        if row["expected"] not in VERDICTS:
            raise ScannerError(
                f"{labels_csv}:{n}: expected must be one of {', '.join(VERDICTS)}, not {row['expected']!r}"
            )
        magnitude = row.get("magnitude") or None
        try:
            value = float(magnitude) if magnitude is not None else None
        except ValueError as err:
            raise ScannerError(f"{labels_csv}:{n}: magnitude must be a number from 0 to 1, not {magnitude!r}") from err
        changes = row.get("changes") or None
        more_views = [labels_csv.parent / f for f in item_files(row)[1:]]
        samples.append(
            Sample(
                labels_csv.parent / row["file"],
                row["expected"],
                row["brand"] or None,
                row.get("kind") or None,
                value,
                labels_csv.parent / changes if changes else None,
                more_views,
                row.get("colourway") or None,
                row.get("style") or None,
            )
        )
    return samples


def _placed(sample: Sample, result: ScanResult) -> tuple[bool | None, bool | None]:
    """(the heatmap points at the part the sample's counterfeit altered, the first reason says where it is);
    None for both without a mask or a heatmap."""
    if sample.changes is None or result.heatmap is None:
        return None, None
    try:
        changed = read_image(sample.changes)[..., 0]
    except ImageError as err:
        raise ScannerError(f"changes mask of {sample.file.name}: {err}") from err
    return points_at(result.heatmap, changed), says_where(result.reasons[0] if result.reasons else None, changed)


def evaluate(
    pipeline: Pipeline,
    samples: list[Sample],
    on_result: Callable[[Sample, ScanResult], None] = lambda s, r: None,
    gallery: bool = False,
    first_view_only: bool = False,
) -> Evaluation:
    """Scan every sample and tally. With `gallery`, every verified miss also keeps its evidence strip for the
    report's gallery (150 KB each: only when a report is written). A sample with more views is scored as one
    item from all of them, unless `first_view_only`."""
    evaluation = Evaluation()
    for sample in samples:
        frame, result = _scan_sample(pipeline, sample, first_view_only)
        evaluation.views_per_item = max(evaluation.views_per_item, len(result.views))
        on_result(sample, result)
        predicted = result.verdict.value if result.verdict else ERROR
        if gallery and predicted != sample.expected and frame is not None and result.aligned is not None:
            evaluation.miss_strips[sample.file.name] = evidence_strip(frame, result)
        nearest = result.candidates[0] if result.candidates else None
        evaluation.outcomes.append(
            Outcome(
                sample.file.name,
                sample.expected,
                predicted,
                sample.brand,
                nearest.brand_id if nearest else None,
                nearest.similarity if nearest else None,
                result.authenticity,
                sample.kind,
                sample.magnitude,
                result.reasons[0] if result.reasons else None,
                *_placed(sample, result),
                sample.colourway,
                sample.style,
            )
        )
    return evaluation


def _scan_sample(pipeline: Pipeline, sample: Sample, first_view_only: bool) -> tuple[np.ndarray | None, ScanResult]:
    """(the frame the result came from, the result) for the sample's photo, or for its item from its views."""
    if first_view_only or not sample.more_views:
        return pipeline.scan_file(sample.file)
    frame, result, _ = pipeline.scan_item([sample.file, *sample.more_views], pipeline.config.live.more_views_for)
    return frame, result


def format_report(evaluation: Evaluation) -> str:
    def pct(value: float | None) -> str:
        return "   -" if value is None else f"{100 * value:5.1f}%"

    columns = VERDICTS + [ERROR]
    lines = ["expected \\ got " + "".join(f"{c:>9}" for c in columns)]
    for expected in VERDICTS:
        lines.append(f"{expected:<15}" + "".join(f"{evaluation.confusion[(expected, c)]:>9}" for c in columns))
    lines.append("")
    lines.append(f"{'verdict':<10}{'precision':>10}{'recall':>9}")
    for verdict in VERDICTS:
        lines.append(f"{verdict:<10}{pct(evaluation.precision(verdict)):>10}{pct(evaluation.recall(verdict)):>9}")
    lines.append("")
    if evaluation.views_per_item > 1:
        lines.append(f"items (up to {evaluation.views_per_item} views each) {evaluation.total}")
    else:
        lines.append(f"photos                        {evaluation.total}")
    lines.append(f"verdict accuracy              {pct(evaluation.accuracy)}")
    lines.append(f"brand top-1 (enrolled brands) {pct(evaluation.top1)}")
    lines.append(f"brand top-1 (genuine photos)  {pct(evaluation.genuine_top1)}")
    lines.append(f"unknown-brand rejection       {pct(evaluation.recall('unknown'))}")
    lines.append(f"enrolled called unknown       {pct(evaluation.false_unknown)}")
    lines.append(f"genuine called unknown        {pct(evaluation.genuine_called_unknown)}")
    detection = evaluation.counterfeit_detection()
    if detection:
        lines.append(f"genuine flagged suspect       {pct(evaluation.genuine_flagged)}")
        lines.append("")
        header = "".join(f"{c:>9}" for c in ("subtle", "obvious", "named", "placed", "where"))
        lines.append(f"{'counterfeit kind':<18}{'count':>6}{'detected':>10}{header}")
        for kind, row in detection.items():
            shares = "".join(f"{pct(row[k]):>9}" for k in ("subtle", "obvious", "named", "placed", "where"))
            lines.append(f"{kind:<18}{row['count']:>6}{pct(row['all']):>10}{shares}")
        lines.append("named: of those detected, the first reason names what was done (no words for warp)")
        lines.append("placed: of those detected that altered one part, the heatmap's hottest pixels lie on that part")
        lines.append("where: of those, the first reason names a place ('near top right') that the part reaches")
    for heading, table in (("colourway", evaluation.by_colourway()), ("print style", evaluation.by_style())):
        if not table:
            continue
        lines.append("")
        lines.append(f"{heading:<18}{'genuine':>8}{'flagged':>9}{'unknown':>9}{'fakes':>7}{'detected':>10}")
        for value, row in table.items():
            lines.append(
                f"{value:<18}{row['genuine']:>8}{pct(row['flagged']):>9}{pct(row['unknown']):>9}"
                f"{row['counterfeits']:>7}{pct(row['detected']):>10}"
            )
    return "\n".join(lines)
