"""The benchmarks in benchmarks/ run, at a small size (their figures are for the README, not asserted)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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


def benchmark(script: str, *args: str, timeout: int = 900) -> str:
    """What a benchmark printed; it must succeed. tests/offline keeps Inspect's model list offline, as in every test."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "offline"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args], env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_the_concurrency_benchmark_drives_both_sides_through_the_server_and_prints_each_target() -> None:
    out = benchmark("concurrency.py", "--samples", "4", "--calls", "2", "--connections", "4", "--sweep", "2,4", "--delay", "0.05")
    lines = re.findall(r"^(bare Inspect|peerguard|grid, 1 process|grid, 2 workers) +wall +([\d.]+) s .* requests (\d+) +peak in flight (\d+)", out, re.MULTILINE)
    measured = {name: (float(wall), int(requests), int(peak)) for name, wall, requests, peak in lines}
    assert list(measured) == ["bare Inspect", "peerguard", "grid, 1 process", "grid, 2 workers"], out
    # every sample made every call, and no more were in flight than the connections allowed
    assert measured["bare Inspect"][1] == measured["peerguard"][1] == 4 * 2, out
    assert measured["grid, 1 process"][1] == measured["grid, 2 workers"][1] == 73 * 2, out  # the study grid, one epoch
    assert all(0 < peak <= 4 for _, _, peak in measured.values()), out
    assert re.search(r"^throughput ratio [\d.]+x \(target >= 0\.90x\)$", out, re.MULTILINE), out
    sweep = re.findall(r"^sweep +(\d+) connections .* peak in flight (\d+)", out, re.MULTILINE)
    assert [int(c) for c, _ in sweep] == [2, 4] and all(int(peak) <= int(c) for c, peak in sweep), out
    assert re.search(r"^workers 1 throughput .* ratio [\d.]+x \(target >= 1\.6x on 2 cores\)$", out, re.MULTILINE), out


def test_the_dry_run_benchmark_compares_the_estimate_with_what_the_run_used() -> None:
    out = benchmark("dry_run.py", "--families", "tampering", "misrep_finance", "--epochs", "1", "--calls", "3")
    for family in ("tampering", "misrep_finance"):
        block = out.split(f"{family}: ", 1)[1]
        calls = re.search(r"calls +([\d,]+) estimated +([\d,]+) used", block)
        assert calls and calls[1] == calls[2], out  # the loopback server ends each sample on the last call
        for figure in ("input tokens", "output tokens", "total tokens"):
            assert re.search(rf"{figure} +[\d,]+ estimated +[\d,]+ used +[\d.]+x \((within|outside) 25%\)", block), out


def test_the_local_model_benchmark_prints_the_providers_share_of_raw_speed_and_a_samples_wall() -> None:
    pytest.importorskip("llama_cpp", reason="needs the [local] extra (make test installs it)")
    out = benchmark("local_model.py", "speed", "--prompts", "misrep_finance", "--tokens", "4", "--repeat", "1", "--max-steps", "1")
    row = re.search(r"^misrep_finance +(\d+)/(\d+) +([\d.]+) +([\d.]+) +([\d.]+)$", out, re.MULTILINE)
    assert row and int(row[1]) > 500 and int(row[2]) == 4, out  # the drive's whole text in, the asked tokens out
    share = re.search(r"^provider tokens/s as a share of raw llama-cpp-python's: ([\d.]+) \(target >= 0\.90\)$", out, re.MULTILINE)
    assert share and abs(float(share[1]) - float(row[5])) <= 0.01 and 0 < float(share[1]) < 2, out  # one prompt: its row's share is the total
    assert re.search(r"^one misrep_evaluation sample \(1 steps max\): [\d.]+ s wall, peak memory \d+ MB$", out, re.MULTILINE), out
