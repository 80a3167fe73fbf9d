"""The one typed per-sample state: the agent writes it, the scorer, judge, report and scanner read it.

It lives in the sample's Inspect store (so in the log), and a log's store dict reads back into
it, which is what lets `inspect score` re-score an old log.
"""

from __future__ import annotations

from typing import Any

from inspect_ai.util import Store, StoreModel, store_as
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


class SampleState(StoreModel):
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


def sample_state(raw: Store | dict[str, Any] | None = None) -> SampleState:
    """The running sample's state, or the state in a logged sample's store dict."""
    if raw is None:
        return store_as(SampleState)
    return SampleState(store=raw if isinstance(raw, Store) else Store(raw))
