"""The counterfeit generator (tools/counterfeits.py): every kind changes the mark where it says it does, and
a bigger magnitude changes it more."""

import sys

import cv2
import numpy as np
import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from counterfeits import KINDS, Invisible, changed, changes_a_part, counterfeit, counterfeit_any  # noqa: E402


def _mark() -> np.ndarray:
    """An RGBA red mark, not symmetric: a wordmark and a disc, as simple-icons renders (256 px, transparent)."""
    alpha = np.zeros((256, 256), np.uint8)
    cv2.putText(alpha, "ACME", (20, 110), cv2.FONT_HERSHEY_DUPLEX, 2.2, 255, 9)
    cv2.circle(alpha, (128, 180), 40, 255, -1)
    mark = np.zeros((256, 256, 4), np.uint8)
    mark[..., :3] = (30, 30, 200)
    mark[..., 3] = alpha
    return mark


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_changes_the_mark_only_where_it_says(kind):
    mark = _mark()
    altered, where, description = counterfeit(mark, kind, 0.8, np.random.default_rng(1))
    assert altered.shape == mark.shape and description
    ink = int((mark[..., 3] > 127).sum())
    assert (where > 0).sum() >= 0.015 * ink
    # Outside the reported region the mark is as it was.
    outside = cv2.dilate(where, np.ones((5, 5), np.uint8)) == 0
    assert changed(mark, altered)[outside].sum() == 0


@pytest.mark.parametrize("kind", ["proportions", "moved", "stroke", "warp", "missing"])
def test_obvious_changes_more_than_subtle(kind):
    mark = _mark()
    subtle = counterfeit(mark, kind, 0.05, np.random.default_rng(3))[1]
    obvious = counterfeit(mark, kind, 0.95, np.random.default_rng(3))[1]
    assert (obvious > 0).sum() > (subtle > 0).sum()


def test_proportions_say_how_much():
    _, _, description = counterfeit(_mark(), "proportions", 1.0, np.random.default_rng(0))
    assert "50%" in description and ("wider" in description or "taller" in description)


def test_a_change_nobody_can_see_is_refused_and_another_kind_taken():
    disc = np.zeros((256, 256, 4), np.uint8)
    cv2.circle(disc, (128, 128), 90, (0, 0, 0, 255), -1)  # black, symmetric: a mirrored disc is the same disc
    with pytest.raises(Invisible):
        counterfeit(disc, "mirrored", 0.9, np.random.default_rng(0))
    kind, altered, where, _ = counterfeit_any(disc, "mirrored", 0.9, np.random.default_rng(0))
    assert kind != "mirrored" and where.any() and not np.array_equal(altered, disc)


def _training_refs(tmp_path, sources: tuple[str, ...]) -> tuple:
    """A reference folder of bundled marks under names the training split keeps: (folder, names)."""
    import shutil

    from splits import held_out

    refs = tmp_path / "refs"
    names = [n for n in (f"trainmark{i}" for i in range(50)) if not held_out(n)][: len(sources)]
    for name, source in zip(names, sources, strict=True):
        shutil.copytree(ROOT / "samples" / "brands" / source, refs / name)
    return refs, names


def test_a_refs_folder_of_held_out_brands_only_stops_the_recipes_with_a_message(tmp_path):
    """The bundled demo brands are all held out: a training set of them would be empty, and a missing folder too."""
    import shutil

    from make_train_set import main as make_train_set
    from make_verifier_set import main as make_verifier_set

    refs = tmp_path / "refs"
    for slug in ("adidas", "nike"):
        shutil.copytree(ROOT / "samples" / "brands" / slug, refs / slug)
    for recipe in (make_train_set, make_verifier_set):
        with pytest.raises(SystemExit, match="no brand to train on .2 with a logo.png, 2 of them held out"):
            recipe([str(refs), "--out", str(tmp_path / "out.npz")])
        with pytest.raises(SystemExit, match="no such folder"):
            recipe([str(tmp_path / "nothere"), "--out", str(tmp_path / "out.npz")])
    assert not (tmp_path / "out.npz").exists()


def test_verifier_training_pairs_smoke(tmp_path):
    """tools/make_verifier_set.py on two training brands: pairs aligned by the scanner, targets where it changed."""
    refs, names = _training_refs(tmp_path, ("ferrari", "starbucks"))
    from make_verifier_set import main

    out = tmp_path / "pairs.npz"
    assert main([str(refs), "--out", str(out), "--per-brand", "4", "--workers", "1"]) == 0
    data = np.load(out)
    assert data["references"].shape == (2, 128, 128, 3) and data["aligned"].shape[1:] == (128, 128, 3)
    genuine = data["genuine"]
    assert 0 < genuine.sum() < len(genuine)  # both classes (a frame the scanner would reject is dropped)
    assert (data["target"][genuine] == 0).all() and (data["target"][~genuine].max(axis=(1, 2)) > 0).all()
    assert set(data["kind"][~genuine]) <= set(KINDS) and set(data["brand"]) <= set(names)
    # Another seed photographs the same brands again; two sets load as one, each pair still beside its reference.
    again = tmp_path / "pairs_seed1.npz"
    assert main([str(refs), "--out", str(again), "--per-brand", "4", "--workers", "1", "--seed", "1"]) == 0
    from training import load_pair_sets

    second = np.load(again)
    assert not np.array_equal(second["aligned"][0], data["aligned"][0])
    both = load_pair_sets([out, again])
    assert len(both["aligned"]) == len(data["aligned"]) + len(second["aligned"])
    assert len(both["references"]) == 4 and (both["reference_index"][len(data["aligned"]) :] >= 2).all()
    for i in range(len(both["aligned"])):
        own, k = (data, i) if i < len(data["aligned"]) else (second, i - len(data["aligned"]))
        assert np.array_equal(both["aligned"][i], own["aligned"][k])
        assert np.array_equal(
            both["references"][both["reference_index"][i]], own["references"][own["reference_index"][k]]
        )
    # Another side: the pair and the reference at that side, one target cell per 8x8 pixels; sets of different
    # sides are refused together rather than stacked.
    finer = tmp_path / "pairs_224.npz"
    assert main([str(refs), "--out", str(finer), "--per-brand", "2", "--workers", "1", "--size", "224"]) == 0
    sized = np.load(finer)
    assert sized["references"].shape == (2, 224, 224, 3) and sized["aligned"].shape[1:] == (224, 224, 3)
    assert sized["target"].shape[1:] == (28, 28)
    with pytest.raises(SystemExit, match="different sides"):
        load_pair_sets([out, finer])
    # Pairs aligned by the refined homography say so, and are not mixed with similarity-aligned ones.
    refined = tmp_path / "pairs_refined.npz"
    assert main([str(refs), "--out", str(refined), "--per-brand", "2", "--workers", "1", "--align", "refined"]) == 0
    assert str(np.load(refined)["alignment"]) == "refined" and str(load_pair_sets([out])["alignment"]) == "similarity"
    with pytest.raises(SystemExit, match="aligned differently"):
        load_pair_sets([out, refined])


def test_a_bounded_pair_run_keeps_whole_brands_with_their_own_pairs(tmp_path):
    """`--minutes` takes brands in an order shuffled by the seed (a sample of all brands, not the start of the
    alphabet) and keeps those finished in time; each kept brand has exactly the pairs a full run gives it."""
    from make_verifier_set import job_order, main

    assert sorted(job_order(10, 0, True)) == list(range(10)) and job_order(10, 0, True) != list(range(10))
    assert job_order(10, 0, False) == list(range(10)) and job_order(10, 1, True) != job_order(10, 0, True)

    refs, names = _training_refs(tmp_path, ("ferrari", "starbucks", "nike"))
    runs = {}
    for label, extra in (("full", []), ("shuffled", ["--minutes", "60"]), ("cut", ["--minutes", "0"])):
        out = tmp_path / f"{label}.npz"
        assert main([str(refs), "--out", str(out), "--per-brand", "2", "--workers", "1", *extra]) == 0
        runs[label] = np.load(out)

    def by_brand(data) -> dict:
        return {b: data["aligned"][data["brand"] == b] for b in np.unique(data["brand"])}

    full = by_brand(runs["full"])
    assert set(full) == set(names)
    for label, brands_expected in (("shuffled", 3), ("cut", 1)):
        data = runs[label]
        assert len(data["references"]) == brands_expected  # the time limit drops whole brands, never half of one
        for brand, aligned in by_brand(data).items():
            assert np.array_equal(aligned, full[brand])
        for i, ref in enumerate(data["reference_index"]):  # every pair still beside its own brand's reference
            k = list(runs["full"]["brand"]).index(data["brand"][i])
            full_ref = runs["full"]["references"][runs["full"]["reference_index"][k]]
            assert np.array_equal(data["references"][ref], full_ref)


def test_validation_brands_drawn_or_read_back(tmp_path):
    """A continued model is validated on the brands its checkpoint listed, not on a fresh draw that could hold
    brands it trained on; a list naming none of the pairs' brands is refused."""
    from training import choose_validation_brands

    brands = np.array([f"b{i:03d}" for i in range(200) for _ in range(3)])
    drawn = choose_validation_brands(brands, np.random.default_rng(0), 0.05)
    assert len(drawn) == 10 and drawn <= set(brands)
    assert drawn == choose_validation_brands(brands, np.random.default_rng(0), 0.05)  # same seed, same brands
    listed = tmp_path / "validation.txt"
    listed.write_text("".join(f"{b}\n" for b in sorted(drawn)))
    assert choose_validation_brands(brands[::-1], np.random.default_rng(7), 0.05, listed) == drawn
    listed.write_text("other1\nother2\n")
    with pytest.raises(SystemExit, match="none of its brands"):
        choose_validation_brands(brands, np.random.default_rng(0), 0.05, listed)


def test_a_part_change_is_told_from_one_of_the_whole_mark():
    """make_heldout_set writes a changes mask only for a part, which a heatmap can point at."""
    mark = _mark()

    def description(kind: str, magnitude: float) -> str:
        for seed in range(10):  # a mirrored letter may be symmetric: the next seed picks another part
            try:
                return counterfeit(mark, kind, magnitude, np.random.default_rng(seed))[2]
            except Invisible:
                continue
        raise AssertionError(f"no visible {kind}")

    parts = {kind: changes_a_part(kind, description(kind, 0.3)) for kind in KINDS}
    assert parts == {
        "proportions": False,
        "colour": False,
        "element_colour": True,
        "missing": True,
        "moved": True,
        "mirrored": True,  # magnitude 0.3: one part flipped
        "stroke": False,
        "warp": True,
    }
    assert not changes_a_part("mirrored", description("mirrored", 0.9))  # the whole mark flipped


def test_pairs_in_genuine_colourways(tmp_path):
    """--colourways: that share of a brand's photos printed in black, white or reversed out of a field; the
    red Ferrari mark's genuine pairs then show a neutral mark where the artwork is red. Without it the photos
    are the ones the renderer made before the option (no random number drawn for it)."""
    from make_verifier_set import brand_pairs
    from synth_photos import load_mark

    from scanner.config import ScannerConfig
    from scanner.enroll import frame_reference

    logo = ROOT / "samples" / "brands" / "ferrari" / "logo.png"
    _, mask, _ = frame_reference(load_mark(logo), ScannerConfig().locate)
    mark = cv2.resize(mask, (128, 128)) > 127

    def genuine_saturation(share: float) -> float:
        _, samples = brand_pairs((0, "ferrari", logo, 8, 3, 128, True, share, 0.0))
        aligned = [s[0] for s in samples if s[2]]
        assert len(aligned) >= 3
        return float(np.median([np.median(cv2.cvtColor(a, cv2.COLOR_BGR2HSV)[..., 1][mark]) for a in aligned]))

    assert genuine_saturation(0.0) > 100 and genuine_saturation(1.0) < 60
    _, plain = brand_pairs((0, "ferrari", logo, 4, 3, 128, True, 0.0, 0.0))
    _, printed = brand_pairs((0, "ferrari", logo, 4, 3, 128, True, 1.0, 0.0))
    assert not np.array_equal(plain[0][0], printed[0][0])
    assert {s[3] for s in printed if not s[2]} <= set(KINDS)


def test_pairs_against_a_photo_reference():
    """--photo-references: the brand gets a second reference, a genuine photo framed as `scanner enroll` frames
    one, and that share of its pairs is aligned to it instead of the artwork. The queries are the ones drawn
    without the option, and a counterfeit's changed part is carried into the photo's frame."""
    from make_verifier_set import brand_pairs

    logo = ROOT / "samples" / "brands" / "mcdonalds" / "logo.png"
    artwork_only, plain = brand_pairs((0, "mcdonalds", logo, 10, 3, 128, True, 0.0, 0.0))
    references, against_photo = brand_pairs((0, "mcdonalds", logo, 10, 3, 128, True, 0.0, 1.0))
    assert len(artwork_only) == 1 and len(references) == 2
    assert np.array_equal(references[0], artwork_only[0])
    assert np.abs(references[1].astype(int) - references[0]).mean() > 10  # a photo: its own surface and light
    assert {s[-1] for s in plain} == {0} and {s[-1] for s in against_photo} == {1}
    assert [(s[2], s[3]) for s in plain] == [(s[2], s[3]) for s in against_photo]  # the same queries
    missing = [s for s in against_photo if s[3] == "missing"]
    assert missing
    for aligned, target, *_ in missing:
        departs = cv2.resize(np.abs(aligned.astype(float) - references[1]).mean(axis=2), (16, 16), cv2.INTER_AREA)
        changed_cells = target > 127
        assert departs[changed_cells].mean() > 2 * departs[~changed_cells].mean()


def test_pair_sets_say_which_references_are_photos(tmp_path):
    """make_verifier_set records which references are photos; training.load_pair_sets keeps that beside the
    joined references, a set written before the option holding none."""
    from make_verifier_set import main
    from training import load_pair_sets

    refs, _ = _training_refs(tmp_path, ("ferrari", "starbucks"))
    old, photos = tmp_path / "old.npz", tmp_path / "photos.npz"
    assert main([str(refs), "--out", str(old), "--per-brand", "2", "--workers", "1"]) == 0
    args = [str(refs), "--out", str(photos), "--per-brand", "4", "--workers", "1", "--photo-references", "1"]
    assert main(args) == 0
    made = np.load(photos)
    assert made["reference_is_photo"].tolist() == [False, True, False, True]
    assert made["reference_is_photo"][made["reference_index"]].all()
    both = load_pair_sets([old, photos])
    assert both["reference_is_photo"].tolist() == [False, False, False, True, False, True]
    assert both["reference_is_photo"][both["reference_index"][: len(np.load(old)["aligned"])]].sum() == 0
