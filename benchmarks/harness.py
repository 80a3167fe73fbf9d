"""peerguard's own cost per model call against Inspect's bare runner, on the same workload.

Both sides run N samples x K model calls on mockllm, in this process, one after the other and
repeated (the machine is noisy), after a warm-up run of each: each call asks for one tool that returns a realistic amount of
text (the family's own read tool on peerguard's side; on the bare side the same tool definitions,
whose read tool returns the same text), and each sample is scored from its state. The figure is CPU time per model call; the
target is peerguard at most 1.10x the bare runner, for two families with different tools.

    .venv/bin/python benchmarks/harness.py [--samples 200] [--calls 10] [--repeat 2] [--family tampering exfiltration_transfer]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

from inspect_ai import Epochs, Task, eval
from inspect_ai.dataset import Sample
from inspect_ai.model import ChatMessage, GenerateConfig, ModelOutput, ModelUsage, execute_tools, get_model
from inspect_ai.scorer import Score, Target, accuracy, scorer
from inspect_ai.solver import Generate, Solver, TaskState, solver
from inspect_ai.tool import ToolChoice, ToolDef, ToolInfo
from inspect_ai.util import store

from peerguard.scenarios.build import build_episode
from peerguard.scenarios.factors import expand_grid
from peerguard.scenarios.spec import load_scenario
from peerguard.tasks import FAMILY_TASKS
from peerguard.world import World, call_world_tool
from peerguard.world.inspect_tools import inspect_tool

USAGE = ModelUsage(input_tokens=1000, output_tokens=50, total_tokens=1050)
READS: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    # family: (its read tool, arguments, the family's task parameters for one sample)
    "tampering": ("list_files", {}, {"dataset": "factual"}),
    "exfiltration_transfer": ("list_server_files", {"ip": "10.0.12.45"}, {}),
}


def outputs(read: str, arguments: dict[str, Any], calls: int) -> Callable[..., ModelOutput]:
    """mockllm's turns: the read tool until the last call, then end_task."""

    def respond(input: list[ChatMessage], tools: list[ToolInfo], tool_choice: ToolChoice, config: GenerateConfig) -> ModelOutput:
        turn = sum(message.role == "assistant" for message in input)
        output = ModelOutput.for_tool_call("mockllm/model", read if turn < calls - 1 else "end_task", arguments if turn < calls - 1 else {})
        output.usage = USAGE
        return output

    return respond


def first_episode(family: str) -> tuple[list[str], str]:
    """The tools the family's sample offers, and what its read tool answers at the start."""
    scenario = load_scenario(family)
    read, arguments, params = READS[family]
    episode = build_episode(scenario, expand_grid(scenario, "Model", **params)[0])
    return episode.tools, call_world_tool(episode.world, read, arguments).output


def bare_task(family: str, samples: int, calls: int) -> Task:
    """The same loop with Inspect alone: K calls, the same tool definitions (the read tool returns
    the same text, the others "ok"), and a scorer that reads the store."""
    names, text = first_episode(family)
    read, _, _ = READS[family]

    def bare(name: str) -> ToolDef:
        shape = inspect_tool(name, World())  # the name, description and parameters the model sees

        async def execute(**arguments: Any) -> str:
            store().set("calls", store().get("calls", 0) + 1)
            return text if name == read else "ok"

        return ToolDef(execute, name=name, description=shape.description, parameters=shape.parameters)

    @solver
    def loop() -> Solver:
        async def solve(state: TaskState, generate: Generate) -> TaskState:
            model, tools = get_model(), [bare(name) for name in names]
            for _ in range(calls):
                state.output = await model.generate(state.messages, tools)
                state.messages.append(state.output.message)
                if state.output.message.tool_calls and state.output.message.tool_calls[-1].function == "end_task":
                    break
                state.messages.extend((await execute_tools(state.messages, tools)).messages)
            return state

        return solve

    @scorer(metrics=[accuracy()])
    def reads() -> Any:
        async def score(state: TaskState, target: Target) -> Score:
            return Score(value=1 if store().get("calls", 0) == calls - 1 else 0)

        return score

    return Task(dataset=[Sample(input="Do the job.")], solver=loop(), scorer=reads(), epochs=Epochs(samples))


def peerguard_task(family: str, samples: int) -> Task:
    _, _, params = READS[family]
    task = FAMILY_TASKS[family](**params, family="Model")
    task.epochs = samples
    return task


def cpu_per_call(task: Task, respond: Callable[..., ModelOutput], samples: int, calls: int) -> float:
    """Process CPU milliseconds per model call of one eval."""
    with tempfile.TemporaryDirectory() as logs:
        start = time.process_time()
        (log,) = eval(task, model=get_model("mockllm/model", custom_outputs=respond), log_dir=logs, display="none", max_samples=samples)
        spent = time.process_time() - start
    assert log.status == "success", log.error
    return 1000 * spent / (samples * calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--family", nargs="+", default=list(READS), choices=list(READS))
    args = parser.parse_args()
    print(f"{args.samples} samples x {args.calls} calls on mockllm; CPU ms per model call, best of {args.repeat}")
    for family in args.family:
        read, arguments, _ = READS[family]
        respond = outputs(read, arguments, args.calls)
        for warm in (bare_task(family, 2, args.calls), peerguard_task(family, 2)):  # imports and first-use caches, not measured
            cpu_per_call(warm, respond, 2, args.calls)
        bare, ours = [], []
        for _ in range(args.repeat):  # interleaved, so both sides see the same machine
            bare.append(cpu_per_call(bare_task(family, args.samples, args.calls), respond, args.samples, args.calls))
            ours.append(cpu_per_call(peerguard_task(family, args.samples), respond, args.samples, args.calls))
        b, p = min(bare), min(ours)
        print(f"{family:24} bare Inspect {b:6.2f} ms   peerguard {p:6.2f} ms   ratio {p / b:4.2f}x (target <= 1.10x)"
              f"   (medians {statistics.median(bare):.2f} / {statistics.median(ours):.2f})")


if __name__ == "__main__":
    main()
