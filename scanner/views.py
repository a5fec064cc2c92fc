"""One verdict for an item scanned from more than one view.

A single photo cannot tell some deviations from the capture: a stretch from a tilt, a thin line from blur, a
colour from the light. A second view from another angle changes the capture but not the goods, so the
verifier's authenticity over the views that recognised the item's brand is averaged, and judged against a
threshold calibrated for that mean (`views_suspect_threshold`, tools/calibrate_verifier.py). A check beside
the score (colour, stroke, part colour) flags the item only when it fires in every such view: a deviation of
the goods shows from every angle, a glare or a shadow does not.

A view that could not be judged (rescan) or named no brand (unknown) does not vote; with one judged view
left, that view's own verdict stands, as if it had been scanned alone. Nor does a view named only as a near
copy of a brand (naming.Namer._near_copy: named because it was flagged) where another view named a brand
outright: a hard capture of a genuine item (relief under a cast shadow) can nearly line up and deviate.

The threshold is calibrated on items of two views. The mean of three or more scatters less for a genuine
item, so it is judged by the same threshold more leniently than calibrated (a three-view split put its own
3% point at 0.62 against 0.53: docs/model-history.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .result import ScanResult, rounded
from .verdict import CONSISTENT, DEVIATES, Verdict

JUDGED = (Verdict.PASS, Verdict.SUSPECT)


# A first view scored in this band is "borderline": on the two-view calibration split it holds 16 of the 21 items
# whose verdict a second view changes, in a tenth of the items.
BORDERLINE = (0.2, 0.7)


def wants_more_views(first: ScanResult, more_views_for: str) -> bool:
    """Whether an item whose first view gave `first` is to be scanned again ([live] more_views_for)."""
    if more_views_for == "all":
        return True
    if more_views_for == "suspect":
        return first.verdict is Verdict.SUSPECT
    low, high = BORDERLINE
    return first.authenticity is not None and low <= first.authenticity < high


def combine_views(views: list[ScanResult], views_threshold: Callable[[str | None], float]) -> tuple[int, ScanResult]:
    """(the index of the view whose image, box and heatmap the item's result shows, the item's result) from its
    views' results, in the order taken (none may be an unreadable file). `views_threshold` gives the threshold
    for the mean authenticity of views naming a brand (Pipeline.views_threshold_for)."""
    if not views:
        raise ValueError("an item needs at least one view")
    summary = [_summary(n, view) for n, view in enumerate(views, start=1)]
    judged = [v for v in views if v.verdict in JUDGED and v.authenticity is not None]
    if any(not v.near_copy for v in judged):
        judged = [v for v in judged if not v.near_copy]
    if not judged:
        # Named by no view: unknown when some view saw a mark no enrolled brand matches, else rescan.
        shown = next((n for n, v in enumerate(views) if v.verdict is Verdict.UNKNOWN), 0)
        return shown, replace(views[shown], views=summary)
    brand = max(judged, key=lambda v: v.similarity or 0.0).brand
    voting = [v for v in judged if v.brand == brand]
    if len(voting) == 1:
        source, result = voting[0], replace(voting[0], views=summary)
    else:
        source, result = _averaged(voting, views_threshold(brand), summary)
    others = sorted({v.brand_name or v.brand or "?" for v in judged if v.brand != brand})
    if others:
        result.reasons = [*result.reasons, f"another view read as {', '.join(others)}"]
    return next(n for n, v in enumerate(views) if v is source), result


def _averaged(
    voting: list[ScanResult], threshold: float, summary: list[dict[str, Any]]
) -> tuple[ScanResult, ScanResult]:
    """(the view shown, the item's result) judged by the voting views' mean authenticity."""
    scores = [v.authenticity or 0.0 for v in voting]
    mean = sum(scores) / len(scores)
    overruled = all(v.overruled for v in voting)
    scored = " and ".join(f"{s:.2f}" for s in scores)
    if mean < threshold or overruled:
        telling = min(voting, key=lambda v: v.authenticity or 0.0)  # the view that shows the deviation best
        words = telling.findings or [DEVIATES]
        why = f"under {threshold:.2f}" if mean < threshold else "the check above fired in every view"
        tally = f"{len(voting)} views: authenticity {scored}, mean {mean:.2f} ({why})"
        item = replace(telling, verdict=Verdict.SUSPECT, authenticity=mean, reasons=[*words, tally], views=summary)
        return telling, item
    steady = max(voting, key=lambda v: v.authenticity or 0.0)
    reason = f"{CONSISTENT} in {len(voting)} views (authenticity {scored}, mean {mean:.2f})"
    return steady, replace(steady, verdict=Verdict.PASS, authenticity=mean, reasons=[reason], views=summary)


def _summary(n: int, view: ScanResult) -> dict[str, Any]:
    """What the item's JSON says of one view."""
    return {
        "view": n,
        "image": view.image,
        "verdict": view.verdict.value if view.verdict else None,
        "brand": view.brand,
        "authenticity": rounded(view.authenticity),
        "reason": view.reasons[0] if view.reasons else None,  # what this view alone would have said first
    }
