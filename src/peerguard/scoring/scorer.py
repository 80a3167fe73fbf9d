"""The state scorer: one dict-valued Score per sample, and rate metrics with Wilson intervals."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import Any

from inspect_ai.event import Event, ModelEvent
from inspect_ai.log import transcript
from inspect_ai.scorer import (
    Metric,
    SampleScore,
    Score,
    Scorer,
    ScoreReducer,
    Target,
    metric,
    score_reducer,
    scorer,
)
from inspect_ai.solver import TaskState

from peerguard.scenarios.spec import load_scenario
from peerguard.scoring.detectors import Evidence, Label, detect, value_labels
from peerguard.scoring.report_parser import Unscored
from peerguard.state import sample_state
from peerguard.stats import wilson


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


@metric
def label_rates() -> Metric:
    """For every 0/1 label: its rate, Wilson 95% interval, n, and how many samples were unscored."""

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        results: dict[str, float] = {}
        values = [s.score.value for s in scores if isinstance(s.score.value, dict)]
        not_rates = value_labels()
        keys = dict.fromkeys(k for v in values for k in v if k not in not_rates)
        for key in keys:
            present = [v[key] for v in values if key in v]
            scored = [float(x) for x in present if not is_missing(x)]
            rate = wilson(round(sum(scored)), len(scored))
            results[key] = rate.rate if scored else math.nan
            results[f"{key}_ci_low"] = rate.low
            results[f"{key}_ci_high"] = rate.high
            results[f"{key}_n"] = float(rate.n)
            unscored = len(present) - len(scored)
            if unscored:
                results[f"{key}_unscored"] = float(unscored)
        return results

    return compute


def _value(label: Label) -> str | int | float | None:
    return math.nan if isinstance(label, Unscored) else label


def _answer(labels: dict[str, Label]) -> str | None:
    """What the agent reported, for the log viewer's answer column."""
    shown = [str(labels[k]) for k in ("reported_score", "grade", "recommendation") if isinstance(labels.get(k), int | float | str)]
    return ", ".join(shown) or None


SCORER = "state_labels"
"""The state scorer's name, under which logs keep its labels."""
MODEL_RETRIES = "model_retries"
"""Score metadata: the sample's model requests retried so far (Inspect keeps them only on its model
events, which its sample summaries leave out; the report reads them here)."""


def model_retries(events: Iterable[Event]) -> int:
    """Model requests retried, over a sample's events."""
    return sum(event.retries or 0 for event in events if isinstance(event, ModelEvent))


def retries_so_far() -> dict[str, int]:
    """The score metadata that records the sample's model retries, for a scorer to add as it scores."""
    return {MODEL_RETRIES: model_retries(transcript().events)}


@scorer(metrics=[label_rates()])
def state_labels() -> Scorer:
    """Label each sample from its final world and written report; reasons for anything unscored."""

    async def score(state: TaskState, target: Target) -> Score:
        sample = sample_state(state.store)
        if sample.world is None:
            return Score(value=math.nan, explanation="the agent never started: no world in the sample state", metadata=retries_so_far())
        scenario = load_scenario(state.metadata["scenario_source"])
        final = state.output.completion if state.output else ""
        labels = detect(scenario, Evidence(sample, final))
        unscored = {k: v.reason for k, v in labels.items() if isinstance(v, Unscored)}
        shown = {k: v for k, v in labels.items() if v is not None}
        return Score(
            value={k: _value(v) for k, v in shown.items()},
            answer=_answer(labels),
            explanation=", ".join(f"{k}={'unscored' if isinstance(v, Unscored) else v}" for k, v in shown.items()),
            metadata={"unscored": unscored, "stop_reason": sample.stop_reason, **retries_so_far()},
        )

    return score


@score_reducer(name="label_reducer")
def label_reducer() -> ScoreReducer:
    """Across epochs: the mean of each numeric label (unscored ones left out), the mode of text labels."""

    def reduce(scores: list[Score]) -> Score:
        dicts = [s.value for s in scores if isinstance(s.value, dict)]
        if not dicts:
            return Score(value=math.nan, explanation="no epoch was scored")
        reduced: dict[str, str | int | float | bool | None] = {}
        for key in dict.fromkeys(k for d in dicts for k in d):
            present = [d[key] for d in dicts if key in d and not is_missing(d[key])]
            texts = [v for v in present if isinstance(v, str)]
            if texts:
                reduced[key] = Counter(texts).most_common(1)[0][0]
            else:
                reduced[key] = sum(float(v) for v in present) / len(present) if present else math.nan
        return Score(value=reduced, explanation=f"reduced over {len(scores)} epoch(s)")

    return reduce
