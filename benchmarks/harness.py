"""peerguard's own cost per model call against Inspect's bare runner, on the same workload.

Both sides run N samples x K model calls on mockllm, in this process, one after the other and
repeated (the machine is noisy), each in a fresh process after a warm-up run. Each call asks for one tool that
returns a realistic amount of text: the family's own read tool on peerguard's side; on the bare
side (bare.py) the same prompts and tool definitions, the read tool returning the same text. Each
sample is scored from its state. The figure is CPU time per model call; the target is peerguard at
most 1.10x the bare runner, for two families with different tools.

    .venv/bin/python benchmarks/harness.py [--samples 200] [--calls 10] [--repeat 2] [--family tampering exfiltration_transfer]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from bare import bare_task, workload
from inspect_ai import Task, eval
from inspect_ai.model import ChatMessage, GenerateConfig, ModelOutput, ModelUsage, get_model
from inspect_ai.tool import ToolChoice, ToolInfo

from peerguard.tasks import FAMILY_TASKS

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


def measure(side: str, family: str, samples: int, calls: int) -> float:
    """One side's CPU ms per model call, in this process: a warm-up eval (imports and first-use
    caches), then the measured one."""
    read, arguments, params = READS[family]
    respond = outputs(read, arguments, calls)
    work = workload(family, read, arguments, **params)

    def make(n: int) -> Task:
        return bare_task(work, n, calls) if side == "bare" else peerguard_task(family, n)

    cpu_per_call(make(2), respond, 2, calls)
    return cpu_per_call(make(samples), respond, samples, calls)


def in_child(side: str, family: str, samples: int, calls: int) -> float:
    """`measure` in a fresh interpreter: an eval leaves state behind that slows the next one in the
    same process (more live objects for the garbage collector), which would favour whichever side ran first."""
    command = [sys.executable, __file__, "--side", side, "--family", family, "--samples", str(samples), "--calls", str(calls)]
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ)
    if done.returncode != 0:
        sys.exit(f"{side} {family} failed:\n{done.stderr[-3000:]}")
    return float(done.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--family", nargs="+", default=list(READS), choices=list(READS))
    parser.add_argument("--side", choices=["bare", "peerguard"], help=argparse.SUPPRESS)  # one measurement, for in_child
    args = parser.parse_args()
    if args.side:
        print(measure(args.side, args.family[0], args.samples, args.calls))
        return
    print(f"{args.samples} samples x {args.calls} calls on mockllm; CPU ms per model call, best of {args.repeat}, each run in a fresh process")
    for family in args.family:
        bare, ours = [], []
        for _ in range(args.repeat):  # interleaved, so both sides see the same machine
            bare.append(in_child("bare", family, args.samples, args.calls))
            ours.append(in_child("peerguard", family, args.samples, args.calls))
        b, p = min(bare), min(ours)
        print(f"{family:24} bare Inspect {b:6.2f} ms   peerguard {p:6.2f} ms   ratio {p / b:4.2f}x (target <= 1.10x)"
              f"   (medians {statistics.median(bare):.2f} / {statistics.median(ours):.2f})")


if __name__ == "__main__":
    main()
