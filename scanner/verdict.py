"""Turn the stages' measurements into one verdict and the reasons an inspector can show someone.

Order matters: a frame that cannot be judged is `rescan` before anything else is claimed; a brand below
the open-set threshold is `unknown` (the device never guesses); only a recognised brand is verified.
"""

from __future__ import annotations

from enum import StrEnum

from .config import ScannerConfig
from .index import Candidate
from .locate import Location
from .verify import Verification


class Verdict(StrEnum):
    PASS = "pass"
    SUSPECT = "suspect"
    UNKNOWN = "unknown"
    RESCAN = "rescan"


TOO_SMALL = "logo too small in the frame: move closer"
CONSISTENT = "consistent with the genuine reference"
AGAINST_PHOTO = "compared with an enrolled photo of genuine goods (the brand has no artwork enrolled)"
DEVIATES = "deviates from the genuine reference"  # a suspect's words when nothing more particular was found
# A mark verified with its field's edge painted out says so, so that its evidence (the aligned query, a mark on an
# even ground) is read for what it is.
EDGE_ERASED = "aligned with the field's edge painted out: the artwork has no such edge"


def too_small(location: Location, config: ScannerConfig) -> bool:
    return location.found and location.size < config.locate.min_size


def decide_recognition(
    candidate: Candidate | None, threshold: float, searched: Candidate | None = None
) -> tuple[Verdict | None, list[str]]:
    """`unknown` with a reason when no enrolled brand is close enough, else (None, []) to go on verifying.
    `searched`: the closest brand of the frame's best scene-search window, when the frame was searched."""
    if candidate is None:
        return Verdict.UNKNOWN, ["brand index is empty: enrol brands first"]
    if candidate.similarity < threshold:
        reasons = [f"no enrolled brand matches ({_closest(candidate)})"]
        if searched is not None:
            reasons.append(f"nor does any other part of the frame ({_closest(searched)})")
        return Verdict.UNKNOWN, reasons
    return None, []


def _closest(candidate: Candidate) -> str:
    return f"closest: {candidate.brand_id}, similarity {candidate.similarity:.2f}"


def decide_authenticity(
    verification: Verification, threshold: float, against_photo: bool = False
) -> tuple[Verdict, list[str]]:
    # How the mark was judged is said last, after what deviates: a colourway it was compared in, a field's edge
    # painted out, and a photo of genuine goods compared with where the brand has no artwork (a weaker check,
    # which an inspector should see).
    how = [verification.colourway] if verification.colourway else []
    how += [EDGE_ERASED] if verification.field_edge_erased else []
    how += [AGAINST_PHOTO] if against_photo else []
    if verification.authenticity < threshold or verification.overruled:
        return Verdict.SUSPECT, [*(verification.reasons or [DEVIATES]), *how]
    return Verdict.PASS, [CONSISTENT, *how]
