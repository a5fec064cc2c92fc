"""An item scanned from several views (scanner/views.py): one verdict from all of them."""

from __future__ import annotations

import json
import sys

import cv2
import numpy as np
import pytest

from scanner.config import ScannerConfig
from scanner.pipeline import Pipeline
from scanner.result import ScanResult
from scanner.verdict import Verdict
from scanner.views import combine_views
from tests.conftest import BRANDS, ROOT

sys.path.insert(0, str(ROOT / "tools"))
from synth_photos import load_mark, photograph_views  # noqa: E402

THRESHOLD = 0.5


def at_threshold(brand: str | None) -> float:
    """The views threshold for any brand: what Pipeline.views_threshold_for gives a brand with artwork."""
    return THRESHOLD


def view(
    verdict: Verdict,
    authenticity: float | None = None,
    brand: str | None = "nike",
    findings: list[str] | None = None,
    overruled: bool = False,
    image: str = "a.jpg",
    similarity: float = 0.7,
) -> ScanResult:
    reasons = {Verdict.PASS: ["consistent with the genuine reference"], Verdict.SUSPECT: findings or ["deviates"]}
    return ScanResult(
        image=image,
        verdict=verdict,
        brand=brand if verdict in (Verdict.PASS, Verdict.SUSPECT) else None,
        brand_name=brand,
        similarity=similarity,
        authenticity=authenticity,
        reasons=reasons.get(verdict, ["no enrolled brand matches"]),
        findings=findings or [],
        overruled=overruled,
    )


def test_the_mean_of_the_views_decides_and_the_worst_view_explains():
    """0.55 and 0.35: one view alone would pass and the other be flagged; their mean, 0.45, is under the
    threshold, and the words and heatmap come from the view that shows the deviation best."""
    seen = view(Verdict.SUSPECT, 0.35, findings=["element missing near top"], image="b.jpg")
    shown, item = combine_views([view(Verdict.PASS, 0.55), seen], at_threshold)
    assert item.verdict is Verdict.SUSPECT and item.image == "b.jpg" and shown == 1
    assert item.authenticity == pytest.approx(0.45)
    assert item.reasons[0] == "element missing near top"
    assert item.reasons[-1] == "2 views: authenticity 0.55 and 0.35, mean 0.45 (under 0.50)"
    assert [v["verdict"] for v in item.views] == ["pass", "suspect"]
    assert [v["reason"] for v in item.views] == ["consistent with the genuine reference", "element missing near top"]


def test_a_view_flagged_by_the_light_is_outvoted():
    """A glare flags one view (0.30), the other shows the mark clean (0.95): mean 0.625, the item passes."""
    shown, item = combine_views(
        [view(Verdict.SUSPECT, 0.30, image="glare.jpg"), view(Verdict.PASS, 0.95)], at_threshold
    )
    assert item.verdict is Verdict.PASS and item.image == "a.jpg" and shown == 1
    assert item.reasons == ["consistent with the genuine reference in 2 views (authenticity 0.30 and 0.95, mean 0.62)"]


def test_a_check_beside_the_score_flags_the_item_only_when_every_view_shows_it():
    colour = ["colour differs from reference"]
    once = [view(Verdict.SUSPECT, 0.9, findings=colour, overruled=True), view(Verdict.PASS, 0.9)]
    assert combine_views(once, at_threshold)[1].verdict is Verdict.PASS
    twice = [view(Verdict.SUSPECT, 0.9, findings=colour, overruled=True)] * 2
    _, item = combine_views(twice, at_threshold)
    assert item.verdict is Verdict.SUSPECT and item.reasons[0] == colour[0]
    assert item.reasons[-1] == "2 views: authenticity 0.90 and 0.90, mean 0.90 (the check above fired in every view)"


def test_views_that_were_not_judged_do_not_vote():
    """A blurred second view leaves the first one's own verdict; with no judged view, unknown beats rescan."""
    alone = view(Verdict.SUSPECT, 0.40, findings=["about 18% wider than reference"])
    _, item = combine_views([alone, view(Verdict.RESCAN)], at_threshold)
    assert item.verdict is Verdict.SUSPECT and item.reasons == alone.reasons and item.authenticity == 0.40
    assert combine_views([view(Verdict.RESCAN), view(Verdict.UNKNOWN)], at_threshold)[0] == 1  # the unknown view
    assert combine_views([view(Verdict.RESCAN)] * 2, at_threshold)[1].verdict is Verdict.RESCAN
    with pytest.raises(ValueError):
        combine_views([], at_threshold)


def test_a_view_named_only_as_a_near_copy_votes_only_where_no_view_named_the_brand_outright():
    """A hard view of a genuine item (relief under a cast shadow) can nearly line up and be flagged as a near copy
    (naming.Namer._near_copy): beside a view that named the brand and passes, it does not drag the mean down; alone,
    its flag stands."""
    near = view(Verdict.SUSPECT, 0.24, findings=["element missing near left"], image="shadow.jpg")
    near.near_copy = True
    shown, item = combine_views([view(Verdict.PASS, 0.80), near], at_threshold)
    assert item.verdict is Verdict.PASS and item.authenticity == 0.80 and shown == 0  # mean with it: 0.52
    _, alone = combine_views([near, view(Verdict.UNKNOWN)], at_threshold)
    assert alone.verdict is Verdict.SUSPECT and alone.reasons == near.reasons


def test_the_view_nearest_its_brand_names_the_item_and_another_brand_is_said():
    near = view(Verdict.PASS, 0.9, brand="nike", similarity=0.8)
    other = view(Verdict.SUSPECT, 0.1, brand="puma", similarity=0.6)
    _, item = combine_views([other, near], at_threshold)
    assert item.brand == "nike" and item.verdict is Verdict.PASS
    assert item.reasons[-1] == "another view read as puma"


@pytest.fixture(scope="module")
def pipeline(demo_index_path):
    with Pipeline(ScannerConfig(), demo_index_path) as scanning:
        yield scanning


def _views(tmp_path, artwork: np.ndarray, name: str, seed: int) -> list:
    paths = []
    for n, photo in enumerate(photograph_views(artwork, np.random.default_rng(seed), 2, rich=True), start=1):
        paths.append(tmp_path / f"{name}_{n}.jpg")
        cv2.imwrite(str(paths[-1]), photo)
    return paths


def test_two_real_views_of_a_genuine_item_and_of_a_counterfeit(pipeline, tmp_path):
    """Real photos from the generator's two-view capture, the shipped models and the demo index."""
    mark = load_mark(BRANDS / "mcdonalds" / "logo.png")
    frames, genuine = zip(*(pipeline.scan_file(p) for p in _views(tmp_path, mark, "genuine", 3)), strict=True)
    _, item = pipeline.combine(list(genuine), list(frames))
    assert [v.verdict for v in genuine] == [Verdict.PASS, Verdict.PASS]
    assert item.verdict is Verdict.PASS and item.brand == "mcdonalds"
    assert item.authenticity == pytest.approx(np.mean([v.authenticity for v in genuine]))
    altered = mark.copy()
    altered[: altered.shape[0] // 2, : altered.shape[1] // 2, 3] = 0  # the top left quarter left out
    frames, fakes = zip(*(pipeline.scan_file(p) for p in _views(tmp_path, altered, "missing", 3)), strict=True)
    _, item = pipeline.combine(list(fakes), list(frames))
    assert item.verdict is Verdict.SUSPECT
    assert item.reasons[-1].startswith("2 views: authenticity")
    assert item.heatmap is not None and item.aligned is not None  # the telling view's evidence


def test_scan_item_gives_one_line_for_all_views(built_two_views):
    from click.testing import CliRunner

    from scanner.cli import main

    db, paths = built_two_views
    result = CliRunner().invoke(main, ["scan", "--db", str(db), "--json", "--no-record", "--item", *map(str, paths)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("{")]
    assert len(lines) == 1
    item = json.loads(lines[0])
    assert item["verdict"] == "pass" and item["brand"] == "mcdonalds"
    assert [v["view"] for v in item["views"]] == [1, 2] and item["image"] in map(str, paths)


@pytest.fixture
def built_two_views(demo_index_path, tmp_path):
    return demo_index_path, _views(tmp_path, load_mark(BRANDS / "mcdonalds" / "logo.png"), "genuine", 3)


def test_an_item_is_recorded_once_with_its_views(built_two_views, tmp_path):
    """The store keeps one record for the item, its JSON listing every view (what the hub receives)."""
    from click.testing import CliRunner

    from scanner.cli import main

    db, paths = built_two_views
    store = tmp_path / "scans.db"
    scanned = CliRunner().invoke(
        main, ["scan", "--db", str(db), "--json", "--store", str(store), "--item", *map(str, paths)]
    )
    assert scanned.exit_code == 0, scanned.output
    record = json.loads(next(line for line in scanned.output.splitlines() if line.startswith("{")))["record"]
    listed = CliRunner().invoke(main, ["scans", "list", "--store", str(store), "--json"])
    assert len([line for line in listed.output.splitlines() if line.startswith("{")]) == 1
    shown = CliRunner().invoke(main, ["scans", "show", record, "--store", str(store)])
    kept = json.loads(shown.output[shown.output.index("{") :])["result"]
    assert [v["image"] for v in kept["views"]] == [str(p) for p in paths]


def test_with_more_views_for_suspect_only_a_flagged_first_view_waits_for_another(pipeline):
    """[live] more_views_for = "suspect": a first view that passes is the item's verdict at once; a flagged one
    is confirmed or cleared by the next view."""
    from scanner.camera import Frame
    from scanner.live import ItemViews

    frame = Frame(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4, 3), np.uint8), 0)
    item = ItemViews(pipeline, 2, "suspect")
    passed = view(Verdict.PASS, 0.9)
    assert item.add(frame, passed) == (frame, passed) and item.taken == 0
    assert item.add(frame, view(Verdict.SUSPECT, 0.40, findings=["element missing near top"])) is None
    assert item.taken == 1
    shown, cleared = item.add(frame, view(Verdict.PASS, 0.95))
    assert cleared.verdict is Verdict.PASS and cleared.authenticity == pytest.approx(0.675) and item.taken == 0
    every = ItemViews(pipeline, 2, "all")
    assert every.add(frame, passed) is None  # every item gets its second view


def test_a_config_names_the_items_that_get_more_views(tmp_path):
    from scanner.config import load_config
    from scanner.exc import ConfigError

    path = tmp_path / "scanner.toml"
    path.write_text('[live]\nviews = 2\nmore_views_for = "suspect"\n')
    assert load_config(path).live.more_views_for == "suspect"
    path.write_text('[live]\nmore_views_for = "pass"\n')
    with pytest.raises(ConfigError, match="more_views_for must be one of all, suspect"):
        load_config(path)


def test_an_unreadable_view_is_named_and_the_item_judged_from_the_rest(built_two_views, tmp_path):
    from click.testing import CliRunner

    from scanner.cli import main

    db, paths = built_two_views
    broken = tmp_path / "torn.jpg"
    broken.write_bytes(b"\\xff\\xd8 not a jpeg")
    args = ["scan", "--db", str(db), "--json", "--no-record", "--item", str(paths[0]), str(broken)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 3  # some inputs could not be scanned
    rows = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert rows[0]["image"] == str(broken) and "error" in rows[0]
    assert rows[1]["verdict"] == "pass" and [v["image"] for v in rows[1]["views"]] == [str(paths[0])]


def test_the_screen_says_how_many_views_the_verdict_came_from():
    from scanner.display import banner_numbers, render_screen, views_judged

    one = view(Verdict.PASS, 0.9)
    _, item = combine_views([view(Verdict.PASS, 0.8), view(Verdict.PASS, 0.9)], at_threshold)
    _, alone = combine_views([view(Verdict.PASS, 0.8), view(Verdict.RESCAN)], at_threshold)
    assert [views_judged(r) for r in (one, item, alone)] == [1, 2, 1]  # the rescan view judged nothing
    assert banner_numbers(item) == "match 0.70  authenticity 0.85"  # the mean, beside the brand
    # "2 views" is written right of the headline, where a single scan's banner stays plain.
    from scanner.display import BANNER_HEIGHT, FONT, HEADLINES, SCREEN

    top, right = SCREEN[1] - BANNER_HEIGHT, 20 + cv2.getTextSize(HEADLINES[Verdict.PASS], FONT, 1.4, 3)[0][0] + 4
    beside = (slice(top + 25, top + 55), slice(right, 320))

    def white(screen: np.ndarray) -> int:
        return int((screen[beside].min(axis=2) > 200).sum())  # text pixels: the banner itself is green

    assert white(render_screen(None, item)) > 20 and white(render_screen(None, one)) == 0


SAMPLE_VIEWS = ROOT / "samples" / "views"


@pytest.mark.parametrize(
    ("item", "alone", "together"),
    [("genuine_adidas", ["suspect", "pass"], "pass"), ("stroke_newbalance", ["pass", "suspect"], "suspect")],
)
def test_the_bundled_two_view_items(pipeline, item, alone, together):
    """samples/views (tools/make_sample_views.py): each view alone gets one verdict, the other view the
    other; the item judged from both gets the right one."""
    paths = sorted((SAMPLE_VIEWS / item).glob("*.jpg"))
    assert [pipeline.scan_file(p)[1].verdict.value for p in paths] == alone
    _, result, unreadable = pipeline.scan_item(paths)
    assert result.verdict.value == together and not unreadable
    assert [f.shape for f in result.view_frames] == [(480, 640, 3)] * 2  # kept for the record


def test_the_sample_views_recipe_makes_the_bundled_photos(tmp_path):
    from make_sample_views import main as make_views

    assert make_views(["--out", str(tmp_path)]) == 0
    for bundled in sorted(SAMPLE_VIEWS.glob("*/*.jpg")):
        made = cv2.imread(str(tmp_path / bundled.parent.name / bundled.name))
        assert np.abs(made.astype(int) - cv2.imread(str(bundled))).mean() < 0.5, bundled


def test_a_borderline_first_view_is_the_one_that_asks_for_another():
    """more_views_for = "borderline": only a first view scored near the thresholds (BORDERLINE) is scanned again;
    a clear pass, a clear fake and a mark no brand matched are not."""
    from scanner.views import BORDERLINE, wants_more_views

    low, high = BORDERLINE
    asks = [
        wants_more_views(view(v, a), "borderline")
        for v, a in [
            (Verdict.PASS, high - 0.01),
            (Verdict.SUSPECT, low),
            (Verdict.PASS, high),
            (Verdict.SUSPECT, low - 0.01),
        ]
    ]
    assert asks == [True, True, False, False]
    assert not wants_more_views(view(Verdict.UNKNOWN), "borderline")
    assert wants_more_views(view(Verdict.UNKNOWN), "all") and not wants_more_views(view(Verdict.PASS, 0.5), "suspect")
