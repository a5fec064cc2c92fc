import shutil

import cv2
import numpy as np
import pytest

from scanner.config import ScannerConfig
from scanner.evaluate import (
    Evaluation,
    Outcome,
    evaluate,
    format_report,
    names_kind,
    points_at,
    read_labels,
    says_where,
)
from scanner.exc import ScannerError
from scanner.pipeline import Pipeline
from tests.conftest import PHOTOS

# Four photos whose verdicts test_cli pins down, and one deliberately wrong label, so the right numbers are known.
ROWS = [
    ("genuine_ferrari_0.jpg", "pass", "ferrari"),
    ("genuine_nike_0.jpg", "suspect", "nike"),  # wrong on purpose: the scanner says pass
    ("unknown_shell_0.jpg", "unknown", ""),
    ("dark_adidas_0.jpg", "rescan", "adidas"),
]


@pytest.fixture
def labelled(tmp_path):
    lines = ["file,expected,brand"]
    for name, expected, brand in ROWS:
        shutil.copy(PHOTOS / name, tmp_path / name)
        lines.append(f"{name},{expected},{brand}")
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    return tmp_path / "labels.csv"


def test_known_numbers(labelled, demo_index_path):
    with Pipeline(ScannerConfig(), demo_index_path) as pipeline:
        result = evaluate(pipeline, read_labels(labelled))
    assert result.total == 4
    assert result.accuracy == 0.75
    assert result.confusion[("suspect", "pass")] == 1
    assert result.precision("pass") == 0.5 and result.recall("pass") == 1.0
    assert result.recall("suspect") == 0.0 and result.precision("suspect") is None
    assert result.recall("unknown") == 1.0 and result.recall("rescan") == 1.0
    assert result.top1 == 1.0 and result.top1_total == 2  # ferrari and nike; rescan and unknown rows excluded
    assert result.genuine_top1 == 1.0  # ferrari, the one photo labelled pass
    assert result.false_unknown == 0.0
    report = format_report(result)
    assert "verdict accuracy               75.0%" in report


def test_genuine_photo_figures_leave_counterfeits_out():
    """Top-1 and called-unknown on genuine photos: a wrong nearest brand and a rescan (no nearest brand) are
    top-1 misses; counterfeits and unknown-brand photos are left out (`top1` and `false_unknown` count fakes)."""
    evaluation = Evaluation()
    evaluation.outcomes += [
        Outcome("a.jpg", "pass", "pass", "nike", "nike", 0.9, 0.8),
        Outcome("b.jpg", "pass", "pass", "nike", "adidas", 0.7, 0.8),
        Outcome("c.jpg", "pass", "rescan", "nike", None, None, None),
        Outcome("d.jpg", "pass", "pass", "shell", "shell", 0.8, 0.9),
        Outcome("e.jpg", "suspect", "suspect", "nike", "puma", 0.6, 0.1, "colour", 0.9),
        Outcome("f.jpg", "unknown", "unknown", None, "nike", 0.3, None),
    ]
    assert evaluation.genuine_top1 == 0.5
    assert "brand top-1 (genuine photos)   50.0%" in format_report(evaluation)
    evaluation.outcomes.append(Outcome("g.jpg", "pass", "unknown", "nike", "puma", 0.4, None))
    evaluation.outcomes.append(Outcome("h.jpg", "suspect", "unknown", "nike", "puma", 0.4, None))
    assert evaluation.genuine_top1 == 0.4 and evaluation.genuine_called_unknown == 0.2  # g, not h: h is a fake
    assert Evaluation().genuine_top1 is None and Evaluation().genuine_called_unknown is None


def test_bad_label_is_named(tmp_path):
    (tmp_path / "labels.csv").write_text("file,expected,brand\na.jpg,fake,x\n")
    with pytest.raises(ScannerError, match="labels.csv:2: expected must be one of"):
        read_labels(tmp_path / "labels.csv")


def test_missing_columns(tmp_path):
    (tmp_path / "labels.csv").write_text("name,verdict\na.jpg,pass\n")
    with pytest.raises(ScannerError, match="needs a header file,expected,brand"):
        read_labels(tmp_path / "labels.csv")


def test_report_has_the_numbers_and_the_plots(labelled, demo_index_path, tmp_path):
    from scanner.report import write_report

    with Pipeline(ScannerConfig(), demo_index_path) as pipeline:
        result = evaluate(pipeline, read_labels(labelled), gallery=True)
    path = write_report(result, tmp_path / "report", "Test report")
    text = path.read_text()
    assert text.startswith("# Test report") and "verdict accuracy               75.0%" in text
    assert "| genuine_nike_0.jpg | suspect | pass | nike | nike |" in text  # the one miss is listed
    for image in ("confusion.png", "similarity.png", "authenticity.png", "worst_misses.png"):
        assert (tmp_path / "report" / image).read_bytes()[:4] == b"\x89PNG" and f"]({image})" in text
    # The gallery has one row for the one verified miss: a caption band and a strip of four 112 px images.
    import cv2

    gallery = cv2.imread(str(tmp_path / "report" / "worst_misses.png"))
    assert gallery.shape == (36 + 112, 4 * 112, 3)


def test_counterfeit_kinds_and_magnitudes_are_broken_down(tmp_path, demo_index_path):
    """With kind and magnitude columns, detection is reported per kind and per band (subtle below 0.5)."""
    rows = [
        ("genuine_ferrari_0.jpg", "pass", "ferrari", "genuine", ""),
        ("genuine_adidas_0.jpg", "suspect", "adidas", "stroke", "0.2"),  # a genuine mark labelled fake: missed
        ("colour_ferrari_0.jpg", "suspect", "ferrari", "colour", "0.8"),
        ("stretch_starbucks_0.jpg", "suspect", "starbucks", "proportions", "0.3"),
    ]
    lines = ["file,expected,brand,kind,magnitude"]
    for row in rows:
        shutil.copy(PHOTOS / row[0], tmp_path / row[0])
        lines.append(",".join(row))
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    samples = read_labels(tmp_path / "labels.csv")
    assert samples[2].kind == "colour" and samples[2].magnitude == 0.8 and samples[0].magnitude is None
    with Pipeline(ScannerConfig(), demo_index_path) as pipeline:
        result = evaluate(pipeline, samples)
    detection = result.counterfeit_detection()
    # Named: the recoloured horse's first reason is its colour, the stretched mark's how much wider it is.
    # No changes column: nothing to say where the heatmap should point.
    expected = {"all": 1.0, "subtle": None, "obvious": 1.0, "count": 1, "named": 1.0, "placed": None, "where": None}
    assert detection["colour"] == expected
    expected = {"all": 1.0, "subtle": 1.0, "obvious": None, "count": 1, "named": 1.0, "placed": None, "where": None}
    assert detection["proportions"] == expected
    assert detection["stroke"]["all"] == 0.0 and detection["stroke"]["named"] is None  # none detected to name
    assert detection["all kinds"]["count"] == 3 and detection["all kinds"]["subtle"] == 0.5  # stretch, not stroke
    assert detection["all kinds"]["obvious"] == 1.0
    assert result.genuine_flagged == 0.0
    report = format_report(result)
    assert "genuine flagged suspect" in report and "proportions" in report


def test_a_detected_counterfeit_is_named_by_its_first_reason_only():
    def fake(kind: str, predicted: str, first: str | None) -> Outcome:
        return Outcome("x.jpg", "suspect", predicted, "nike", "nike", 0.8, 0.1, kind, 0.3, first)

    evaluation = Evaluation()
    evaluation.outcomes += [
        fake("missing", "suspect", "element missing near top right"),
        fake("missing", "suspect", "differs from reference near top right"),  # placed, not named
        fake("missing", "pass", "consistent with the genuine reference"),  # not detected: not counted
        fake("warp", "suspect", "element missing near left"),  # a warp has no words of its own
    ]
    assert names_kind(evaluation.outcomes[0]) is True and names_kind(evaluation.outcomes[1]) is False
    assert names_kind(evaluation.outcomes[3]) is None
    detection = evaluation.counterfeit_detection()
    assert detection["missing"]["named"] == 0.5 and detection["warp"]["named"] is None
    assert detection["all kinds"]["named"] == 0.5
    assert "named" in format_report(evaluation)


def test_bad_magnitude_is_named(tmp_path):
    (tmp_path / "labels.csv").write_text("file,expected,brand,kind,magnitude\na.jpg,suspect,x,colour,big\n")
    with pytest.raises(ScannerError, match="labels.csv:2: magnitude must be a number"):
        read_labels(tmp_path / "labels.csv")


def _part(box: tuple[int, int, int, int], side: int = 224) -> np.ndarray:
    mask = np.zeros((side, side), np.uint8)
    x0, y0, x1, y1 = box
    mask[y0:y1, x0:x1] = 255
    return mask


def test_the_heatmap_points_at_the_part_its_hottest_pixels_lie_on():
    heatmap = np.zeros((128, 128), np.float32)
    heatmap[20:40, 80:100] = 0.9  # a hot patch at top right
    heatmap[90:110, 10:30] = 0.5  # a fainter one at bottom left: not where the eye goes
    assert points_at(heatmap, _part((140, 35, 175, 70)))  # the part at top right (224 px frame)
    assert not points_at(heatmap, _part((17, 157, 52, 192)))  # the faint patch's part
    narrow = np.zeros((128, 128), np.float32)
    narrow[20:40, 80:88] = 1.0  # a hot band along a part's edge (a part left out shows along its outline)
    assert points_at(narrow, _part((158, 35, 200, 70)))  # the part 2 px (at 128) to its right: within reach
    assert not points_at(narrow, _part((196, 35, 224, 70)))  # 14 px to its right: another part
    assert not points_at(np.zeros((128, 128), np.float32), _part((0, 0, 224, 224)))  # a blank map points nowhere
    assert not points_at(None, _part((0, 0, 224, 224)))


def test_placed_reads_the_changes_mask_framed_as_the_reference(tmp_path, demo_index_path):
    """The changes column's mask is read relative to the CSV and compared with the scan's heatmap: one over the
    whole reference frame holds the heatmap, one in a corner the mark does not reach does not."""
    shutil.copy(PHOTOS / "missing_adidas_0.jpg", tmp_path / "missing_adidas_0.jpg")
    (tmp_path / "changes").mkdir()
    cv2.imwrite(str(tmp_path / "changes" / "whole.png"), _part((0, 0, 224, 224)))
    cv2.imwrite(str(tmp_path / "changes" / "corner.png"), _part((0, 0, 12, 12)))
    lines = ["file,expected,brand,kind,magnitude,changes"]
    lines.append("missing_adidas_0.jpg,suspect,adidas,missing,0.6,changes/whole.png")
    lines.append("missing_adidas_0.jpg,suspect,adidas,missing,0.6,changes/corner.png")
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    samples = read_labels(tmp_path / "labels.csv")
    assert samples[0].changes == tmp_path / "changes" / "whole.png"
    with Pipeline(ScannerConfig(), demo_index_path) as pipeline:
        result = evaluate(pipeline, samples)
    assert [o.predicted for o in result.outcomes] == ["suspect", "suspect"]
    assert [o.placed for o in result.outcomes] == [True, False]
    # Its first reason says "element missing near bottom right": in the frame, not in its top left corner.
    assert [o.said_where for o in result.outcomes] == [True, False]
    assert result.counterfeit_detection()["missing"]["placed"] == 0.5
    assert "placed" in format_report(result) and "where" in format_report(result)


def test_a_missing_changes_mask_is_named(tmp_path, demo_index_path):
    shutil.copy(PHOTOS / "missing_adidas_0.jpg", tmp_path / "missing_adidas_0.jpg")
    (tmp_path / "labels.csv").write_text(
        "file,expected,brand,kind,magnitude,changes\nmissing_adidas_0.jpg,suspect,adidas,missing,0.6,changes/gone.png\n"
    )
    with Pipeline(ScannerConfig(), demo_index_path) as pipeline, pytest.raises(ScannerError, match="changes mask"):
        evaluate(pipeline, read_labels(tmp_path / "labels.csv"))


def test_a_reason_says_where_when_the_place_it_names_reaches_the_part():
    top_right = _part((150, 20, 200, 70))
    assert says_where("element missing near top right", top_right)
    assert says_where("differs most from reference near right", _part((150, 80, 200, 100)))  # the middle band
    assert not says_where("element missing near bottom left", top_right)
    assert not says_where("element missing near centre", top_right)
    assert says_where("extra marking near top", _part((130, 20, 150, 70)))  # within reach of the middle column
    assert not says_where("about 18% wider than reference", top_right)  # names no place
    assert not says_where("element missing near the logo", top_right)  # not a place the scanner names
    assert not says_where(None, top_right)


def test_a_row_with_more_views_is_scored_as_one_item(tmp_path, demo_index_path):
    """more_views (make_heldout_set.py --views): the row's outcome is its item's, combined from every view; the
    first view alone when told. Two real photos of genuine Starbucks and Ferrari marks stand in as the views."""
    for name in ("genuine_starbucks_0.jpg", "stretch_starbucks_0.jpg", "genuine_ferrari_0.jpg"):
        shutil.copy(PHOTOS / name, tmp_path / name)
    (tmp_path / "labels.csv").write_text(
        "file,expected,brand,kind,magnitude,changes,more_views\n"
        "genuine_starbucks_0.jpg,pass,starbucks,genuine,,,stretch_starbucks_0.jpg\n"
        "genuine_ferrari_0.jpg,pass,ferrari,genuine,,,\n"
    )
    samples = read_labels(tmp_path / "labels.csv")
    assert samples[0].more_views == [tmp_path / "stretch_starbucks_0.jpg"] and samples[1].more_views == []
    with Pipeline(ScannerConfig(), demo_index_path) as pipeline:
        alone = [pipeline.scan_file(tmp_path / n)[1] for n in ("genuine_starbucks_0.jpg", "stretch_starbucks_0.jpg")]
        both = evaluate(pipeline, samples)
        first = evaluate(pipeline, samples, first_view_only=True)
    assert both.outcomes[0].authenticity == pytest.approx(np.mean([r.authenticity for r in alone]))
    assert first.outcomes[0].authenticity == pytest.approx(alone[0].authenticity)
    assert both.outcomes[1] == first.outcomes[1]  # a row with one view is the same either way
    assert both.views_per_item == 2 and first.views_per_item == 1
    assert "items (up to 2 views each) 2" in format_report(both) and "photos" in format_report(first)


def test_with_more_views_for_suspect_a_passed_first_view_is_the_item(tmp_path, demo_index_path):
    """[live] more_views_for = "suspect": scanner eval scans the other views only where the device would."""
    from dataclasses import replace

    for name in ("genuine_starbucks_0.jpg", "stretch_starbucks_0.jpg"):
        shutil.copy(PHOTOS / name, tmp_path / name)
    (tmp_path / "labels.csv").write_text(
        "file,expected,brand,kind,magnitude,changes,more_views\n"
        "genuine_starbucks_0.jpg,pass,starbucks,genuine,,,stretch_starbucks_0.jpg\n"
        "stretch_starbucks_0.jpg,suspect,starbucks,proportions,0.6,,genuine_starbucks_0.jpg\n"
    )
    config = ScannerConfig()
    config = replace(config, live=replace(config.live, views=2, more_views_for="suspect"))
    with Pipeline(config, demo_index_path) as pipeline:
        alone = [pipeline.scan_file(tmp_path / n)[1] for n in ("genuine_starbucks_0.jpg", "stretch_starbucks_0.jpg")]
        result = evaluate(pipeline, read_labels(tmp_path / "labels.csv"))
    assert [r.verdict.value for r in alone] == ["pass", "suspect"]
    assert result.outcomes[0].authenticity == pytest.approx(alone[0].authenticity)  # passed: one view
    assert result.outcomes[1].authenticity == pytest.approx(np.mean([r.authenticity for r in alone]))  # confirmed


# (labels.csv column, heading in the text report, a group and another of that column's values)
GROUPINGS = [("colourway", "colourway", "reversed", "one_colour_dark"), ("style", "print style", "emboss", "print")]


@pytest.mark.parametrize(("column", "heading", "group", "other"), GROUPINGS)
def test_labelled_groups_are_tallied_apart(tmp_path, column, heading, group, other):
    """labels.csv's colourway column (make_heldout_set.py --colourways) and style column (how the goods carry
    the mark, make_heldout_set.py): per value, the genuine photos flagged and called unknown and the
    counterfeits detected, in the text report and `scanner eval --json`; a set without the column has none."""
    (tmp_path / "labels.csv").write_text(
        f"file,expected,brand,kind,magnitude,changes,{column}\na.jpg,pass,apple,genuine,,,{group}\n"
        "b.jpg,pass,apple,genuine,,,\n"
    )
    assert [getattr(s, column) for s in read_labels(tmp_path / "labels.csv")] == [group, None]

    def outcome(expected: str, predicted: str, value: str | None) -> Outcome:
        kind = "genuine" if expected == "pass" else "stroke"
        return Outcome("x.jpg", expected, predicted, "apple", "apple", 0.8, 0.5, kind, 0.3, None, **{column: value})

    tallied = Evaluation(
        [
            outcome("pass", "pass", group),
            outcome("pass", "suspect", group),
            outcome("pass", "unknown", group),
            outcome("pass", "pass", group),
            outcome("suspect", "suspect", group),
            outcome("suspect", "pass", group),
            outcome("pass", "suspect", other),
            outcome("pass", "suspect", None),  # unlabelled: in no row
        ]
    )
    table = tallied.by_colourway() if column == "colourway" else tallied.by_style()
    assert table[group] == {"genuine": 4, "flagged": 0.25, "unknown": 0.25, "counterfeits": 2, "detected": 0.5}
    assert table[other] == {"genuine": 1, "flagged": 1.0, "unknown": 0.0, "counterfeits": 0, "detected": None}
    assert list(table) == sorted([group, other])
    report = format_report(tallied)
    assert heading in report and f"{group:<18}       4    25.0%    25.0%      2     50.0%" in report
    assert heading not in format_report(Evaluation([outcome("pass", "pass", None)]))
    key = f"by_{column}"
    assert tallied.as_dict()[key] == table and key not in Evaluation([outcome("pass", "pass", None)]).as_dict()
    # Photos of unknown brands or degraded frames are neither genuine nor counterfeit: no row of zeros.
    unjudged = Evaluation([outcome("unknown", "unknown", group), outcome("rescan", "rescan", other)])
    assert unjudged.by_colourway() == {} and unjudged.by_style() == {} and heading not in format_report(unjudged)
    # The one column leaves the other's table empty.
    assert (tallied.by_style() if column == "colourway" else tallied.by_colourway()) == {}
