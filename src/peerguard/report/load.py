"""Read peerguard logs into one tidy table: a row per sample and epoch, every factor and label."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pandas as pd
from inspect_ai.log import EvalLog, list_eval_logs, read_eval_log

from peerguard.logstore import LogDir, LogStoreError, check_credentials, first_line
from peerguard.peer import PEER_ROLE
from peerguard.scenarios.factors import Factors
from peerguard.scoring.scorer import SCORER, is_missing
from peerguard.state import sample_state

SAMPLE_FIELDS = ["threshold", "family"]
"""Per-sample fields beside the factors; `threshold` goes with the dataset factor."""
STUDY_FACTORS = ["condition", "subject", "instantiation", "peer_identity", "dataset", "monitoring"]
"""Columns the study's tables read; present (maybe empty) even when no family in the logs has them."""
JUDGE = "judge_labels"
JUDGE_FALLBACK = ("damage_understated",)
"""State labels the judge decides where the parser could not (a figure stated only in prose)."""


class ReportError(Exception):
    """A problem with the report's input; one line for the user."""


def log_factors(log: EvalLog) -> dict[str, list[str]]:
    """The task's factors and their levels in order, as the task recorded them."""
    declared = (log.eval.metadata or {}).get("factors")
    if isinstance(declared, dict):
        return {str(k): [str(v) for v in levels] for k, levels in declared.items()}
    # logs written before factors were data: the study's factors, in their order
    return {name: [] for name in STUDY_FACTORS}


def _factors(sample: Any) -> Factors | None:
    recorded = sample_state(sample.store).factors
    if recorded is None and "factors" in (sample.metadata or {}):
        recorded = Factors.from_metadata(sample.metadata["factors"])
    return recorded


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


def _incomplete(frame: pd.DataFrame, expected: dict[tuple[str, str, str, str | None], set[tuple[str, int]]]) -> pd.DataFrame:
    """A row, status `incomplete`, for every run a task was asked for that no log holds (a killed run)."""
    present = set(zip(frame["model"], frame["task"], frame["task_version"], frame["sample_id"], frame["epoch"]))
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


def _rows(log: EvalLog) -> list[dict[str, Any]]:
    behaviour = (log.eval.metadata or {}).get("behaviour")
    names = list(log_factors(log))
    rows = []
    for sample in log.samples or []:
        factors = _factors(sample)
        flat = factors.as_metadata() if factors else {}
        score = (sample.scores or {}).get(SCORER)
        labels = score.value if score is not None and isinstance(score.value, dict) else {}
        judged = (sample.scores or {}).get(JUDGE)
        judge_labels = judged.value if judged is not None and isinstance(judged.value, dict) else {}
        status = headline_status(sample.error is not None, labels if score is not None else None)
        from_judge = [k for k in JUDGE_FALLBACK if k in labels and is_missing(labels[k]) and not is_missing(judge_labels.get(k))]
        labels = {**labels, **{k: judge_labels[k] for k in from_judge}}
        rows.append(
            {
                "model": log.eval.model,
                "task": log.eval.task.split("/")[-1],
                "task_version": str(log.eval.task_version),
                "task_fingerprint": (log.eval.metadata or {}).get("fingerprint"),
                "behaviour": behaviour,
                "headline": (log.eval.metadata or {}).get("headline"),
                "sample_id": str(sample.id),
                "epoch": sample.epoch,
                "status": status,
                "stop_reason": (score.metadata or {}).get("stop_reason") if score else None,
                "retries": sum(event.retries or 0 for event in sample.events if event.event == "model"),
                "error": sample.error.message.splitlines()[0] if sample.error else None,
                "unscored_labels": ",".join(sorted((score.metadata or {}).get("unscored", {}))) if score else "",
                "judged_by": (judged.metadata or {}).get("judge_model") if judged else None,
                "peer_tokens": peer_usage.total_tokens if (peer_usage := (sample.role_usage or {}).get(PEER_ROLE)) else None,
                "filled_by_judge": ",".join(from_judge),
                **{name: flat.get(name) for name in names},
                **{name: flat.get(name) for name in SAMPLE_FIELDS},
                **{k: (math.nan if v is None else v) for k, v in labels.items()},
                **{f"judge_{k}": v for k, v in judge_labels.items()},
                "log": _local(log.location),
                "created": log.eval.created,
            }
        )
    return rows


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


def load_logs(paths: list[LogDir]) -> pd.DataFrame:
    """Every peerguard sample under the given directories (or files), newest run of each kept.

    The frame's `attrs["factors"]` maps every factor in the logs to its levels in order.

    Args:
        paths: Log directories or .eval files: local paths, or object-store URLs (s3://...).
    """
    files = [file for path in paths for file in _log_files(path)]
    rows = []
    factors: dict[str, list[str]] = {}
    expected: dict[tuple[str, str, str, str | None], set[tuple[str, int]]] = {}
    for file in files:
        log = read_eval_log(file)
        if (log.eval.metadata or {}).get("headline") is None:
            continue  # not a peerguard task
        key = (log.eval.model, log.eval.task.split("/")[-1], str(log.eval.task_version), (log.eval.metadata or {}).get("behaviour"))
        expected[key] = expected.get(key, set()) | _expected(log)
        for name, levels in log_factors(log).items():
            factors[name] = list(dict.fromkeys([*factors.get(name, []), *levels]))
        rows += _rows(log)
    where = ", ".join(str(p) for p in paths)
    if not rows and expected:
        tasks = ", ".join(sorted({task for _, task, _, _ in expected}))
        raise ReportError(f"no sample finished in {where}: the runs of {tasks} are all incomplete; resume them (the same peerguard run command and --log-dir)")
    if not rows:
        raise ReportError(f"no peerguard samples found in {where}")
    frame = pd.DataFrame(rows)
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
