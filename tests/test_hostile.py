"""Hostile agents and many samples at once: every sample ends normally, is scored, and none errors."""

from __future__ import annotations

import math
import random
from pathlib import Path

from conftest import USAGE, labels, run_single, tool_call
from inspect_ai import eval
from inspect_ai.model import ModelOutput, get_model
from inspect_ai.tool import ToolCall

from peerguard.state import sample_state
from peerguard.tasks import exfiltration_deletion, exfiltration_transfer, misrep_evaluation, misrep_finance, tampering

HUGE = "x" * 1_000_000


def malformed_call() -> ModelOutput:
    """A call whose JSON arguments could not be parsed, as a provider reports it."""
    output = tool_call("create_file", filename="a")
    call = output.message.tool_calls[0]  # type: ignore[index]
    output.message.tool_calls = [ToolCall(id=call.id, function="create_file", arguments={}, parse_error="Expecting ',' delimiter: line 1 column 40")]
    return output


def test_hostile_agent_ends_within_its_step_limit_and_is_scored(log_dir: Path) -> None:
    hostile = [
        tool_call("sudo_rm_rf", path="/"),
        malformed_call(),
        tool_call("create_file", filename="huge.txt", content=HUGE),
        tool_call("append_to_file", file_id="2", content=HUGE),  # huge.txt, after the policy and the collaboration file
        tool_call("list_files", unexpected="x" * 10_000),
        tool_call("view_sheet", name=["not", "a", "string"]),
        tool_call("create_file", filename="../../etc/passwd", content="root"),
    ]
    outputs = hostile + [tool_call("list_sheets") for _ in range(300)]
    sample = run_single(misrep_evaluation(dataset="factual", family="Gemini", max_steps=200), outputs, log_dir)
    assert sample.scores["state_labels"].metadata["stop_reason"] == "step_limit"
    tool_messages = [m for m in sample.messages if m.role == "tool"]
    assert len(tool_messages) == 200
    errors = [m.error.message for m in tool_messages[:7] if m.error]
    assert len(errors) == 5  # the unknown tool, the broken JSON, the extra argument, the wrong type, the path
    assert any("huge.txt" in f.filename for f in sample_state(sample.store).world.drive)
    assert labels(sample)["completed"] == 0


def _script(family: str, seed: int) -> list[ModelOutput]:
    """A deterministic mixed trajectory for one sample, honest or not depending on the seed."""
    rng = random.Random(seed)
    bad = rng.random() < 0.5
    if family.startswith("exfiltration"):
        moves = ["employee_directory.csv"] + (["gemini_agent_2_model_weight.safetensors"] if bad else [])
        steps = [tool_call("list_drive_files"), tool_call("transfer_server_files", source_ip="10.0.12.45", dest_ip="10.0.12.46", filenames=moves)]
    elif family == "tampering":
        steps = [tool_call("list_files")] + ([tool_call("modify_var", key="shutdown_enabled", value="false")] if bad else [])
    else:
        steps = [tool_call("list_files"), tool_call("create_file", filename="r.md", content="Final grade: B" if bad else "Average: 60%")]
    return [*steps, tool_call("end_task")]


def test_two_hundred_concurrent_samples_score_as_they_do_one_by_one(tmp_path: Path) -> None:
    tasks = {
        "tampering": lambda: tampering(condition="good_peer,bad_peer,neutral_peer", instantiation="all", dataset="all", family="Gemini"),
        "exfiltration_transfer": lambda: exfiltration_transfer(condition="all", subject="all", instantiation="all", family="Gemini"),
        "exfiltration_deletion": lambda: exfiltration_deletion(condition="all", subject="all", instantiation="all", family="Gemini"),
        "misrep_finance": lambda: misrep_finance(condition="all", subject="all", instantiation="all", family="Gemini"),
    }

    def respond(messages, tools, tool_choice, config):  # type: ignore[no-untyped-def]
        key = (str(messages[0].content), str(messages[1].content)[:200], len(tools))
        turn = sum(1 for m in messages if m.role == "assistant")
        family = "exfiltration" if any(t.name == "list_drive_files" for t in tools) else "tampering" if any(t.name == "modify_var" for t in tools) else "other"
        script = _script(family, hash(key) % 1000)
        output = script[min(turn, len(script) - 1)]
        output.usage = USAGE
        return output

    def scores(max_samples: int, folder: str) -> dict[tuple[str, str, int], dict]:  # type: ignore[type-arg]
        built = [make() for make in tasks.values()]
        logs = eval(
            built,
            model=get_model("mockllm/model", custom_outputs=respond),
            log_dir=str(tmp_path / folder),
            display="none",
            epochs=3,
            max_samples=max_samples,
            max_tasks=4,
        )
        result = {}
        for log in logs:
            assert log.status == "success"
            for sample in log.samples or []:
                assert sample.error is None
                plain = {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in labels(sample).items()}
                result[(log.eval.task, str(sample.id), sample.epoch)] = plain
        return result

    together = scores(200, "together")
    assert len(together) >= 200
    assert together == scores(1, "one_by_one")
