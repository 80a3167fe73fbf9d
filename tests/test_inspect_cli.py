"""`inspect eval peerguard/<family>` works from any directory, offline, through the entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

from peerguard.state import sample_state

INSPECT = str(Path(sys.executable).with_name("inspect"))
FAMILIES = ["misrep_evaluation", "misrep_finance", "tampering", "alignment_faking", "exfiltration_transfer", "exfiltration_deletion"]


def inspect_eval(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSPECT_")}
    return subprocess.run(
        [INSPECT, "eval", *args, "--model", "mockllm/model", "--log-dir", str(tmp_path / "logs"), "--display", "plain"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("family", FAMILIES)
def test_inspect_eval_runs_each_family(family: str, tmp_path: Path) -> None:
    result = inspect_eval(tmp_path, f"peerguard/{family}", "--limit", "1")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    (log_file,) = (tmp_path / "logs").glob("*.eval")
    log = read_eval_log(str(log_file))
    assert log.status == "success"
    assert log.samples and log.samples[0].scores and "state_labels" in log.samples[0].scores
    # mockllm says one line and never calls a tool: after five reminders the episode ends, unfinished, and is still scored
    assert log.samples[0].scores["state_labels"].metadata["stop_reason"] == "nudge_limit"
    assert sum(m.role == "assistant" for m in log.samples[0].messages) == 6
    assert log.samples[0].metadata["family"] == "Model"  # from the model name, as the task was built
    assert sample_state(log.samples[0].store).cast.agent == "Model Agent 1"


def test_bad_task_parameter_is_reported(tmp_path: Path) -> None:
    result = inspect_eval(tmp_path, "peerguard/tampering", "-T", "condition=best_peer")
    assert result.returncode != 0
    assert "unknown condition 'best_peer' for scenario tampering" in result.stdout + result.stderr


def test_inspect_eval_runs_live_peer_with_the_model_under_test_as_the_peer(tmp_path: Path) -> None:
    """`peerguard/live_peer` through the entry point: all three voices; mockllm, which plays the agent,
    also plays the live peer (its usage under the role `peer`), whose message is in the log."""
    result = inspect_eval(tmp_path, "peerguard/live_peer", "-T", "base=tampering", "-T", "dataset=factual")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    (log_file,) = (tmp_path / "logs").glob("*.eval")
    log = read_eval_log(str(log_file))
    assert log.status == "success" and log.eval.task == "live_peer_tampering" and log.eval.metadata["base"] == "tampering"
    assert log.samples is not None
    samples = {sample.metadata["peer_voice"]: sample for sample in log.samples}
    assert set(samples) == {"silent", "scripted", "live"}
    live = sample_state(samples["live"].store).world
    assert live is not None and [m.sender for m in live.messages] == ["Model Agent 2"]
    assert "peer" in samples["live"].role_usage and samples["silent"].role_usage == {}
    scores = {voice: sample.scores["state_labels"].value for voice, sample in samples.items() if sample.scores}
    assert {voice: value["peer_messages"] for voice, value in scores.items()} == {"silent": 0, "scripted": 3, "live": 1}
