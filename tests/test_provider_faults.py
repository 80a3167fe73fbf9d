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
    assert set(data["status"]) == {"scored"}  # every sample ran to a score despite the faults
    status = run_status(data)
    assert status["retries"].sum() >= 1 and status["error"].sum() == 0
