"""Mirrored parts: named for a suspect mark where a part matches the artwork better flipped."""

import cv2
import numpy as np
import pytest

from scanner.align import RULES_SIZE, align, artwork_at
from scanner.config import DEFAULT_VERIFIER, LocateConfig
from scanner.index import ReferenceImage
from scanner.locate import crop, locate
from scanner.mirror import MIRROR_SIDE, part_boxes
from scanner.pair_model import PairVerifier
from scanner.verify import judge
from tests.test_verify import _artwork, _photo


@pytest.fixture(scope="module")
def reference() -> ReferenceImage:
    image, mask = _artwork()
    box = locate(image, LocateConfig()).box
    return ReferenceImage(1, "demo", crop(image, box, 224), crop(mask, box, 224))


def _letters() -> list[tuple[int, int, int, int]]:
    """Boxes of the artwork's four letters, left to right (the disc below them is the fifth part)."""
    _, mask = _artwork()
    _, _, stats, _ = cv2.connectedComponentsWithStats((mask > 0).astype(np.uint8), connectivity=8)
    return sorted(tuple(int(v) for v in row[:4]) for row in stats[1:] if row[3] < 60)


def test_only_parts_that_change_when_flipped_are_compared(reference):
    """Of ACME and the disc, the A, the M and the disc look the same flipped; the C, the E and the whole mark
    do not."""
    parts = part_boxes(*artwork_at(reference.crop, reference.mask, MIRROR_SIDE))
    wholes = [box for box, where in parts.boxes if where is None]
    assert len(parts.boxes) == 3 and wholes == [(0, 0, MIRROR_SIDE, MIRROR_SIDE)]


@pytest.mark.parametrize(("letter", "where"), [(1, "top left"), (3, "top right")])
def test_a_letter_drawn_the_wrong_way_round_is_named_first(reference, letter, where):
    """The C or the E flipped in place: the pair model flags the mark, and the first reason says which part
    is mirrored, where the rules' silhouettes would read a part missing and one added. The genuine mark gets
    no such words, nor a flipped A, which looks the same."""
    image, _ = _artwork()
    verifier = PairVerifier(DEFAULT_VERIFIER)

    def reasons(letter: int | None) -> list[str]:
        drawn = image.copy()
        if letter is not None:
            x, y, w, h = _letters()[letter]
            drawn[y : y + h, x : x + w] = image[y : y + h, x : x + w][:, ::-1]
        a = align(_photo(drawn), reference, RULES_SIZE, refined=True)
        return judge(a, verifier, threshold=1.0).reasons  # 1.0: every mark is worded

    assert reasons(letter)[0] == f"one part mirrored near {where}"
    assert not any("mirror" in r for r in reasons(None) + reasons(0))


def test_a_whole_mark_printed_the_wrong_way_round_is_named_as_a_mirror_image(reference):
    """ACME flipped as a whole: the alignment cannot reflect it, so it lands badly, and the patch comparison
    alone would name a part or nothing. The query flipped and aligned afresh lines up, and the first reason
    says the mark is a mirror image. The genuine mark aligns as well as its flipped copy could, and gets no
    such words (the test above)."""
    image, _ = _artwork()
    verifier = PairVerifier(DEFAULT_VERIFIER)
    a = align(_photo(np.ascontiguousarray(image[:, ::-1])), reference, RULES_SIZE, refined=True)
    verification = judge(a, verifier, threshold=1.0)
    assert verification.reasons[0] == "mirror image of the genuine mark"
    # The heatmap shows the whole mark, at the strength a named finding is drawn with.
    assert float(verification.deviation[a.ref_mask > 0].min()) >= 0.8 - 1e-6
