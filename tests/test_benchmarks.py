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
