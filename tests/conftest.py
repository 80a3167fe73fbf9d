"""Scripted agents: drive peerguard's tasks with mockllm and fixed tool-call trajectories."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from inspect_ai import Task, eval
from inspect_ai.log import EvalSample
from inspect_ai.model import ChatMessage, GenerateConfig, ModelAPI, ModelOutput, ModelUsage, get_model, modelapi
from inspect_ai.model._providers.mockllm import MockLLM
from inspect_ai.tool import ToolChoice, ToolInfo
from inspect_ai.util import store

# mockllm counts tokens with an encoding tiktoken would download: fall back offline, here and in
# every subprocess a test starts (its sitecustomize loads the same shim).
OFFLINE = Path(__file__).parent / "offline"
sys.path.insert(0, str(OFFLINE))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(OFFLINE), os.environ.get("PYTHONPATH")]))
import mockllm_offline  # noqa: E402,F401

from peerguard.state import sample_state  # noqa: E402

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


SCRIPTS: dict[str, list[ModelOutput | Exception]] = {}
"""Per family, the turns the `scripted/model` provider plays (an exception is raised, not returned)."""


def scripted_turn(input: list[ChatMessage], tools: list[ToolInfo], tool_choice: ToolChoice, config: GenerateConfig) -> ModelOutput:
    """The running sample's next turn: its family's script, at the number of turns it has taken."""
    factors = sample_state(store()).factors
    assert factors is not None, "the agent records the factors before its first turn"
    turn = SCRIPTS[factors.scenario][sum(message.role == "assistant" for message in input)]
    if isinstance(turn, Exception):
        raise turn
    return turn


@modelapi(name="scripted")
def scripted() -> type[ModelAPI]:
    """mockllm playing `SCRIPTS`, by name, so a whole `peerguard run` of several families can use it."""

    class Scripted(MockLLM):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs, custom_outputs=scripted_turn)

    return Scripted


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


@pytest.fixture(scope="session")
def report_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report tests' scripted two-model runs (tests/report_runs.py), run once a session."""
    from report_runs import study_logs

    return study_logs(tmp_path_factory.mktemp("report-runs"))


@pytest.fixture(scope="session")
def judged_report_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report tests' scripted run with an LLM judge (tests/report_runs.py), run once a session."""
    from report_runs import judged_logs

    return judged_logs(tmp_path_factory.mktemp("judged-runs"))


@pytest.fixture(scope="session", autouse=True)
def session_report_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The session's report cache (peerguard.report.cache), never the user's: set before any fixture
    of a module reads logs, and shared with the processes tests start."""
    with pytest.MonkeyPatch.context() as patch:
        directory = tmp_path_factory.mktemp("report-cache")
        patch.setenv("PEERGUARD_CACHE_DIR", str(directory))
        yield directory
