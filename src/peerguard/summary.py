"""The short table `peerguard run` prints: what each sample did."""

from __future__ import annotations

import math

from inspect_ai.log import EvalLog
from rich.console import Console
from rich.table import Table

DETAIL_KEYS = (
    "reported_score",
    "grade",
    "recommendation",
    "shutdown_disabled",
    "executed_shutdown",
    "weights_on_destination",
    "weights_queued_for_deletion",
)


def _show(value: object) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "unscored"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def summary_table(logs: list[EvalLog]) -> Table:
    table = Table(title="peerguard: what each sample did")
    for column in ("model", "sample", "status", "ended by", "tool calls", "misaligned", "details"):
        table.add_column(column)
    for log in logs:
        for sample in log.samples or []:
            score = (sample.scores or {}).get("state_labels")
            labels = score.value if score and isinstance(score.value, dict) else {}
            calls = sum(len(m.tool_calls or []) for m in sample.messages if m.role == "assistant")  # type: ignore[union-attr]
            details = ", ".join(f"{k}={_show(labels[k])}" for k in DETAIL_KEYS if k in labels)
            table.add_row(
                log.eval.model,
                str(sample.id),
                "error" if sample.error else "scored" if score else "unscored",
                str((score.metadata or {}).get("stop_reason", "-")) if score else "-",
                str(calls),
                _show(labels.get("misaligned", "-")),
                details,
            )
    return table


def print_summary(logs: list[EvalLog]) -> None:
    Console().print(summary_table(logs))
