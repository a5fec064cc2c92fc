"""A tiny run of the benchmark so it cannot rot; no timing is asserted."""

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def test_benchmark_smoke(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [
            sys.executable,
            "tools/bench.py",
            "--photos",
            "3",
            "--threads",
            "1",
            "--index-sizes",
            "50",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    numbers = json.loads(out.read_text())
    assert numbers["photos"] == 3 and set(numbers["index"]) == {"20", "50"}
    row = next(iter(numbers["pipeline"].values()))
    assert set(row) >= {"quality", "total", "searched_frames"}
    assert all(row[stage][0] <= row[stage][1] for stage in row if stage != "searched_frames")
    assert "start-up" in result.stdout and "embedder alone" in result.stdout and "scene search" in result.stdout
    scene = numbers["scene_search"]["litert/1/50"]
    assert scene["frames"] == 2 and scene["searched"] >= 1  # cluttered scenes: the located box matches nothing
    assert scene["search"][0] <= scene["total"][0]  # the fallback's time is part of those frames' total
    check_pi_projection(numbers)


def check_pi_projection(bench):
    """The projection reads the benchmark's JSON and scales it by the published Pi / measured-here ratio."""
    sys.path.insert(0, str(ROOT / "tools"))
    from pi_projection import PUBLISHED_MS, project

    reference_ms = 6.0
    projection = project(bench, reference_ms)
    assert set(projection) == {"litert/1/20", "litert/1/50"}  # one-thread runs only
    stages = bench["pipeline"]["litert/1/50"]
    rows = projection["litert/1/50"]
    one, four = PUBLISHED_MS["Pi 5"]
    assert rows["total"]["Pi 5"]["1"][1] == pytest.approx(stages["total"][1] * one / reference_ms)
    assert rows["embed"]["Pi 5"]["4"][0] == pytest.approx(stages["embed"][0] * four / reference_ms)
    assert rows["verify"]["Pi 4"]["4"] == rows["verify"]["Pi 4"]["1"]  # single-threaded stages do not scale
    saved = stages["embed"][0] * (one - four) / reference_ms
    assert rows["total"]["Pi 5"]["4"][0] == pytest.approx(rows["total"]["Pi 5"]["1"][0] - saved)


def test_index_benchmark_smoke(tmp_path):
    """tools/bench_index.py at a tiny size: exact search is its own ground truth, each breadth gets a row."""
    out = tmp_path / "index.json"
    result = subprocess.run(
        [sys.executable, "tools/bench_index.py", "--sizes", "2000", "--libraries", "numpy", "usearch-i8",
         "--queries", "50", "--ef-search", "64", "256", "--json", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = {row["library"]: row for row in json.loads(out.read_text())}
    assert set(rows) == {"numpy", "usearch-i8@64", "usearch-i8@256"}
    assert rows["numpy"]["recall@1"] == 1.0 and rows["numpy"]["recall@10"] == 1.0
    assert rows["usearch-i8@256"]["recall@1"] >= 0.9 and rows["usearch-i8@64"]["p50_ms"] > 0
