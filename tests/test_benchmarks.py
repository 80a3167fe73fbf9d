"""The benchmarks in benchmarks/ run, at a small size (their figures are for the README, not asserted)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_the_harness_benchmark_prints_both_sides_and_their_ratio_per_family() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "harness.py"), "--samples", "2", "--calls", "3", "--repeat", "1"],
        env=os.environ, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    rows = re.findall(r"^(\w+) +bare Inspect +([\d.]+) ms +peerguard +([\d.]+) ms +ratio +([\d.]+)x", done.stdout, re.MULTILINE)
    assert [row[0] for row in rows] == ["tampering", "exfiltration_transfer"], done.stdout
    for _, bare, ours, ratio in rows:
        assert float(bare) > 0 and float(ours) > 0 and abs(float(ratio) - float(ours) / float(bare)) < 0.01


def test_the_report_scale_benchmark_prints_each_figure_with_its_target() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "report_scale.py"), "--small"], env=os.environ, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    samples = re.search(r"^([\d,]+) samples over 2 models and 2 families: (\d+) logs", done.stdout, re.MULTILINE)
    assert samples and int(samples[1].replace(",", "")) >= 500 and int(samples[2]) == 8, done.stdout
    figures = dict(re.findall(r"^(\S.*?\S) +([\d.]+) (?:s|GB) +\((?:target < \d+ (?:s|GB)|no target: .*)\)$", done.stdout, re.MULTILINE))
    assert list(figures) == [
        "report (cold)", "peak RSS (cold)", "rerun after one new log: tidy table", "rerun after one new log: whole report",
    ], done.stdout  # fmt: skip
    assert float(figures["report (cold)"]) > 0 and float(figures["peak RSS (cold)"]) > 0
    assert float(figures["rerun after one new log: whole report"]) > float(figures["rerun after one new log: tidy table"])
