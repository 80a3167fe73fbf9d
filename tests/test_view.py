"""`peerguard view`: Inspect's log viewer served on loopback for a run's log directory."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import tool_call
from inspect_ai import eval
from inspect_ai.model import get_model

from peerguard.cli import main
from peerguard.tasks import misrep_finance


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_view_serves_the_runs_logs_on_loopback(log_dir: Path) -> None:
    (log,) = eval(misrep_finance(family="Gemini"), model=get_model("mockllm/model", custom_outputs=[tool_call("end_task")]), log_dir=str(log_dir), display="none")
    port = free_port()
    peerguard = str(Path(sys.executable).with_name("peerguard"))
    server = subprocess.Popen([peerguard, "view", str(log_dir), "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline, listing = time.time() + 90, None
        while time.time() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/logs", timeout=5) as response:
                    listing = json.loads(response.read())
                break
            except OSError:
                time.sleep(0.5)
        assert listing is not None, "inspect view never answered"
        assert any(Path(log.location).name in entry["name"] for entry in listing["files"])
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


@pytest.mark.parametrize("make", ["missing", "empty"])
def test_view_of_a_directory_without_logs_is_a_one_line_error(make: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "logs"
    if make == "empty":
        target.mkdir()
    assert main(["view", str(target)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(target) in err
