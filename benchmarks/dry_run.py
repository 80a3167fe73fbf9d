"""How close `peerguard run --dry-run` comes to what a run used, against the loopback server.

The loopback server (loopback.py) answers at once, calling a read tool until the conversation's
--calls-th call and then `end_task`. `peerguard run` drives --families x --epochs through it with
--max-steps equal to --calls, and the dry run of the same command estimates the calls and tokens.
The logs give what the run used (model calls, input and output tokens), and the figures the
estimate is built from, measured: the first call's prompt, how much the prompt grows a turn, and
the output a call. The target: calls and tokens within 25% of the run's.

    .venv/bin/python benchmarks/dry_run.py [--families tampering exfiltration_transfer misrep_evaluation] [--epochs 3] [--calls 10]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from datetime import date
from importlib import resources
from pathlib import Path

import yaml
from inspect_ai.log import list_eval_logs, read_eval_log
from loopback import Server

from peerguard.run import TURNS, TYPICAL_TURNS, turn_figures

MODEL = "openai-api/loopback/model"
READS = {"list_server_files": {"ip": "10.0.12.45"}, "list_files": {}, "list_drive_files": {}}
"""Listing tools, by preference, and their arguments: every family offers one."""


def used(logs: str) -> dict[str, dict[str, list[float]]]:
    """Per task: calls, input and output tokens of each sample, and its prompts' first size and growth a turn."""
    tasks: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for info in list_eval_logs(logs):
        log = read_eval_log(info.name)
        for sample in log.samples or []:
            prompts = [e.output.usage.input_tokens for e in sample.events if e.event == "model" and e.output.usage]
            outputs = [e.output.usage.output_tokens for e in sample.events if e.event == "model" and e.output.usage]
            figures = tasks[log.eval.task.split("/")[-1]]
            figures["calls"].append(len(prompts))
            figures["input"].append(sum(prompts))
            figures["output"].append(sum(outputs))
            figures["first"].append(prompts[0])
            figures["output a call"] += outputs
            if len(prompts) > 1:
                figures["growth"].append((prompts[-1] - prompts[0]) / (len(prompts) - 1))
    return tasks


def within(estimated: float, actual: float) -> str:
    ratio = estimated / actual if actual else float("inf")
    return f"{estimated:>12,.0f} estimated {actual:>12,.0f} used  {ratio:5.2f}x ({'within' if abs(ratio - 1) <= 0.25 else 'outside'} 25%)"


def dry_run(command: list[str], env: dict[str, str]) -> dict[str, tuple[int, int, int]]:
    """Per task: the dry run's typical calls, input and output tokens, as it prints them."""
    done = subprocess.run([*command, "--dry-run"], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"the dry run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    rows = re.findall(r"^(\w+) +[\d,]+ +[\d,]+ +[\d,]+ +([\d,]+) +([\d,]+) +([\d,]+)$", done.stdout, re.MULTILINE)
    return {task: (int(calls.replace(",", "")), int(i.replace(",", "")), int(o.replace(",", ""))) for task, calls, i, o in rows if task != "total"}


def write(measured: dict[str, dict[str, list[float]]]) -> Path:
    """Record each measured family's growth a turn and output a call, and their mean as the default."""
    families = {task: {"prompt_growth": round(statistics.mean(f["growth"])), "output": round(statistics.mean(f["output a call"]))} for task, f in sorted(measured.items())}
    table = {
        "measured": date.today().isoformat(),
        "default": {key: round(statistics.mean(f[key] for f in families.values())) for key in ("prompt_growth", "output")},
        "families": families,
    }
    path = Path(str(resources.files("peerguard").joinpath(TURNS)))
    header = "".join(line + "\n" for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#"))
    path.write_text(header + yaml.safe_dump(table, sort_keys=False), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="+", default=["tampering", "exfiltration_transfer", "misrep_evaluation"])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--calls", type=int, default=TYPICAL_TURNS)
    parser.add_argument("--write", action="store_true", help=f"record the measured per-turn figures in src/peerguard/{TURNS}")
    args = parser.parse_args()
    server = Server(0.0, args.calls, READS)
    env = {**os.environ, "LOOPBACK_BASE_URL": server.start(), "LOOPBACK_API_KEY": "x"}
    tasks = ",".join(args.families)
    command = [str(Path(sys.executable).parent / "peerguard"), "run", "--model", MODEL, "--task", tasks, "--epochs", str(args.epochs), "--max-steps", str(args.calls)]
    guesses = dry_run(command, env)
    with tempfile.TemporaryDirectory() as logs:
        done = subprocess.run([*command, "--display", "none", "--log-dir", logs], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"the run failed ({done.returncode}):\n{done.stderr[-3000:]}")
        measured = used(logs)
    print(f"{tasks} x {args.epochs} epochs, {args.calls} calls a sample, on the loopback server ({server.requests} requests)")
    for task, figures in sorted(measured.items()):
        calls, input_tokens, output_tokens = guesses[task]
        growth, output = turn_figures(task)
        print(f"{task}: {len(figures['calls'])} samples")
        print(f"  calls         {within(calls, sum(figures['calls']))}")
        print(f"  input tokens  {within(input_tokens, sum(figures['input']))}")
        print(f"  output tokens {within(output_tokens, sum(figures['output']))}")
        print(f"  total tokens  {within(input_tokens + output_tokens, sum(figures['input']) + sum(figures['output']))}")
        print(f"  measured: first prompt {statistics.mean(figures['first']):,.0f} tokens, growth {statistics.mean(figures['growth']):,.0f} tokens a turn "
              f"(the estimate's {growth}), output {statistics.mean(figures['output a call']):,.0f} tokens a call (the estimate's {output})")  # fmt: skip
    if args.write:
        print(f"recorded {write(measured)}: rerun without --write to check the estimate")


if __name__ == "__main__":
    main()
