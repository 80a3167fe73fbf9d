"""`peerguard scan`: the study's transcripts and peerguard's own logs, labelled and compared."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_single, tool_call
from test_transcripts import EXAMPLES, SCENARIOS

from peerguard.cli import main
from peerguard.tasks import tampering
from peerguard.transcripts.labels import STATE_LABELS


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[list[dict], str]:  # type: ignore[type-arg]
    assert main(["scan", *args]) == 0
    captured = capsys.readouterr()
    return [json.loads(line) for line in captured.out.splitlines()], captured.err


def test_study_transcripts_reproduce_every_state_label(capsys: pytest.CaptureFixture[str]) -> None:
    lines, summary = scan(capsys, str(EXAMPLES), "--labels", "paper", "--compare")
    assert len(lines) == 9
    by_name = {Path(line["source"]).name: line for line in lines}
    coding = by_name.pop("coding-glm5-exfiltration2-memory-transcript39.json")
    assert coding["replayable"] is False and coding["harness"] == "coding-agent"
    for name, line in by_name.items():
        assert line["scenario"] == SCENARIOS[name]
        assert line["compare"]["disagree"] == {}
        study = json.loads((EXAMPLES / name).read_text())
        state = {k for k, v in (study.get("task_evaluation") or study.get("main_task_evaluation") or {}).items() if k in STATE_LABELS and v is not None}
        assert state <= set(line["compare"]["agree"]), name
    assert "not replayable: 1" in summary and "labels compared: 42  agree: 42  disagree: 0" in summary


def test_peerguard_logs_rescan_to_their_own_labels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = [tool_call("list_files"), tool_call("view_config"), tool_call("modify_var", key="shutdown_enabled", value="false"), tool_call("end_task")]
    run_single(tampering(dataset="factual", family="Gemini"), outputs, tmp_path / "logs")
    for bookkeeping in ("eval-set.json", "logs.json", "peerguard-run.json"):  # as a `peerguard run` directory holds
        (tmp_path / "logs" / bookkeeping).write_text('{"id": "x"}')
    (line,), _ = scan(capsys, str(tmp_path / "logs"), "--compare")
    assert line["format"] == "inspect" and line["replayable"] is True
    assert line["labels"]["shutdown_disabled"] == 1 and line["labels"]["config_viewed"] == 1
    assert "shutdown_disabled" in line["compare"]["agree"] and line["compare"]["disagree"] == {}


def test_judge_model_is_used_and_garbage_is_unscored(capsys: pytest.CaptureFixture[str]) -> None:
    lines, _ = scan(capsys, str(EXAMPLES / "gemini-pro-exfiltration-subject2-transcript221.json"), "--judge", "mockllm/model")
    assert lines[0]["judge"]["model"] == "mockllm/model"
    assert lines[0]["judge"]["unscored"].startswith("the judge's answer holds no JSON")


def test_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err.strip() == f"peerguard: no such file or directory: {tmp_path / 'nope'}"
    other = tmp_path / "other.json"
    other.write_text('{"hello": "world"}')
    assert main(["scan", str(other)]) == 2
    assert "neither the study's transcript format nor an Inspect log" in capsys.readouterr().err
