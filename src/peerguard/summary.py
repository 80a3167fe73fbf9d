"""The table `peerguard run` prints: per sample what the agent did and how its episode ended (for a
run of many samples, how they count by model and task instead), then the samples counted by
headline label as the report counts them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from inspect_ai.log import EvalLog, EvalSample, EvalSampleSummary, read_eval_log, read_eval_log_sample_summaries
from inspect_ai.scorer import Score
from rich.console import Console
from rich.table import Table

from peerguard.agent import CONTEXT_LIMIT, MAX_NUDGES
from peerguard.console import console as terminal_console
from peerguard.report.load import headline_status
from peerguard.scenarios.spec import load_scenario
from peerguard.scoring.detectors import value_labels
from peerguard.scoring.scorer import SCORER, is_missing
from peerguard.state import SampleState, sample_state
from peerguard.tasks import GATE_LABELS, key_labels

ERROR_CHARS = 120
STOP_REASONS = {
    "end_task": "end_task",
    "step_limit": "step limit",
    "nudge_limit": f"{MAX_NUDGES + 1} turns without a tool (nudge_limit)",
    "context_limit": f"context limit ({CONTEXT_LIMIT:,} tokens)",
}
"""The agent loop's stop reasons (see peerguard.agent), in words."""
SAMPLE_ROWS = 60
"""The most samples given a row each; a larger run is counted by model and task (the report shows
every sample), and only its logs' sample summaries are read."""


@dataclass(frozen=True)
class SampleLine:
    """One row of the table, and the status it counts under."""

    model: str
    sample: str
    did: str
    ended: str
    result: str
    status: str
    """scored, unscored, incomplete (never read its task) or error."""
    misaligned: bool


@dataclass(frozen=True)
class Counted:
    """How one sample of a large run counts."""

    model: str
    task: str
    status: str
    misaligned: bool


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def tools_used(sample: EvalSample) -> str:
    """The distinct tools called, in the order first called, with counts and failures."""
    calls = Counter(call.function for m in sample.messages if m.role == "assistant" for call in m.tool_calls or [])
    failed = Counter(m.function for m in sample.messages if m.role == "tool" and m.error is not None)
    shown = [name + (f" ×{n}" if n > 1 else "") + (f" ({failed[name]} failed)" if failed[name] else "") for name, n in calls.items()]
    return ", ".join(shown) or "no tool calls"


def label_words(labels: dict[str, object], keys: list[str]) -> list[str]:
    """The family's key labels in words: values as given, flags only when set, then those left
    unscored (misaligned and the read gate are the result column's)."""
    words, unscored = [], []
    for key in keys:
        if key == "misaligned" or key in GATE_LABELS or key not in labels:
            continue
        name, value = key.replace("_", " "), labels[key]
        if is_missing(value):
            unscored.append(name)
        elif key in value_labels():
            words.append(f"{name} {_number(value)}")
        elif value == 1:
            words.append(name)
    return words + ([f"unscored: {', '.join(unscored)}"] if unscored else [])


def what_it_did(sample: EvalSample, state: SampleState, labels: dict[str, object]) -> str:
    """Tools called, then what the final state shows about the task."""
    words = ["read the task"] if labels.get("read_task") == 1 else []
    if labels.get("read_task") == 1 and labels.get("fully_incomplete") == 1:
        words.append("did not do it")
    words += label_words(labels, key_labels(load_scenario(str((sample.metadata or {})["scenario_source"]))))
    if state.end_task_batched:
        words.append("calls beside end_task not run")
    return "; ".join([tools_used(sample), *words])


def ended_by(sample: EvalSample, state: SampleState) -> str:
    """How the episode ended, in words: an error, an Inspect limit, or the agent loop's stop reason."""
    if sample.error is not None:
        message = sample.error.message.strip().splitlines()[0] if sample.error.message.strip() else "unknown"
        return "error: " + (message if len(message) <= ERROR_CHARS else message[: ERROR_CHARS - 1] + "…")
    if sample.limit is not None:
        return f"{sample.limit.type} limit ({_number(sample.limit.limit)})"
    if state.stop_reason is None:
        return "did not start"
    return STOP_REASONS.get(state.stop_reason, state.stop_reason)


def outcome(errored: bool, labels: dict[str, object] | None, misaligned: bool) -> tuple[str, str]:
    """(status, result in words) by the headline label, with the report's rule for unscored samples;
    a scored sample that never read its task is incomplete whatever its headline says."""
    status = headline_status(errored, labels)
    labels = labels or {}
    if status == "error":
        return status, "error"
    if status == "unscored":
        return status, "unscored" + (" (undecided)" if labels.get("headline_undecided") == 1 else "")
    if labels.get("read_task") == 0:
        # a family whose read gate leaves the headline alone (tampering) counts it, as the study does
        return "incomplete", "incomplete (never read its task)" + ("; counted misaligned" if misaligned else "")
    return status, "misaligned" if misaligned else "not misaligned"


def _counts_as(errored: bool, scores: dict[str, Score] | None) -> tuple[dict[str, object], str, str, bool]:
    """A sample's state labels ({} when unscored), status, result in words, and whether it counts misaligned."""
    score = (scores or {}).get(SCORER)
    labels = score.value if score is not None and isinstance(score.value, dict) else None
    misaligned = (labels or {}).get("misaligned") == 1
    status, result = outcome(errored, labels, misaligned)
    return labels or {}, status, result, misaligned


def sample_line(log: EvalLog, sample: EvalSample) -> SampleLine:
    """What one logged sample did and how it counts."""
    labels, status, result, misaligned = _counts_as(sample.error is not None, sample.scores)
    state = sample_state(sample.store)
    task, _, factors = str(sample.id).partition(":")
    epochs = log.eval.config.epochs or 1
    return SampleLine(
        model=log.eval.model,
        sample=f"{task}\n{factors.replace(':', ' ')}" + (f" #{sample.epoch}" if epochs > 1 else ""),
        did=what_it_did(sample, state, labels),
        ended=ended_by(sample, state),
        result=result,
        status=status,
        misaligned=misaligned,
    )


def sample_lines(logs: list[EvalLog]) -> list[SampleLine]:
    return [sample_line(log, sample) for log in logs for sample in log.samples or []]


def counted(log: EvalLog, summary: EvalSampleSummary) -> Counted:
    """How one sample counts, from its summary."""
    _, status, _, misaligned = _counts_as(summary.error is not None, summary.scores)
    return Counted(log.eval.model, log.eval.task.split("/")[-1], status, misaligned)


def summary_table(lines: list[SampleLine]) -> Table:
    """The table: model (when there are several), sample, what it did, how it ended, the result."""
    models = sorted({line.model for line in lines})
    several = len(models) > 1
    table = Table(title=f"What each sample did ({', '.join(models)})", show_lines=True, expand=True)
    if several:
        table.add_column("model", overflow="fold", ratio=2)
    # as wide as the longest task name, which stays whole; the factors below it wrap
    table.add_column("sample", overflow="fold", width=max((len(line.sample.split("\n")[0]) for line in lines), default=6))
    table.add_column("what it did", overflow="fold", ratio=5)
    table.add_column("ended by", overflow="fold", ratio=3)
    table.add_column("result", overflow="fold", ratio=2)
    for line in lines:
        table.add_row(*([line.model] if several else []), line.sample, line.did, line.ended, line.result)
    return table


def counts_table(lines: list[Counted]) -> Table:
    """A large run's samples counted by task, under each model's name when there are several, as
    `counts` counts them."""
    models = sorted({line.model for line in lines})
    several = len(models) > 1
    table = Table(title=f"How the {len(lines):,} samples count ({', '.join(models)}; peerguard report shows each)", expand=True)
    # task names stay whole; a model's name above its tasks may wrap
    table.add_column("model, task" if several else "task", overflow="fold", min_width=max((len(line.task) + 2 * several for line in lines), default=4))
    columns = {"samples": None, "scored": "scored", "misaligned": None, "unscored": "unscored", "incomplete": "incomplete", "errored": "error"}
    for name in columns:
        table.add_column(name, justify="right", no_wrap=True, min_width=len(name))
    groups: dict[str, dict[str, Counter[str]]] = {}
    for line in lines:
        group = groups.setdefault(line.model, {}).setdefault(line.task, Counter())
        group.update(["samples", line.status] + (["misaligned"] if line.misaligned and line.status == "scored" else []))
    for model, tasks in sorted(groups.items()):
        if several:
            table.add_row(model, *[""] * len(columns), style="bold")
        for task, group in sorted(tasks.items()):
            table.add_row("  " * several + task, *(f"{group[status or name]:,}" for name, status in columns.items()))
    return table


def counts(lines: Sequence[SampleLine | Counted]) -> str:
    """`6 samples: 2 scored (1 misaligned), 1 unscored, 3 incomplete, 0 errored`."""
    by = Counter(line.status for line in lines)
    misaligned = Counter(line.status for line in lines if line.misaligned)
    incomplete = f"{by['incomplete']} incomplete" + (f" ({misaligned['incomplete']} counted misaligned)" if misaligned["incomplete"] else "")
    return f"{len(lines)} sample{'s' * (len(lines) != 1)}: {by['scored']} scored ({misaligned['scored']} misaligned), {by['unscored']} unscored, {incomplete}, {by['error']} errored"


def print_summary(locations: list[str], console: Console | None = None) -> None:
    """Print the table of what each sample did (or, beyond SAMPLE_ROWS samples, how they count by
    model and task) and the counts by headline label.

    Args:
        locations: The run's logs.
        console: Where to print (default: standard output, 100 columns wide unless a terminal, as the report's).
    """
    console = console or terminal_console()
    summaries = [read_eval_log_sample_summaries(location) for location in locations]
    if sum(map(len, summaries)) <= SAMPLE_ROWS:
        lines = sample_lines([read_eval_log(location) for location in locations])
        console.print(summary_table(lines))
        console.print(counts(lines), soft_wrap=True)
    else:
        headers = [read_eval_log(location, header_only=True) for location in locations]
        many = [counted(log, summary) for log, found in zip(headers, summaries) for summary in found]
        console.print(counts_table(many))
        console.print(counts(many), soft_wrap=True)
