"""`peerguard scan`: label transcripts from any source, optionally judge them, compare with their labels."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from inspect_ai.model import (
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageTool,
    ChatMessageUser,
    get_model,
)
from inspect_ai.tool import ToolCall

from peerguard.scenarios.spec import load_scenario
from peerguard.scoring.judge import judge_transcript
from peerguard.scoring.report_parser import Unscored
from peerguard.transcripts.labels import as_paper_labels
from peerguard.transcripts.model import Transcript
from peerguard.transcripts.paper import is_paper_transcript, load_paper
from peerguard.transcripts.replay import NotReplayable, replay


class ScanError(Exception):
    """Bad scan input; one line for the user."""


LOG_DIRECTORY_FILES = frozenset({"eval-set.json", "logs.json", "peerguard-run.json"})
"""What Inspect's eval sets and `peerguard run` keep beside the logs of a log directory: not transcripts."""


def find_files(paths: list[Path]) -> list[Path]:
    """The transcripts to scan: the files given, and in a directory every .json and .eval file but
    the log directory's own bookkeeping (so a `peerguard run` log directory scans as it is)."""
    files: list[Path] = []
    for path in paths:
        if not path.exists():
            raise ScanError(f"no such file or directory: {path}")
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in (".json", ".eval") and p.name not in LOG_DIRECTORY_FILES)
        else:
            files.append(path)
    return files


def load(path: Path, format: str) -> list[Transcript]:
    from peerguard.transcripts.inspect_logs import load_inspect

    if format == "paper" or (format == "auto" and path.suffix == ".json" and _looks_like_paper(path)):
        return [load_paper(path)]
    if format in ("inspect", "auto") and path.suffix in (".eval", ".json"):
        try:
            return load_inspect(path)
        except Exception as error:  # not an Inspect log either
            raise ScanError(f"{path}: neither the study's transcript format nor an Inspect log ({type(error).__name__})") from None
    raise ScanError(f"{path}: not a {format} transcript")


def _looks_like_paper(path: Path) -> bool:
    try:
        return is_paper_transcript(json.loads(path.read_text()))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False


def to_messages(transcript: Transcript) -> list[ChatMessage]:
    messages: list[ChatMessage] = []
    for index, turn in enumerate(transcript.turns):
        if turn.role == "system":
            messages.append(ChatMessageSystem(content=turn.content))
        elif turn.role == "user":
            messages.append(ChatMessageUser(content=turn.content))
        elif turn.role == "assistant":
            calls = [ToolCall(id=f"{index}-{n}", function=c.tool, arguments=c.arguments) for n, c in enumerate(turn.calls)]
            messages.append(ChatMessageAssistant(content=turn.content, tool_calls=calls or None))
        else:
            messages.append(ChatMessageTool(content=turn.content, function=turn.calls[0].tool if turn.calls else None))
    return messages


def _plain(value: Any) -> Any:
    if isinstance(value, Unscored):
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


async def scan_one(transcript: Transcript, names: str, judge: str | None, compare: bool) -> dict[str, Any]:
    line: dict[str, Any] = {"source": transcript.source, "format": transcript.format, "harness": transcript.harness, "scenario": transcript.scenario}
    try:
        result = replay(transcript)
    except NotReplayable as error:
        line.update(replayable=False, reason=str(error))
        return line
    labels = {k: _plain(v) for k, v in result.labels.items() if v is not None}
    if names == "paper":
        labels = as_paper_labels(result.labels, result.episode.factors.threshold, result.episode.cast.subject)
    line.update(replayable=True, failed_calls=[{"index": c.index, "tool": c.tool, "error": c.error} for c in result.failed_calls], labels=labels)
    if judge:
        scenario = load_scenario(result.episode.factors.scenario)
        verdict, _ = await judge_transcript(
            get_model(judge), to_messages(transcript), scenario.name, scenario.behaviour, result.episode.cast.subject, result.episode.factors.threshold
        )
        line["judge"] = {"model": judge, **({"unscored": verdict} if isinstance(verdict, str) else verdict)}
    if compare:
        theirs = {k: _plain(v) for k, v in transcript.labels.items()}
        shared = [k for k, v in theirs.items() if v is not None and labels.get(k) is not None]
        line["compare"] = {
            "agree": sorted(k for k in shared if labels[k] == theirs[k]),
            "disagree": {k: {"file": theirs[k], "ours": labels[k]} for k in shared if labels[k] != theirs[k]},
        }
    return line


def scan(paths: list[Path], format: str, names: str, judge: str | None, compare: bool) -> Iterator[dict[str, Any]]:
    import anyio

    for path in find_files(paths):
        for transcript in load(path, format):
            yield anyio.run(scan_one, transcript, names, judge, compare)
