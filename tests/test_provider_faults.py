"""Provider faults: a run against a server that answers 429 and 500 retries, finishes, and counts its retries."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_openai import serve

from peerguard.cli import main
from peerguard.report.load import load_logs
from peerguard.report.tables import run_status


def test_run_retries_faults_finishes_and_reports_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with serve(fault_every=4) as (base_url, server):
        monkeypatch.setenv("FAKE_API_KEY", "test-key")
        monkeypatch.setenv("FAKE_BASE_URL", base_url)
        args = ["run", "--model", "openai-api/fake/model", "--task", "misrep_finance,tampering", "--condition", "all", "--dataset", "factual"]
        assert main([*args, "--log-dir", str(tmp_path), "--display", "none", "--max-retries", "5"]) == 0
    capsys.readouterr()
    assert server.faults > 0
    data = load_logs([tmp_path])
    assert len(data) == 4 + 3  # the peer subject: no_peer is skipped, so 4 conditions for finance and 3 for tampering
    assert "error" not in set(data["status"])  # every sample ran to the end and was scored despite the faults
    status = run_status(data)
    assert status["retries"].sum() >= 1 and status["error"].sum() == 0


def test_timeouts_are_retried_and_samples_that_keep_failing_are_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stalled requests time out and are retried; the memory samples always fail, error, and stay in the denominators."""
    from peerguard.run import run

    with serve(stall_first=1, always_fail="retrieve_memory") as (base_url, server):
        monkeypatch.setenv("FAKE_API_KEY", "test-key")
        monkeypatch.setenv("FAKE_BASE_URL", base_url)
        success, _, _ = run(
            ["openai-api/fake/model"],
            families=["misrep_finance"],
            factors={"instantiation": "file_only,memory"},
            log_dir=tmp_path,
            display="none",
            attempt_timeout=1,
            max_retries=2,
            retry_attempts=0,
            fail_on_error=False,
        )
    assert success  # errors were tolerated, not fatal
    data = load_logs([tmp_path])
    assert len(data) == 2
    memory = data[data["instantiation"] == "memory"].iloc[0]
    file_only = data[data["instantiation"] == "file_only"].iloc[0]
    assert memory["status"] == "error" and file_only["status"] != "error", file_only["error"]
    status = run_status(data).iloc[0]
    assert (status["scored"] + status["unscored"], status["error"]) == (1, 1)
    # file_only's first request stalled past the 1 s attempt timeout; it was sent again and the sample finished
    assert server.answered >= 3  # the stalled request, its retry, and the end_task turn
    assert memory["retries"] >= 1 and status["retries"] == memory["retries"] + file_only["retries"]
