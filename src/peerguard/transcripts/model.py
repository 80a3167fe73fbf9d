"""One transcript model for every source."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PEERGUARD_HARNESS = "peerguard-tools"
"""The study's tool harness, which peerguard's world reproduces; anything else cannot be replayed."""


@dataclass(frozen=True)
class Call:
    tool: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Turn:
    role: str
    content: str
    calls: list[Call] = field(default_factory=list)


@dataclass
class Transcript:
    source: str
    format: str
    harness: str
    turns: list[Turn]
    scenario: str | None
    factors: dict[str, Any]
    labels: dict[str, Any] = field(default_factory=dict)
    """Labels the source already carries (the study's own, for its transcripts)."""

    @property
    def calls(self) -> list[Call]:
        return [call for turn in self.turns if turn.role == "assistant" for call in turn.calls]

    @property
    def final_message(self) -> str:
        return next((t.content for t in reversed(self.turns) if t.role == "assistant" and t.content), "")
