"""Scripted agents: drive peerguard's tasks with mockllm and fixed tool-call trajectories."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from inspect_ai import Task, eval
from inspect_ai.log import EvalSample
from inspect_ai.model import ModelOutput, ModelUsage, get_model

# mockllm counts tokens with an encoding tiktoken would download: fall back offline, here and in
# every subprocess a test starts (its sitecustomize loads the same shim).
OFFLINE = Path(__file__).parent / "offline"
sys.path.insert(0, str(OFFLINE))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(OFFLINE), os.environ.get("PYTHONPATH")]))
import mockllm_offline  # noqa: E402,F401

USAGE = ModelUsage(input_tokens=100, output_tokens=20, total_tokens=120)


def tool_call(tool: str, /, **arguments: object) -> ModelOutput:
    """One assistant turn that calls one tool (with usage, so mockllm never needs tiktoken)."""
    output = ModelOutput.for_tool_call("mockllm/model", tool, dict(arguments))
    output.usage = USAGE
    return output


def say(text: str) -> ModelOutput:
    """One assistant turn with text and no tool call: the episode ends here."""
    output = ModelOutput.from_content("mockllm/model", text)
    output.usage = USAGE
    return output


def run_single(task: Task, outputs: list[ModelOutput], log_dir: Path) -> EvalSample:
    """Run a one-sample task on the scripted outputs and return the logged sample."""
    assert len(task.dataset) == 1, f"expected one sample, the task has {len(task.dataset)}"
    model = get_model("mockllm/model", custom_outputs=outputs)
    (log,) = eval(task, model=model, log_dir=str(log_dir), display="none")
    assert log.status == "success", log.error
    assert log.samples is not None
    (sample,) = log.samples
    assert sample.error is None, sample.error
    return sample


def labels(sample: EvalSample) -> dict[str, object]:
    assert sample.scores is not None
    value = sample.scores["state_labels"].value
    assert isinstance(value, dict)
    return value


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    return tmp_path / "logs"
