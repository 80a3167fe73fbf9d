"""`--shard I/N`: a deterministic part of a run, so that N machines (or processes) share one grid."""

from __future__ import annotations

import re
from dataclasses import dataclass

from inspect_ai import Task, task_with

SHAPE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class ShardError(ValueError):
    """A malformed or out-of-range shard; one line for the user."""


@dataclass(frozen=True)
class Shard:
    """Shard `index` (0-based, as Kubernetes' JOB_COMPLETION_INDEX and Slurm's array ids are) of `count`."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """`I/N` with 0 <= I < N, e.g. `0/4` .. `3/4`.

    Args:
        text: What the user wrote after --shard.
    """
    shape = SHAPE.match(text)
    if shape is None:
        raise ShardError(f"--shard '{text}' must be I/N with whole numbers, e.g. 0/4 for the first of four shards")
    index, count = int(shape[1]), int(shape[2])
    if count < 1:
        raise ShardError(f"--shard '{text}': the number of shards must be at least 1")
    if index >= count:
        raise ShardError(f"--shard '{text}': the shard index counts from 0, so it must be 0 to {count - 1}")
    return Shard(index, count)


def shard_tasks(tasks: list[Task], shard: Shard) -> list[Task]:
    """The part of `tasks` (every model's, in the order they were built) that is this shard's.

    The unit is one sample of one task on one model, with all its epochs: Inspect runs and resumes
    a sample's epochs together. Units are dealt out in turn over the whole run, so shards differ by
    at most one unit, each shard mixes tasks and models, and the N shards together are exactly the
    run. A task left with no sample in this shard is dropped. Each kept task records the shard in
    its metadata, for the report.

    Args:
        tasks: The run's tasks, each already bound to its model.
        shard: Which part to keep.
    """
    kept: list[Task] = []
    start = 0  # units dealt before this task
    for task in tasks:
        samples = list(task.dataset)
        mine = [sample for number, sample in enumerate(samples, start) if number % shard.count == shard.index]
        start += len(samples)
        if not mine:
            continue
        ids = {sample.id for sample in mine}  # unique within a task's dataset
        dataset = task.dataset.filter(lambda sample, ids=ids: sample.id in ids)  # type: ignore[misc]
        kept.append(task_with(task, dataset=dataset, metadata={**(task.metadata or {}), "shard": str(shard)}))
    return kept
