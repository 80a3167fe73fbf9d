"""peerguard's throughput against a real HTTP provider, against Inspect's bare runner on the same server.

The loopback server (loopback.py) answers each request after --delay seconds. Both sides run
--samples samples x --calls calls through Inspect's openai-api provider at --connections, each in
its own subprocess (wall time around it, CPU from getrusage of the children):
`peerguard run --task exfiltration_transfer --epochs S`, and `inspect eval-set` of the bare task
(bare.py: the same prompts and tool definitions, Inspect alone), after a dry run that leaves the
family's fingerprint on disk as any earlier run would have (peerguard.versions). The target is peerguard at
>= 0.90x the bare runner's requests per second. Then peerguard at each --sweep connection count,
and with --workers 2 against one process (target >= 1.6x on 2 cores). Workers are shards, and a
shard's unit is a sample with all its epochs, so the workers' comparison runs the family's study
grid (GRID, 73 samples) with as many epochs as make --samples, in one process and in two.

    .venv/bin/python benchmarks/concurrency.py [--samples 1000] [--calls 5] [--connections 100] [--sweep 10,50,100,200] [--delay 0.5]
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from bare import bare_task, workload
from inspect_ai import Task, task
from loopback import Server

from peerguard.tasks import FAMILY_TASKS
from peerguard.workers import cpu_count

FAMILY = "exfiltration_transfer"
READ, READ_ARGUMENTS = "list_server_files", {"ip": "10.0.12.45"}
MODEL = "openai-api/loopback/model"
BIN = Path(sys.executable).parent
GRID = {"condition": "all", "subject": "all", "instantiation": "all", "peer_identity": "all"}
"""The family's study grid, for the workers' comparison (task parameters; `peerguard run` spells them with dashes)."""


@task
def bare(samples: int, calls: int) -> Task:
    """The same work with Inspect alone (bare.py), for `inspect eval-set`."""
    return bare_task(workload(FAMILY, READ, READ_ARGUMENTS), samples, calls)


class Measure(NamedTuple):  # not a dataclass: `inspect eval-set` loads this file outside sys.modules
    """One subprocess's run against the server."""

    wall: float
    cpu: float
    """CPU seconds of the process and its children."""
    requests: int
    peak: int
    startup: float
    """Seconds from launch to the first request."""
    tail: float
    """Seconds from the last reply to the process's exit."""

    @property
    def throughput(self) -> float:
        return self.requests / self.wall

    def line(self, name: str) -> str:
        return (f"{name:14} wall {self.wall:7.2f} s   CPU {1000 * self.cpu / self.requests:6.2f} ms/request   "
                f"throughput {self.throughput:8.2f} requests/s   requests {self.requests}   peak in flight {self.peak}   "
                f"start-up {self.startup:.2f} s, after the last reply {self.tail:.2f} s")  # fmt: skip


def measure(server: Server, command: list[str], env: dict[str, str]) -> Measure:
    server.reset()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    end = time.monotonic()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return Measure(end - start, cpu, server.requests, server.peak, server.first - start, end - server.last)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--sweep", default="10,50,100,200", help="connection counts, comma-separated")
    parser.add_argument("--delay", type=float, default=0.5, help="seconds the server takes to answer")
    args = parser.parse_args()
    server = Server(args.delay, args.calls, {READ: READ_ARGUMENTS})
    # openai-api/<service>/... reads <SERVICE>_BASE_URL and <SERVICE>_API_KEY
    env = {**os.environ, "LOOPBACK_BASE_URL": server.start(), "LOOPBACK_API_KEY": "x"}
    print(f"{args.samples} samples x {args.calls} calls, the server answering after {1000 * args.delay:.0f} ms, "
          f"{args.connections} connections, openai-api at {env['LOOPBACK_BASE_URL']}; {cpu_count()} CPUs")  # fmt: skip

    def peerguard(connections: int, workers: int = 1, samples: list[str] | None = None) -> Measure:
        samples = samples or ["--epochs", str(args.samples)]
        with tempfile.TemporaryDirectory() as logs:
            return measure(server, [
                str(BIN / "peerguard"), "run", "--model", MODEL, "--task", FAMILY, *samples,
                "--max-steps", str(args.calls), "--max-connections", str(connections), *(["--workers", str(workers)] if workers > 1 else []),
                "--display", "none", "--log-dir", logs,
            ], env)  # fmt: skip

    # a first build of the family renders its whole grid for the fingerprint, kept on disk after (per
    # install): done before timing, as every run but a fresh install's first finds it done
    subprocess.run([str(BIN / "peerguard"), "run", "--model", MODEL, "--task", FAMILY, "--dry-run"], env=env, capture_output=True, check=True)
    with tempfile.TemporaryDirectory() as logs:
        base = measure(server, [
            str(BIN / "inspect"), "eval-set", f"{__file__}@bare", "-T", f"samples={args.samples}", "-T", f"calls={args.calls}",
            "--model", MODEL, "--max-connections", str(args.connections), "--display", "none", "--log-dir", logs,
        ], env)  # fmt: skip
    ours = peerguard(args.connections)
    print(base.line("bare Inspect"))
    print(ours.line("peerguard"))
    print(f"throughput ratio {ours.throughput / base.throughput:.2f}x (target >= 0.90x)")
    for connections in [int(c) for c in args.sweep.split(",")]:
        run = ours if connections == args.connections else peerguard(connections)  # the run above is this point
        print(f"sweep {connections:4} connections   throughput {run.throughput:8.2f} requests/s   "
              f"peak in flight {run.peak}   CPU {1000 * run.cpu / run.requests:6.2f} ms/request")  # fmt: skip
    if cpu_count() < 2:
        print(f"workers: skipped, this machine lets the process use {cpu_count()} CPU")
        return
    size = len(FAMILY_TASKS[FAMILY](**GRID).dataset)
    grid = [*(f"--{name.replace('_', '-')}={levels}" for name, levels in GRID.items()), "--epochs", str(math.ceil(args.samples / size))]
    one, two = peerguard(args.connections, samples=grid), peerguard(args.connections, workers=2, samples=grid)
    print(one.line("grid, 1 process"))
    print(two.line("grid, 2 workers"))
    print(f"workers 1 throughput {one.throughput:8.2f} requests/s   workers 2 throughput {two.throughput:8.2f} requests/s   "
          f"ratio {two.throughput / one.throughput:.2f}x (target >= 1.6x on 2 cores)")  # fmt: skip


if __name__ == "__main__":
    main()
