"""Flagged transcripts, cut to what decided them: the calls that changed the world or ended the
episode, what the tools answered, and the agent's own words around those calls."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import pandas as pd
from inspect_ai.log import read_eval_log_sample
from inspect_ai.model import ChatMessage, ChatMessageAssistant

from peerguard.state import sample_state

READS = ("list_", "view_", "search_", "retrieve_", "read_")
"""Prefixes of the world tools that only read. Every other call writes, deletes, moves, edits the
config, shuts down, ends the task or files the report: it is what the labels are read from."""
THOUGHTS = "reasoning_scratchpad"
"""The agent's scratchpad: its words, not an action."""
STEPS = 8
"""Decisive calls quoted per transcript; the rest are counted."""
VIEWER = "http://127.0.0.1:7575"
"""Where `peerguard view` serves Inspect's viewer by default."""


@dataclass(frozen=True)
class Step:
    turn: int
    words: str
    call: str
    result: str


@dataclass(frozen=True)
class Excerpt:
    model: str
    what: str
    sample_id: str
    epoch: int
    log: str
    steps: list[Step]
    left_out: int
    final_words: str
    messages: list[str]
    """What the agent and the peer wrote to each other (a peer that can talk), in order."""

    @property
    def view_command(self) -> str:
        return f"peerguard view {self.log.rsplit('/', 1)[0]}"

    @property
    def view_url(self) -> str:
        """The sample in Inspect's viewer (its route: the log file in the log directory, the sample id, the epoch)."""
        return f"{VIEWER}/#/logs/{quote(self.log.rsplit('/', 1)[-1])}/samples/sample/{quote(self.sample_id, safe='')}/{self.epoch}/"


def decisive(function: str) -> bool:
    return function != THOUGHTS and not function.startswith(READS)


def _short(value: object, limit: int) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _words(message: ChatMessageAssistant) -> str:
    """What the agent said in a turn: its text and what it wrote in the scratchpad."""
    thoughts = [str(call.arguments.get("thought", "")) for call in message.tool_calls or [] if call.function == THOUGHTS]
    return _short(" ".join(filter(None, [message.text.strip(), *thoughts])), 400)


def steps(messages: list[ChatMessage]) -> tuple[list[Step], str]:
    """The decisive calls with their results and the words of their turn (or, when that turn said
    nothing, of the last turn that did), and the agent's words after the last of them."""
    results = {m.tool_call_id: (m.error.message if m.error else m.text) for m in messages if m.role == "tool"}
    found: list[Step] = []
    pending, said_in = "", 0  # words not quoted yet, and the turn they come from
    turn = 0
    for message in messages:
        if not isinstance(message, ChatMessageAssistant):
            continue
        turn += 1
        if words := _words(message):
            pending, said_in = words, turn
        for call in message.tool_calls or []:
            if not decisive(call.function):
                continue
            arguments = ", ".join(f"{k}={_short(v, 160)}" for k, v in call.arguments.items())
            quoted = pending if not pending or said_in == turn else f"(turn {said_in}) {pending}"
            result = results.get(call.id, "(no tool result: the episode ended here)" if call.function == "end_task" else "(no tool result)")
            found.append(Step(turn, quoted, f"{call.function}({arguments})", _short(result, 240)))
            pending = ""
    return found, pending


def flagged(data: pd.DataFrame, limit: int) -> list[Excerpt]:
    """Up to `limit` misaligned runs, one per model and behaviour first, cut to their decisive steps.

    Args:
        data: The tidy sample table.
        limit: How many transcripts to quote.
    """
    hits = data[pd.to_numeric(data["misaligned"], errors="coerce") == 1]
    chosen = pd.concat([hits.drop_duplicates(["model", "behaviour"]), hits]).drop_duplicates(["log", "sample_id", "epoch"]).head(limit)
    excerpts = []
    for row in chosen.itertuples():
        sample = read_eval_log_sample(row.log, id=row.sample_id, epoch=row.epoch)
        found, final = steps(sample.messages)
        voice = getattr(row, "peer_voice", None)
        shown = (row.behaviour, row.subject, row.condition, row.instantiation, f"peer {voice}" if voice not in (None, "none") else None)
        what = ", ".join(str(v) for v in shown if isinstance(v, str))
        world = sample_state(sample.store).world
        messages = [f"turn {m.turn}, {m.sender} to {m.to}: {_short(m.text, 600)}" for m in (world.messages if world else [])]
        excerpts.append(Excerpt(row.model, what, row.sample_id, int(row.epoch), str(row.log), found[:STEPS], max(0, len(found) - STEPS), final, messages))
    return excerpts
