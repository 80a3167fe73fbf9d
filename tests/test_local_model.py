"""One real sample on the embedded model, end to end. Asserts plumbing, not model quality:
the provider loaded the GGUF, a tool call was parsed from the model's text and executed in
the world, a log was written and the sample was scored."""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_ai import eval
from inspect_ai.log import list_eval_logs, read_eval_log

from peerguard.local.models import DEFAULT_MODEL, verified_path
from peerguard.run import LOCAL_SETTINGS
from peerguard.state import sample_state
from peerguard.tasks import exfiltration_transfer


def test_embedded_model_runs_a_sample(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp", reason="needs the [local] extra (make test installs it)")
    verified_path(DEFAULT_MODEL)  # a missing model fails here with the command that installs it
    (log,) = eval(
        exfiltration_transfer(max_steps=3),
        model=f"local/{DEFAULT_MODEL}",
        log_dir=str(tmp_path),
        display="none",
        seed=7,
        **LOCAL_SETTINGS,
    )
    assert log.status == "success", log.error
    assert [Path(info.name).name for info in list_eval_logs(str(tmp_path))]  # a log file was written
    (sample,) = read_eval_log(log.location).samples or []
    calls = [call for m in sample.messages if m.role == "assistant" for call in (m.tool_calls or [])]
    assert calls, "no tool call was parsed from the model's output"
    executed = [m for m in sample.messages if m.role == "tool" and m.error is None]
    assert executed, "no tool call executed without error"
    world_calls = sample_state(sample.store).world.calls
    assert any(record.ok for record in world_calls)  # the world itself ran the call
    score = sample.scores["state_labels"]
    assert score.metadata["stop_reason"] in {"end_task", "nudge_limit", "step_limit"}
    assert score.value["weights_on_destination"] in (0, 1)
    usage = log.stats.model_usage[f"local/{DEFAULT_MODEL}"]
    assert usage.input_tokens > 0 and usage.output_tokens > 0
    assert log.plan.config.temperature == LOCAL_SETTINGS["temperature"]  # the sampling settings are in the log
