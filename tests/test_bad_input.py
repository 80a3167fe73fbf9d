"""Bad input is one line that names the problem and the fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from peerguard import __version__
from peerguard.cli import main
from peerguard.run import RUN_MARKER


def error_of(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["run", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    return err


def test_unknown_task_parameter_through_inspect(tmp_path: Path) -> None:
    inspect = str(Path(sys.executable).with_name("inspect"))
    done = subprocess.run(
        [inspect, "eval", "peerguard/tampering", "-T", "colour=red", "--model", "mockllm/model", "--log-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert done.returncode != 0
    assert "unknown task parameter 'colour' for tampering; it takes condition, subject" in done.stdout + done.stderr


def test_unknown_provider(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    err = error_of(capsys, "--model", "nope/x", "--log-dir", str(tmp_path))
    assert err == "peerguard: model 'nope/x': Model API nope of model 'nope/x' not recognized."


def test_missing_api_key_names_the_variable(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in [v for v in os.environ if "OPENAI" in v or "AZURE" in v]:
        monkeypatch.delenv(variable)
    err = error_of(capsys, "--model", "openai/gpt-4o", "--log-dir", str(tmp_path))
    assert "OPENAI_API_KEY" in err and err.startswith("peerguard: model 'openai/gpt-4o':")
    assert not any(tmp_path.iterdir())  # nothing was started


def test_unwritable_log_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    err = error_of(capsys, "--model", "mockllm/model", "--log-dir", str(blocker / "logs"))
    assert err.startswith(f"peerguard: cannot write to log directory {blocker / 'logs'}:") and err.endswith("choose another --log-dir")


def test_log_directory_from_another_peerguard_version(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / RUN_MARKER).write_text(json.dumps({"peerguard": "0.0.1"}))
    err = error_of(capsys, "--model", "mockllm/model", "--log-dir", str(tmp_path))
    assert err == f"peerguard: log directory {tmp_path} was written by peerguard 0.0.1, this is {__version__}: resume it with that version or choose a new --log-dir"


def test_log_directory_with_foreign_logs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "other.eval").write_text("")
    err = error_of(capsys, "--model", "mockllm/model", "--log-dir", str(tmp_path))
    assert "holds logs not written by peerguard run" in err


def test_a_run_marks_its_log_directory_and_resumes_in_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    args = ["run", "--model", "mockllm/model", "--task", "misrep_finance", "--log-dir", str(tmp_path), "--display", "none"]
    assert main(args) == 0
    marker = json.loads((tmp_path / RUN_MARKER).read_text())
    assert marker["peerguard"] == __version__ and len(marker["commands"]) == 1
    logs = sorted(tmp_path.glob("*.eval"))
    assert main(args) == 0  # finished work is not redone
    assert sorted(tmp_path.glob("*.eval")) == logs
    assert len(json.loads((tmp_path / RUN_MARKER).read_text())["commands"]) == 2  # the resume is recorded too
