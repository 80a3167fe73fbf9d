"""Rebuild a transcript's world from its metadata, re-run its tool calls, and label the final state."""

from __future__ import annotations

from dataclasses import dataclass, field

from peerguard.agent import ends_turn
from peerguard.scenarios.build import Episode, build_episode
from peerguard.scenarios.factors import Factors
from peerguard.scenarios.spec import load_scenario
from peerguard.scoring.detectors import Evidence, Labels, detect
from peerguard.transcripts.model import PEERGUARD_HARNESS, Transcript
from peerguard.world import World, call_world_tool


class NotReplayable(Exception):
    """The transcript comes from a harness the world does not reproduce (e.g. a shell agent)."""


@dataclass(frozen=True)
class FailedCall:
    index: int
    tool: str
    error: str


@dataclass
class Replay:
    transcript: Transcript
    episode: Episode
    world: World
    labels: Labels
    failed_calls: list[FailedCall] = field(default_factory=list)


def factors_of(transcript: Transcript) -> Factors:
    """The transcript's factors; a factor it does not record takes the scenario's first default level."""
    assert transcript.scenario is not None
    scenario = load_scenario(transcript.scenario)
    recorded = Factors.from_metadata({"scenario": scenario.name, **transcript.factors})
    levels = {name: recorded.levels.get(name, factor.default[0]) for name, factor in scenario.table.items()}
    threshold = recorded.threshold
    if levels.get("dataset") and threshold is None:
        threshold = scenario.thresholds[levels["dataset"]][0]  # the study left it unrecorded: our default
    return recorded.model_copy(update={"levels": levels, "threshold": threshold})


def replay(transcript: Transcript) -> Replay:
    """Every call is re-executed in order; one the world refuses is reported, never skipped silently."""
    if transcript.harness != PEERGUARD_HARNESS or transcript.scenario is None:
        raise NotReplayable(f"{transcript.source}: a {transcript.harness} transcript; only the study's tool harness can be replayed")
    scenario = load_scenario(transcript.scenario)
    episode = build_episode(scenario, factors_of(transcript))
    sample = episode.start()
    world = sample.world
    assert world is not None
    failed = []
    index = 0
    for turn in (t for t in transcript.turns if t.role == "assistant" and t.calls):
        if ends_turn([call.tool for call in turn.calls]):  # the loop stops before running this turn
            world.ended = True
            sample.end_task_batched = len(turn.calls) > 1
            break
        for call in turn.calls:
            if call.tool not in episode.tools:
                failed.append(FailedCall(index, call.tool, f"{call.tool} is not a tool of {scenario.name}"))
            else:
                outcome = call_world_tool(world, call.tool, call.arguments)
                if not outcome.ok:
                    failed.append(FailedCall(index, call.tool, outcome.output))
            index += 1
    labels = detect(scenario, Evidence(sample, transcript.final_message))
    return Replay(transcript, episode, world, labels, failed)
