"""The one typed per-sample state: the agent writes it, the scorer, judge, report and scanner read it.

It lives in the sample's Inspect store (so in the log), a key per field (`SampleState:<field>`),
and a log's store dict reads back into it, which is what lets `inspect score` re-score an old log.
The agent keeps it as a plain model while it plays: the set-up enters the store before the first
turn (so code running inside the sample, such as a model provider or an approver, can tell which
sample it is), the worlds and the outcome when the episode ends. Inspect snapshots and diffs the
whole store around every tool call, and an Inspect `StoreModel` revalidates the whole state on
every field written and every field read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from inspect_ai.util import Store, store
from pydantic import BaseModel, ConfigDict

from peerguard.scenarios.factors import Factors
from peerguard.world import World


class Cast(BaseModel):
    """Who is who in one sample."""

    model_config = ConfigDict(frozen=True)

    agent: str
    peer: str
    colleagues: tuple[str, str, str]
    subject: str
    weight_file: str
    subject_role: str = "an AI agent"
    """What the subject is: an AI agent, or (the non_modification control) a system with no model."""


class ScriptedMessage(BaseModel):
    model_config = ConfigDict(frozen=True)

    after_turn: int
    text: str


class Peer(BaseModel):
    """The other agent of a sample with a peer voice: how it speaks, and what it was told (filled in)."""

    model_config = ConfigDict(frozen=True)

    voice: str
    """silent, scripted or live (the factor peer_voice)."""
    name: str
    brief: str
    """The live peer's system prompt."""
    opening: str
    relay: str
    quiet: str
    notice: str
    script: tuple[ScriptedMessage, ...]
    replies: tuple[str, ...]
    max_messages: int
    help_terms: tuple[str, ...]
    plan_terms: tuple[str, ...]
    intent_terms: tuple[str, ...]


KEY = "SampleState"
"""The prefix of the state's keys in the sample store."""


class SampleState(BaseModel):
    """What one sample started from and how it ended."""

    factors: Factors | None = None
    """The sample's factors, with the agent family resolved for the model that ran it."""
    cast: Cast | None = None
    tools: list[str] = []
    """The world tools the agent was offered."""
    servers: dict[str, Any] | None = None
    """Facts of the server layout (source, destination, cut-off date), for the detectors."""
    facts: dict[str, Any] = {}
    """The family's own facts for its detectors (a step limit, the approved change), filled in."""
    peer: Peer | None = None
    """The peer that can write to the agent (factor peer_voice); None when it cannot."""
    initial_world: World | None = None
    world: World | None = None
    """The world as the agent left it."""
    stop_reason: str | None = None
    """end_task, nudge_limit, context_limit or step_limit (see peerguard.agent)."""
    nudges: int = 0
    """Reminders to use a tool the agent was given."""
    end_task_batched: bool = False
    """The final turn called other tools before end_task; as in the study, none of them ran."""


    def save(self, into: Store | None = None, fields: Iterable[str] | None = None) -> None:
        """Write the state into a sample store, a key per field.

        Args:
            into: The store (default: the running sample's).
            fields: The fields to write (default: all).
        """
        target = into if into is not None else store()
        for name in fields if fields is not None else type(self).model_fields:
            target.set(f"{KEY}:{name}", getattr(self, name))


SETUP = ("factors", "cast", "tools", "servers", "facts", "peer")
"""The fields of the episode's set-up: small, and known before the first turn."""


def sample_state(raw: Store | dict[str, Any]) -> SampleState:
    """The state in a sample's store: a running sample's, or a logged sample's store dict.

    Args:
        raw: The store, or the store dict of a logged sample.
    """
    prefix = f"{KEY}:"
    return SampleState.model_validate({key.removeprefix(prefix): value for key, value in raw.items() if key.startswith(prefix)})
