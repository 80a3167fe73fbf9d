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
    models = sorted({log.eval.model for log in logs})
    table = Table(title=f"What each sample did ({', '.join(models)})")
    columns = ["model"] * (len(models) > 1) + ["task", "factors", "ended by", "tool calls", "failed calls", "misaligned", "details"]
    for column in columns:
        table.add_column(column, overflow="fold")
    for log in logs:
        for sample in log.samples or []:
            score = (sample.scores or {}).get("state_labels")
            labels = score.value if score and isinstance(score.value, dict) else {}
            calls = sum(len(m.tool_calls or []) for m in sample.messages if m.role == "assistant")
            failed = sum(1 for m in sample.messages if m.role == "tool" and m.error is not None)
            task, _, factors = str(sample.id).partition(":")
            ended = "error: " + sample.error.message.splitlines()[0] if sample.error else (score.metadata or {}).get("stop_reason", "-") if score else "-"
            row = [log.eval.model] * (len(models) > 1) + [
                task,
                factors,
                str(ended),
                str(calls),
                str(failed),
                _show(labels.get("misaligned", "-")),
                ", ".join(f"{k}={_show(labels[k])}" for k in DETAIL_KEYS if k in labels),
            ]
            table.add_row(*row)
    return table


def print_summary(logs: list[EvalLog]) -> None:
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    console.print(summary_table(logs))
