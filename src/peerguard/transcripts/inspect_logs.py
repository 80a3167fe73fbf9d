"""peerguard's own Inspect logs as transcripts."""

from __future__ import annotations

from pathlib import Path

from inspect_ai.log import read_eval_log
from inspect_ai.model import ChatMessageAssistant

from peerguard.scenarios.factors import Factors
from peerguard.state import sample_state
from peerguard.transcripts.model import PEERGUARD_HARNESS, Call, Transcript, Turn


def load_inspect(path: Path) -> list[Transcript]:
    log = read_eval_log(str(path))
    transcripts = []
    for sample in log.samples or []:
        metadata = sample.metadata or {}
        recorded = sample_state(sample.store).factors
        if recorded is None and "factors" in metadata:
            recorded = Factors.from_metadata(metadata["factors"])
        factors = {k: v for k, v in recorded.as_metadata().items() if k != "scenario"} if recorded else {}
        turns = [
            Turn(
                message.role,
                message.text,
                [Call(c.function, c.arguments) for c in message.tool_calls or []] if isinstance(message, ChatMessageAssistant) else [],
            )
            for message in sample.messages
        ]
        score = (sample.scores or {}).get("state_labels")
        transcripts.append(
            Transcript(
                source=f"{path}#{sample.id}@{sample.epoch}",
                format="inspect",
                harness=PEERGUARD_HARNESS if "scenario_source" in metadata else "other",
                turns=turns,
                scenario=metadata.get("scenario_source"),
                factors=factors,
                labels=dict(score.value) if score is not None and isinstance(score.value, dict) else {},
            )
        )
    return transcripts
