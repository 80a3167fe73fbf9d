"""`peerguard report` at study scale: 223,000 samples over 8 models in real Inspect logs.

It writes the study as .eval logs through Inspect's own `write_eval_log`. Each family's sample of a
tiny mockllm run of its peerguard task is the template for every sample id of the family's paper
grid and every epoch: the factors in the metadata and in the store, the state scorer's dict of
labels with its metadata, its few model events; about 1 in 100 errored, 1 in 20 unscored, 1 in 50
with retried model requests. Each model and family has several logs (one per shard of the run).
The first model's logs are written sample by sample; the other models' are copies of them with
their own header (Inspect's header-only write). Then, each in a fresh process, it times
`peerguard report` with an empty cache (cold: every log is read) with its peak RSS (the report's
processes summed), adds one more log and times the rerun, in which the cache serves every log but
that one: the tidy table (`load_logs`, issue 14's rerun target) and the whole report.

    .venv/bin/python benchmarks/report_scale.py [--samples 223000] [--models 8] [--shards 4] [--small]
        [--families F ...] [--keep DIR]

`--small` is 600 samples over 2 models on two families, in seconds. `--keep DIR` writes the logs
to DIR and keeps them; a later run with the same sizes reuses them (writing the study's logs takes
about 4 minutes on 2 cores). Linux only (peak RSS from /proc).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from inspect_ai import eval
from inspect_ai.log import EvalError, EvalLog, EvalSample, read_eval_log, write_eval_log
from inspect_ai.model import ChatMessage, GenerateConfig, ModelOutput, ModelUsage, get_model
from inspect_ai.scorer import Score
from inspect_ai.tool import ToolChoice, ToolInfo
from inspect_ai.util import Store

from peerguard.run import suites
from peerguard.scenarios.factors import Factors
from peerguard.scoring.scorer import MODEL_RETRIES, SCORER
from peerguard.state import sample_state
from peerguard.tasks import FAMILY_TASKS

USAGE = ModelUsage(input_tokens=1000, output_tokens=50, total_tokens=1050)
STUDY = list(suites()["quick"].tasks)
"""The study's six families."""
SMALL = {"samples": 600, "models": 2, "shards": 2, "families": ["misrep_finance", "exfiltration_deletion"]}
"""`--small`: two families whose tasks build fastest (a task's first fingerprint renders its whole grid)."""
ERRORED, UNSCORED, RETRIED, MISALIGNED = 0.01, 0.05, 0.02, 0.2


def respond(input: list[ChatMessage], tools: list[ToolInfo], tool_choice: ToolChoice, config: GenerateConfig) -> ModelOutput:
    """The template agent: two of the family's reading tools, then end_task (three model events)."""
    turn = sum(message.role == "assistant" for message in input)
    reads = [tool.name for tool in tools if tool.name.startswith(("list_", "view_"))][:2]
    output = ModelOutput.for_tool_call("mockllm/model", reads[turn] if turn < len(reads) else "end_task", {})
    output.usage = USAGE
    return output


def templates(families: list[str], where: Path) -> dict[str, EvalLog]:
    """Each family's log of one sample, from a mockllm run of its quick task, as read back from disk."""
    quick = suites()["quick"].tasks
    logs = eval([FAMILY_TASKS[f](**quick[f]) for f in families], model=get_model("mockllm/model", custom_outputs=respond), log_dir=str(where), display="none")
    return {family: read_eval_log(log.location) for family, log in zip(families, logs)}


def grids(families: list[str]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Each family's paper grid: (sample id, metadata) of every sample its task holds."""
    paper = suites()["paper"].tasks
    return {f: [(str(s.id), dict(s.metadata or {})) for s in FAMILY_TASKS[f](**paper[f]).dataset] for f in families}


def synthetic(template: EvalSample, sample_id: str, epoch: int, metadata: dict[str, Any], model: str, rng: random.Random) -> EvalSample:
    """The template as another sample of its family: its id, epoch, factors and labels; maybe errored, unscored or retried."""
    store = Store(dict(template.store))
    sample_state(store).factors = Factors.from_metadata(metadata["factors"]).for_model(model)  # as the agent records them
    update: dict[str, Any] = {"id": sample_id, "epoch": epoch, "uuid": uuid.uuid4().hex, "metadata": metadata, "store": dict(store.items())}
    retries = rng.randint(1, 3) if rng.random() < RETRIED else 0
    if retries:
        first = next(i for i, event in enumerate(template.events) if event.event == "model")
        events = list(template.events)
        events[first] = events[first].model_copy(update={"retries": retries})
        update["events"] = events
    if rng.random() < ERRORED:
        update |= {"error": EvalError(message="RuntimeError: provider exploded", traceback="Traceback: provider exploded", traceback_ansi=""), "scores": None}
    else:
        labels = dict((template.scores or {})[SCORER].value)
        unscored = rng.random() < UNSCORED
        labels["misaligned"] = math.nan if unscored else int(rng.random() < MISALIGNED)
        reasons = {"misaligned": "no report found in the agent's files or final message"} if unscored else {}
        metadata = {"unscored": reasons, "stop_reason": "end_task", MODEL_RETRIES: retries}  # as the scorer records them
        update["scores"] = {SCORER: Score(value=labels, explanation="synthetic", metadata=metadata)}
    return template.model_copy(update=update)


def header(log: EvalLog, model: str, ids: list[str], epochs: int, created: datetime) -> EvalLog:
    """A log header for these samples on this model, with ids of its own."""
    spec = log.eval.model_copy(
        update={
            "model": model,
            "task_id": uuid.uuid4().hex[:22],
            "run_id": uuid.uuid4().hex[:22],
            "created": created.isoformat(),
            "dataset": log.eval.dataset.model_copy(update={"samples": len(ids), "sample_ids": ids}),
            "config": log.eval.config.model_copy(update={"epochs": epochs}),
        }
    )
    return log.model_copy(update={"eval": spec, "samples": None, "reductions": None})


def log_path(where: Path, log: EvalLog, created: datetime) -> Path:
    """Where Inspect would write the log: its time, task and task id."""
    return where / f"{created:%Y-%m-%dT%H-%M-%S}-00-00_{log.eval.task.replace('_', '-')}_{log.eval.task_id}.eval"


def copy_log(source: Path, where: Path, model: str, created: datetime) -> Path:
    """Another model's log of the same samples: the file copied, its header written anew (Inspect's header-only write)."""
    log = read_eval_log(str(source), header_only=True)
    copied = header(log, model, list(log.eval.dataset.sample_ids or []), log.eval.config.epochs or 1, created)
    target = log_path(where, copied, created)
    shutil.copyfile(source, target)
    write_eval_log(copied, str(target), header_only=True)
    return target


def write_study(where: Path, samples: int, models: list[str], shards: int, families: list[str]) -> list[Path]:
    """The study's logs in `where`; returns the first model's (the templates of the copies)."""
    rng = random.Random(14)
    seeds = templates(families, where / "seed")
    grid = grids(families)
    total_ids = sum(len(ids) for ids in grid.values())
    per_model = samples // len(models)
    epochs = max(1, round(per_model / total_ids))
    share = min(1.0, per_model / total_ids)  # a smaller study than one epoch of the grid: part of each family's ids
    created = datetime.now(UTC) - timedelta(days=1)
    first = []
    for family in families:
        seed = seeds[family]
        ids = grid[family][: max(shards, round(len(grid[family]) * share))]
        for shard in range(shards):
            chosen = ids[shard::shards]
            created += timedelta(seconds=1)
            log = header(seed, models[0], [i for i, _ in chosen], epochs, created)
            log.samples = [synthetic((seed.samples or [])[0], i, e, m, models[0], rng) for e in range(1, epochs + 1) for i, m in chosen]
            path = log_path(where, log, created)
            write_eval_log(log, str(path))
            first.append(path)
    for model in models[1:]:
        for path in first:
            created += timedelta(seconds=1)
            copy_log(path, where, model, created)
    shutil.rmtree(where / "seed")
    return first


MEASURED = """
import sys, time
import peerguard.report.load as load
from peerguard.cli import main

read = load.load_logs
table = 0.0


def timed_load(*args, **kwargs):
    global table
    start = time.perf_counter()
    try:
        return read(*args, **kwargs)
    finally:
        table += time.perf_counter() - start


load.load_logs = timed_load  # the report imports it when it runs
code = main(sys.argv[1:])
with open("/proc/self/status") as status:  # this process's own peak, not that of the one it was started from
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(table, peak * 1024, file=sys.stderr)
raise SystemExit(code)
"""
"""`peerguard ARGS` in this process, which then reports the seconds spent on the tidy table (`load_logs`)
and its peak RSS (Linux's VmHWM: ru_maxrss would count the memory of the process it was started
from, the benchmark's, which holds the study)."""


def tree_rss(root: int) -> int:
    """Bytes resident in a process and all its descendants now (Linux's /proc), 0 once it is gone."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    tree, grown = {root}, True
    while grown:
        found = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree, grown = tree | found, bool(found)
    total = 0
    for pid in tree:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
    return total


def timed(arguments: list[str], cache: Path) -> tuple[float, float, int]:
    """`peerguard ARGS` in a fresh process with this report cache: its wall seconds, the seconds of
    its tidy table, and the peak RSS in bytes of it and the processes it starts (their sum, sampled
    every 0.1 s; at least its own VmHWM)."""
    env = {**os.environ, "PEERGUARD_CACHE_DIR": str(cache)}
    with tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-c", MEASURED, *arguments], env=env, stdout=subprocess.DEVNULL, stderr=err, text=True)
        peak = 0
        while process.poll() is None:
            peak = max(peak, tree_rss(process.pid))
            time.sleep(0.1)
        wall = time.perf_counter() - start
        err.seek(0)
        printed = err.read()
    if process.returncode != 0:
        raise SystemExit(f"peerguard {' '.join(arguments)} failed ({process.returncode}):\n{printed[-3000:]}")
    table, own = printed.split()[-2:]
    return wall, float(table), max(peak, int(own))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=223_000)
    parser.add_argument("--models", type=int, default=8)
    parser.add_argument("--shards", type=int, default=4, help="logs per model and family")
    parser.add_argument("--families", nargs="+", default=STUDY, choices=STUDY)
    parser.add_argument("--small", action="store_true", help=f"{SMALL['samples']} samples, {SMALL['models']} models, {SMALL['shards']} shards, two families")
    parser.add_argument("--keep", type=Path, help="write the logs here and keep them (reused by a run of the same sizes)")
    args = parser.parse_args()
    if args.small:
        vars(args).update(SMALL)
    models = [f"mockllm/model-{i + 1}" for i in range(args.models)]
    work = Path(tempfile.mkdtemp(prefix="report-scale-"))
    logs = args.keep or work / "logs"
    sizes = {"samples": args.samples, "models": args.models, "shards": args.shards, "families": args.families}
    manifest = logs / "report_scale.json"
    start = time.perf_counter()
    if manifest.exists() and json.loads(manifest.read_text()) == sizes:
        first = sorted(p for p in logs.glob("*.eval") if read_eval_log(str(p), header_only=True).eval.model == models[0])
        wrote = "reused"
    else:
        shutil.rmtree(logs, ignore_errors=True)
        logs.mkdir(parents=True)
        first = write_study(logs, args.samples, models, args.shards, args.families)
        manifest.write_text(json.dumps(sizes))
        wrote = f"written in {time.perf_counter() - start:.0f} s"
    files = sorted(logs.glob("*.eval"))
    specs = [read_eval_log(str(p), header_only=True).eval for p in files]
    count = sum(len(spec.dataset.sample_ids or []) * (spec.config.epochs or 1) for spec in specs)
    size = sum(p.stat().st_size for p in files)
    print(f"{count:,} samples over {args.models} models and {len(args.families)} families: {len(files)} logs, {size / 1e9:.2f} GB ({wrote})")

    cache = work / "cache"
    report = ["report", str(logs), "--out", str(work / "report")]
    added = logs / "added"  # the new log goes here, and is removed at the end
    try:
        cold, _, rss = timed(report, cache)
        added.mkdir(exist_ok=True)
        copy_log(first[0], added, models[0], datetime.now(UTC))
        rerun, table, _ = timed(report, cache)
    finally:
        shutil.rmtree(added, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    print(f"report (cold)                          {cold:6.1f} s   (target < 60 s)")
    print(f"peak RSS (cold)                        {rss / 1e9:6.2f} GB  (target < 4 GB)")
    print(f"rerun after one new log: tidy table    {table:6.1f} s   (target < 5 s)")
    print(f"rerun after one new log: whole report  {rerun:6.1f} s   (no target: tables, figures, samples.csv and .parquet)")

if __name__ == "__main__":
    main()
