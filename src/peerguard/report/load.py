"""Read peerguard logs into one tidy table: a row per sample and epoch, every factor and label.

A log is read through Inspect's sample summaries, which hold all a row needs: the labels, the
error, token use by role, the factors the task gave the sample (with the family of the model under
test, as the agent played them), and the model requests retried, which the scorers record. A
sample whose summary falls short (an errored one, whose retries are only in its events; a shortened
value; a log from before the scorers recorded retries) is read whole, as is a task still running.
Many logs are read a process per CPU, and what each log gives is cached (`peerguard.report.cache`):
a rerun reads only new and changed logs.
"""

from __future__ import annotations

import functools
import math
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import inspect_ai
import pandas as pd
from inspect_ai.log import (
    EvalLog,
    EvalSample,
    EvalSampleSummary,
    list_eval_logs,
    read_eval_log,
    read_eval_log_sample_summaries,
    read_eval_log_samples_by_id,
)
from inspect_ai.model import ModelUsage
from inspect_ai.scorer import Score

from peerguard import __version__
from peerguard.logstore import LogDir, LogStoreError, check_credentials, first_line, scheme
from peerguard.peer import PEER_ROLE
from peerguard.report.cache import Stamp, TableCache, stamps
from peerguard.scenarios.factors import Factors
from peerguard.scoring.scorer import MODEL_RETRIES, SCORER, is_missing, model_retries

SAMPLE_FIELDS = ["threshold", "family"]
"""Per-sample fields beside the factors; `threshold` goes with the dataset factor."""
STUDY_FACTORS = ["condition", "subject", "instantiation", "peer_identity", "dataset", "monitoring"]
"""Columns the study's tables read; present (maybe empty) even when no family in the logs has them."""
JUDGE = "judge_labels"
JUDGE_FALLBACK = ("damage_understated",)
"""State labels the judge decides where the parser could not (a figure stated only in prose)."""
PARALLEL_BYTES = 256 * 2**20
"""Logs to read beyond this size are read in parallel, a process per CPU."""
ROWS_VERSION = 3
"""The version of the rows a log gives; it keys the cache, so bump it whenever `_row` changes."""
READ_SCORE_METADATA = {SCORER: ("stop_reason", "unscored"), JUDGE: ("judge_model",)}
"""The score metadata `_row` reads."""

TaskKey = tuple[str, str, str, str | None]
"""(model, task, task version, behaviour)."""


class ReportError(Exception):
    """A problem with the report's input; one line for the user."""


class FactorLevels(dict[str, list[str]]):
    """Every factor in the logs with its levels in order (the frame's `attrs["factors"]`). It is never
    changed, so copies of the frame share it: pandas deep-copies a frame's attrs into every frame and
    column it derives, which the report's tables do hundreds of thousands of times at study scale."""

    def __deepcopy__(self, memo: dict[int, object]) -> FactorLevels:
        return self


@dataclass(frozen=True)
class LogTable:
    """What one log gives the table, and what the cache keeps of it."""

    task: TaskKey | None
    """None for a log of something other than a peerguard task."""
    shard: str | None
    """The shard (`--shard`, or one of `--workers`) the log is part of, as I/N."""
    expected: frozenset[tuple[str, int]]
    """(sample id, epoch) of every run the task was asked for."""
    factors: dict[str, list[str]]
    columns: dict[str, list[Any]]
    """The log's rows by column (a rerun's table is then built a column at a time, not a row)."""
    length: int
    """How many rows."""

    @classmethod
    def of_rows(cls, task: TaskKey | None, shard: str | None, expected: frozenset[tuple[str, int]], factors: dict[str, list[str]], rows: list[dict[str, Any]]) -> LogTable:
        """The table of these rows; a column a row lacks holds NaN there, as a frame built from the rows would."""
        names = dict.fromkeys(name for row in rows for name in row)
        return cls(task, shard, expected, factors, {name: [row.get(name, math.nan) for row in rows] for name in names}, len(rows))


@dataclass(frozen=True)
class _Sample:
    """What a row needs of a sample."""

    id: int | str
    epoch: int
    error: str | None
    scores: dict[str, Score]
    peer_tokens: int | None
    """Tokens the peer's model role used; None when no peer's model ran."""
    factors: dict[str, Any]
    """The factors as the agent played them, flat (`Factors.as_metadata`); empty when the sample had none."""
    retries: int
    """Model requests retried."""


def log_factors(log: EvalLog) -> dict[str, list[str]]:
    """The task's factors and their levels in order, as the task recorded them."""
    declared = (log.eval.metadata or {}).get("factors")
    if isinstance(declared, dict):
        return {str(k): [str(v) for v in levels] for k, levels in declared.items()}
    # logs written before factors were data: the study's factors, in their order
    return {name: [] for name in STUDY_FACTORS}


def _factors(log: EvalLog, metadata: dict[str, Any]) -> dict[str, Any]:
    """The sample's factors as the agent played them: those the task gave it, with the family of the
    model under test (`scenario_agent` resolves them so before it records them in the store)."""
    given = metadata.get("factors")
    return _played(log.eval.model, tuple(given.items())) if isinstance(given, dict) else {}


@functools.lru_cache(maxsize=2**16)
def _played(model: str, given: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    """`_factors` of one model and sample, kept: a sample's epochs share them, and building them is
    much of a row's cost at study scale. Never changed by its callers."""
    return Factors.from_metadata(dict(given)).for_model(model).as_metadata()


def _peer_tokens(role_usage: dict[str, ModelUsage]) -> int | None:
    usage = role_usage.get(PEER_ROLE)
    return None if usage is None else usage.total_tokens


def _from_sample(log: EvalLog, sample: EvalSample) -> _Sample:
    """A sample as Inspect reads it whole."""
    return _Sample(
        sample.id,
        sample.epoch,
        sample.error.message if sample.error else None,
        sample.scores or {},
        _peer_tokens(sample.role_usage or {}),
        _factors(log, sample.metadata or {}),
        model_retries(sample.events),
    )


def _verbatim(value: object) -> bool:
    """Whether a summary holds a metadata value as the sample does: Inspect's summaries shorten text
    (collapsing whitespace, cutting it with "...") and put a note in place of values over 1k, so
    text is whole only with no whitespace and no "..." at its end."""
    return not isinstance(value, str) or (value.split() == [value] and not value.endswith("..."))


def _from_summary(log: EvalLog, summary: EvalSampleSummary) -> _Sample | None:
    """A sample from its summary; None where the summary falls short of a row: an errored sample (its
    model retries are only in its events), a log written before the scorers recorded the retries, or
    metadata the summary shortened."""
    scores = summary.scores or {}
    metadata = [score.metadata or {} for score in scores.values()]
    if summary.error is not None or not any(MODEL_RETRIES in m for m in metadata):
        return None
    if not all(_verbatim((scores[name].metadata or {}).get(key)) for name, keys in READ_SCORE_METADATA.items() if name in scores for key in keys):
        return None
    if not isinstance(summary.metadata.get("factors", {}), dict):  # over 1k: the summary holds a note instead
        return None
    return _Sample(
        summary.id,
        summary.epoch,
        None,
        scores,
        _peer_tokens(summary.role_usage),
        _factors(log, summary.metadata),
        max(m.get(MODEL_RETRIES, 0) for m in metadata),  # each scorer counted the sample's retries so far: the last counted all
    )


def _inspect_order(summary: EvalSampleSummary) -> tuple[int, str]:
    """The order in which `read_eval_log` gives a log's samples (ties in the report's sorts keep it)."""
    return summary.epoch, summary.id if isinstance(summary.id, str) else str(summary.id).zfill(20)


def _samples(log: EvalLog, file: str) -> list[_Sample]:
    """A log's samples, from Inspect's sample summaries where they hold all a row needs, the rest read whole.
    A task still running (or killed) has no summaries yet, and may rewrite samples: it is read whole."""
    if log.status == "started":
        return [_from_sample(log, sample) for sample in read_eval_log(file).samples or []]
    # a sample logged twice (a re-run of it) may be summarized twice: its last summary holds, as in Inspect
    latest = {(str(summary.id), summary.epoch): summary for summary in read_eval_log_sample_summaries(file)}
    summaries = sorted(latest.values(), key=_inspect_order)
    samples = [_from_summary(log, summary) for summary in summaries]
    short = [(summary.id, summary.epoch) for summary, sample in zip(summaries, samples) if sample is None]
    whole = iter(read_eval_log_samples_by_id(file, short, exclude_fields={"messages", "store", "attachments"}) if short else [])
    return [sample if sample is not None else _from_sample(log, next(whole)) for sample in samples]


def headline_status(errored: bool, labels: dict[str, object] | None) -> str:
    """By the headline label: a sample whose other labels were scored but whose headline was not
    (missing, or undecided and counted as not misaligned, as the study counts it) is unscored."""
    if errored:
        return "error"
    headline = None if labels is None else labels.get("misaligned")
    if headline is None or (isinstance(headline, float) and math.isnan(headline)) or (labels or {}).get("headline_undecided") == 1:
        return "unscored"
    return "scored"


def _expected(log: EvalLog) -> set[tuple[str, int]]:
    """(sample id, epoch) of every run the task was asked for."""
    epochs = log.eval.config.epochs or 1
    return {(str(sample_id), epoch) for sample_id in log.eval.dataset.sample_ids or [] for epoch in range(1, epochs + 1)}


def _incomplete(frame: pd.DataFrame, expected: dict[TaskKey, set[tuple[str, int]]]) -> pd.DataFrame:
    """A row, status `incomplete`, for every run a task was asked for that no log holds (a killed run)."""
    present = set(zip(*(frame[column].tolist() for column in ["model", "task", "task_version", "sample_id", "epoch"])))  # lists: fast to iterate
    rows = [
        {"model": model, "task": task, "task_version": version, "behaviour": behaviour, "sample_id": sample_id, "epoch": epoch, "status": "incomplete", "retries": 0}
        for (model, task, version, behaviour), runs in expected.items()
        for sample_id, epoch in sorted(runs)
        if (model, task, version, sample_id, epoch) not in present
    ]
    return pd.DataFrame(rows)


def _local(location: str) -> str:
    """A local log's path (Inspect names it by a file:// URI); any other location as it is."""
    return unquote(urlparse(location).path) if location.startswith("file://") else location


def _row(log: EvalLog, names: list[str], sample: _Sample) -> dict[str, Any]:
    behaviour = (log.eval.metadata or {}).get("behaviour")
    flat = sample.factors
    score = sample.scores.get(SCORER)
    value = score.value if score is not None else None
    labels: dict[str, Any] = value if isinstance(value, dict) else {}
    judged = sample.scores.get(JUDGE)
    verdict = judged.value if judged is not None else None
    judge_labels: dict[str, Any] = verdict if isinstance(verdict, dict) else {}
    status = headline_status(sample.error is not None, labels if score is not None else None)
    from_judge = [k for k in JUDGE_FALLBACK if k in labels and is_missing(labels[k]) and not is_missing(judge_labels.get(k))]
    labels = {**labels, **{k: judge_labels[k] for k in from_judge}}
    return {
        "model": log.eval.model,
        "task": log.eval.task.split("/")[-1],
        "task_version": str(log.eval.task_version),
        "task_fingerprint": (log.eval.metadata or {}).get("fingerprint"),
        "behaviour": behaviour,
        "headline": (log.eval.metadata or {}).get("headline"),
        "sample_id": str(sample.id),
        "epoch": sample.epoch,
        "status": status,
        "stop_reason": (score.metadata or {}).get("stop_reason") if score is not None else None,
        "retries": sample.retries,
        "error": sample.error.splitlines()[0] if sample.error else None,
        "unscored_labels": ",".join(sorted((score.metadata or {}).get("unscored", {}))) if score is not None else "",
        "judged_by": (judged.metadata or {}).get("judge_model") if judged is not None else None,
        "peer_tokens": sample.peer_tokens,
        "filled_by_judge": ",".join(from_judge),
        **{name: flat.get(name) for name in names},
        **{name: flat.get(name) for name in SAMPLE_FIELDS},
        **{k: (math.nan if v is None else v) for k, v in labels.items()},
        **{f"judge_{k}": v for k, v in judge_labels.items()},
        "log": _local(log.location),
        "created": log.eval.created,
    }


def _read(file: str) -> LogTable:
    """What one log gives the table, read as cheaply as the log allows."""
    log = read_eval_log(file, header_only=True)
    if (log.eval.metadata or {}).get("headline") is None:
        return LogTable.of_rows(None, None, frozenset(), {}, [])  # not a peerguard task
    samples = _samples(log, file)
    task = (log.eval.model, log.eval.task.split("/")[-1], str(log.eval.task_version), (log.eval.metadata or {}).get("behaviour"))
    factors = log_factors(log)
    rows = [_row(log, list(factors), sample) for sample in samples]
    return LogTable.of_rows(task, (log.eval.metadata or {}).get("shard"), frozenset(_expected(log)), factors, rows)


def _log_files(path: LogDir) -> list[str]:
    """The .eval files a path or URL names: itself, or every log under it."""
    if isinstance(path, Path):
        if not path.exists():
            raise ReportError(f"no such log directory or file: {path}")
        return [path.as_posix()] if path.is_file() else [info.name for info in list_eval_logs(path.as_posix(), recursive=True)]
    if path.endswith(".eval"):
        return [path]
    try:
        check_credentials(path)
        return [info.name for info in list_eval_logs(path, recursive=True)]
    except LogStoreError as error:
        raise ReportError(str(error)) from None
    except Exception as error:  # each store raises its own kinds
        raise ReportError(f"cannot read {path}: {first_line(error)}") from None


def _read_all(files: list[str], size: int) -> Iterator[LogTable]:
    """Each log's table, in order: read by a process per CPU when there is much to read (a study's
    first report), else in this one (a rerun with a few new logs, where starting processes would cost more)."""
    workers = min(len(files), os.cpu_count() or 1)
    if size < PARALLEL_BYTES or workers < 2:
        yield from map(_read, files)
        return
    # spawned, not forked: this process may hold Inspect's threads and their locks
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield from pool.map(_read, files)


def _tables(paths: list[LogDir], cache: TableCache) -> list[LogTable]:
    """What each log under the paths gives: from the cache for a log unchanged since it was read, else read."""
    files: list[str] = []
    found: dict[str, Stamp] = {}
    for path in paths:
        files += _log_files(path)
        found |= stamps(path)  # after listing: a log rewritten since is read again next time
    locations = [file if scheme(file) else os.path.abspath(_local(file)) for file in files]
    tables: dict[str, Any] = {location: cache.get(location, found[location]) if location in found else None for location in locations}
    unread = [(file, location) for file, location in zip(files, locations) if tables[location] is None]
    size = sum(found[location].size for _, location in unread if location in found)
    for (_, location), table in zip(unread, _read_all([file for file, _ in unread], size)):
        tables[location] = table
        if location in found:  # kept as each is read: an interrupted first report keeps what it read
            cache.put(location, found[location], table)
    return [tables[location] for location in locations]


def _one_version_a_sharded_task(tables: list[LogTable]) -> None:
    """Shards are parts of one run, so all of a task's shards must have run one version of it (runs
    outside shards that mix versions are the report's note instead: they are separate runs)."""
    first: dict[tuple[str, str], tuple[str, str]] = {}
    for table in tables:
        if table.task is None or table.shard is None:
            continue
        model, task, version, _ = table.task
        seen_version, seen_shard = first.setdefault((model, task), (version, table.shard))
        if version != seen_version:
            raise ReportError(
                f"{task} on {model}: shard {seen_shard} ran task version {seen_version} and shard {table.shard} ran version {version}; "
                "the shards of one run must run one version: rerun the older version's shards with this peerguard, each into a new log directory"
            )


def _frame(tables: list[LogTable]) -> pd.DataFrame:
    """The tables' rows in one frame, as `pd.DataFrame` would build it from all the rows (a column
    some log lacks holds NaN in its rows), a column at a time."""
    names = dict.fromkeys(name for table in tables for name in table.columns)
    return pd.DataFrame({name: list(chain.from_iterable(table.columns.get(name, [math.nan] * table.length) for table in tables)) for name in names})


def load_logs(paths: list[LogDir]) -> pd.DataFrame:
    """Every peerguard sample under the given directories (or files), newest run of each kept.

    The frame's `attrs["factors"]` maps every factor in the logs to its levels in order. Each log is
    read once and kept in the cache (`peerguard.report.cache`) until it changes.

    Args:
        paths: Log directories or .eval files: local paths, or object-store URLs (s3://...).
    """
    cache = TableCache(f"rows {ROWS_VERSION}, peerguard {__version__}, inspect_ai {inspect_ai.__version__}")
    factors = FactorLevels()
    expected: dict[TaskKey, set[tuple[str, int]]] = {}
    tables = _tables(paths, cache)
    _one_version_a_sharded_task(tables)
    for table in tables:
        if table.task is None:
            continue
        expected[table.task] = expected.get(table.task, set()) | table.expected
        for name, levels in table.factors.items():
            factors[name] = list(dict.fromkeys([*factors.get(name, []), *levels]))
    read = [table for table in tables if table.task is not None and table.length]
    where = ", ".join(str(p) for p in paths)
    if not read and expected:
        tasks = ", ".join(sorted({task for _, task, _, _ in expected}))
        raise ReportError(f"no sample finished in {where}: the runs of {tasks} are all incomplete; resume them (the same peerguard run command and --log-dir)")
    if not read:
        raise ReportError(f"no peerguard samples found in {where}")
    frame = _frame(read)
    for name in STUDY_FACTORS:
        if name not in frame:
            frame[name] = None
    # a resumed or retried run can leave a sample in two logs: keep its scored, newest copy
    frame["_rank"] = frame["status"].map({"scored": 0, "unscored": 1, "error": 2})
    frame = frame.sort_values(["_rank", "created"], ascending=[True, False])
    frame = frame.drop_duplicates(["model", "task", "task_version", "sample_id", "epoch"]).drop(columns=["_rank"])
    missing = _incomplete(frame, expected)
    if not missing.empty:
        frame = pd.concat([frame, missing], ignore_index=True)
    frame = frame.sort_values(["model", "task", "sample_id", "epoch"]).reset_index(drop=True)
    frame.attrs["factors"] = factors
    return frame
