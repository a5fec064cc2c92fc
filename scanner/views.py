"""One verdict for an item scanned from more than one view.

A single photo cannot tell some deviations from the capture: a stretch from a tilt, a thin line from blur, a
colour from the light. A second view from another angle changes the capture but not the goods, so the
verifier's authenticity over the views that recognised the item's brand is averaged, and judged against a
threshold calibrated for that mean (`views_suspect_threshold`, tools/calibrate_verifier.py). A check beside
the score (colour, stroke, part colour) flags the item only when it fires in every such view: a deviation of
the goods shows from every angle, a glare or a shadow does not.

A view that could not be judged (rescan) or named no brand (unknown) does not vote; with one judged view
left, that view's own verdict stands, as if it had been scanned alone.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .pipeline import ScanResult
from .verdict import Verdict

JUDGED = (Verdict.PASS, Verdict.SUSPECT)
CONSISTENT = "consistent with the genuine reference"


def combine_views(views: list[ScanResult], views_threshold: float) -> ScanResult:
    """The item's result from its views' results (in the order taken; none may be an unreadable file)."""
    if not views:
        raise ValueError("an item needs at least one view")
    summary = [_summary(n, view) for n, view in enumerate(views, start=1)]
    judged = [v for v in views if v.verdict in JUDGED and v.authenticity is not None]
    if not judged:
        # Named by no view: unknown when some view saw a mark no enrolled brand matches, else rescan.
        unnamed = next((v for v in views if v.verdict is Verdict.UNKNOWN), views[0])
        return replace(unnamed, views=summary)
    brand = max(judged, key=lambda v: v.similarity or 0.0).brand
    voting = [v for v in judged if v.brand == brand]
    others = sorted({v.brand_name or v.brand or "?" for v in judged if v.brand != brand})
    if len(voting) == 1:
        result = replace(voting[0], views=summary)
    else:
        result = _averaged(voting, views_threshold, summary)
    if others:
        result.reasons = [*result.reasons, f"another view read as {', '.join(others)}"]
    return result


def _averaged(voting: list[ScanResult], threshold: float, summary: list[dict[str, Any]]) -> ScanResult:
    scores = [v.authenticity or 0.0 for v in voting]
    mean = sum(scores) / len(scores)
    overruled = all(v.overruled for v in voting)
    scored = " and ".join(f"{s:.2f}" for s in scores)
    if mean < threshold or overruled:
        telling = min(voting, key=lambda v: v.authenticity or 0.0)  # the view that shows the deviation best
        words = telling.findings or ["deviates from the genuine reference"]
        tally = f"{len(voting)} views: authenticity {scored}, mean {mean:.2f} (suspect under {threshold:.2f})"
        return replace(telling, verdict=Verdict.SUSPECT, authenticity=mean, reasons=[*words, tally], views=summary)
    steady = max(voting, key=lambda v: v.authenticity or 0.0)
    reason = f"{CONSISTENT} in {len(voting)} views (authenticity {scored}, mean {mean:.2f})"
    return replace(steady, verdict=Verdict.PASS, authenticity=mean, reasons=[reason], views=summary)


def _summary(n: int, view: ScanResult) -> dict[str, Any]:
    """What the item's JSON says of one view."""
    return {
        "view": n,
        "image": view.image,
        "verdict": view.verdict.value if view.verdict else None,
        "brand": view.brand,
        "authenticity": None if view.authenticity is None else round(view.authenticity, 4),
    }
