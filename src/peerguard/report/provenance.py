"""The reproducibility footer: what produced the logs, read from the logs' headers."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from inspect_ai.log import EvalLog, read_eval_log

from peerguard.logstore import log_dir
from peerguard.run import run_commands

NOT_RECORDED = "not recorded (these logs were not written by peerguard run)"


def _listed(values: Iterable[object], missing: str = "not set") -> str:
    found = sorted({str(v) for v in values if v is not None})
    return ", ".join(found) if found else missing


def _revision(log: EvalLog) -> str | None:
    revision = log.eval.revision
    if revision is None:
        return None
    return f"{revision.type} {revision.commit}{' (uncommitted changes)' if revision.dirty else ''}"


def _graders(log: EvalLog) -> list[str]:
    """The judge: the `grader` role's model (one, or a list of them in newer Inspect)."""
    grader = (log.eval.model_roles or {}).get("grader")
    configs = grader if isinstance(grader, list) else [grader] if grader is not None else []
    return [config.model for config in configs]


def footer(data: pd.DataFrame) -> list[tuple[str, str]]:
    """(item, value) pairs: peerguard and Inspect versions, source revision, task versions, models,
    judge, epochs, seed, temperature, steps, and the command line where the logs hold it.

    Args:
        data: The tidy sample table (its `log` column names the logs to read).
    """
    logs = [read_eval_log(location, header_only=True) for location in sorted(set(data["log"].dropna()))]
    directories = sorted({str(log.location).rsplit("/", 1)[0] for log in logs})  # a path or a URL
    judges = [model for log in logs for model in _graders(log)]
    versions = data.dropna(subset=["task_version"]).groupby("task")["task_version"].unique()
    return [
        ("peerguard", _listed(log.eval.packages.get("peerguard") for log in logs)),
        ("Inspect", _listed(log.eval.packages.get("inspect_ai") for log in logs)),
        ("source revision", _listed((_revision(log) for log in logs), "not recorded")),
        ("task versions", ", ".join(f"{task} v{'/'.join(sorted(found))}" for task, found in versions.items())),
        ("models", _listed(data["model"])),
        ("judge model", _listed([*judges, *data.get("judged_by", pd.Series(dtype=object)).dropna()], "none")),
        ("epochs", _listed(log.eval.config.epochs for log in logs)),
        ("seed", _listed(log.plan.config.seed for log in logs)),
        ("temperature", _listed(log.plan.config.temperature for log in logs)),
        ("max steps", _listed(log.eval.task_args.get("max_steps") for log in logs)),
        ("logs", f"{len(logs)} files in {_listed(str(log.location).rsplit('/', 1)[0] for log in logs)}"),
        ("command line", _listed((c for d in directories for c in run_commands(log_dir(d))), NOT_RECORDED)),
    ]
