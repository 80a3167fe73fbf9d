"""`--workers W`: one run as W shard processes on this machine, because one Inspect process is
bound to one core. Worker I runs shard I/W into `<log dir>/worker-I-of-W/`, so a rerun of the same
command resumes every worker where it stopped, and the report reads them all as one run."""

from __future__ import annotations

import math
import multiprocessing
import os
import queue
from typing import Any

from peerguard.logstore import LogDir, join
from peerguard.shard import Shard


class WorkersError(ValueError):
    """A worker count this machine should not run; one line for the user."""


def cpu_count() -> int:
    """The CPUs this process may use (its affinity, not the machine's total)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def check_workers(workers: int, force: bool) -> None:
    """Between 1 and the CPU count; more only with --force (they would share cores and go no faster).

    Args:
        workers: The --workers value.
        force: Whether --force was given.
    """
    if workers < 1:
        raise WorkersError(f"--workers {workers}: it must be at least 1")
    if workers > cpu_count() and not force:
        raise WorkersError(f"--workers {workers} is more than this machine's {cpu_count()} CPUs; add --force to run them anyway")


def worker_dir(log_dir: LogDir, shard: Shard) -> LogDir:
    return join(log_dir, f"worker-{shard.index}-of-{shard.count}")


def share_options(options: dict[str, Any], workers: int) -> dict[str, Any]:
    """One worker's options: its share of the connection limit, so the run as a whole keeps to the
    --max-connections asked for, and no progress display unless one was chosen (W displays would
    draw over each other)."""
    shared = dict(options)
    if shared.get("max_connections"):
        shared["max_connections"] = math.ceil(shared["max_connections"] / workers)
    shared["display"] = shared.get("display") or "none"
    return shared


def _work(arguments: dict[str, Any], shard: Shard, log_dir: LogDir, results: Any) -> None:
    from peerguard.run import RunError, run  # the child imports peerguard itself (spawned, not forked)

    try:
        success, logs, _ = run(**arguments, shard=shard, log_dir=worker_dir(log_dir, shard))
    except RunError as error:
        results.put((shard.index, False, [], str(error)))
        return
    results.put((shard.index, success, [log.location for log in logs], None))


def run_workers(workers: int, arguments: dict[str, Any], log_dir: LogDir) -> tuple[bool, list[str], list[str]]:
    """Run `peerguard.run.run(**arguments)` as `workers` shard processes and wait for all of them.

    The options are shared out by `share_options`.

    Args:
        workers: How many processes.
        arguments: run()'s arguments, without shard and log_dir.
        log_dir: The run's log directory; each worker writes to its own directory inside it.

    Returns:
        Whether every worker succeeded, the locations of the logs they wrote, and a line for each
        worker that failed.
    """
    options = share_options(arguments, workers)
    # spawn, not fork: a fork would copy this process's Inspect and asyncio state into each worker
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    shards = [Shard(i, workers) for i in range(workers)]
    processes = [context.Process(target=_work, args=(options, shard, log_dir, results), name=f"peerguard-worker-{shard.index}") for shard in shards]
    for process in processes:
        process.start()
    reported: dict[int, tuple[bool, list[str], str | None]] = {}
    while len(reported) < workers:
        try:
            index, success, locations, problem = results.get(timeout=1.0)
        except queue.Empty:
            if all(process.exitcode is not None for process in processes):
                break  # the rest ended without a word (killed, or crashed)
            continue
        reported[index] = (success, locations, problem)
    for process in processes:
        process.join()
    problems = []
    for shard, process in zip(shards, processes):
        success, _, problem = reported.get(shard.index, (False, [], None))
        if problem or process.exitcode != 0:
            problems.append(f"worker {shard}: {problem or f'ended with exit code {process.exitcode}'}")
        elif not success:
            problems.append(f"worker {shard}: some tasks did not finish")
    locations = [location for index in sorted(reported) for location in reported[index][1]]
    return not problems, locations, problems
