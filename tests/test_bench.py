"""A tiny run of the benchmark so it cannot rot; no timing is asserted."""

import json
import subprocess
import sys

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
    assert set(row) >= {"quality", "total"} and all(p50 <= p95 for p50, p95 in row.values())
    assert "start-up" in result.stdout and "embedder alone" in result.stdout
