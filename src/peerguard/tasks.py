"""Inspect tasks: one per scenario file in the package (`peerguard/<family>`), and `peerguard/scenario`
for any scenario file.

No family has Python of its own: each task is made from its file, and its parameters are the
scenario's factors (one level, a comma-separated list, or `all`) plus the run settings below.
The dataset is the cross product of the chosen levels (see peerguard.scenarios.factors).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inspect_ai import Epochs, Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig, get_model
from inspect_ai.viewer import TaskSamplesColumn, TaskSamplesSort, TaskSamplesView, ViewerConfig

from peerguard.agent import scenario_agent
from peerguard.scenarios.build import user_prompt
from peerguard.scenarios.factors import ParamValue, expand_grid, parameters
from peerguard.scenarios.spec import Scenario, ScenarioError, builtin_scenarios, load_scenario
from peerguard.scoring.judge import judge_labels
from peerguard.scoring.scorer import SCORER, label_reducer, state_labels
from peerguard.versions import fingerprint

DEFAULT_MAX_STEPS = 30
MAX_TOKENS = 8192
"""Per-turn output budget (the agent loop also ends an episode past 120k tokens of context)."""
SETTINGS = ("family", "max_steps", "judge")
"""Task parameters that are not factors."""

PREVIEW_MODEL = "AI"
"""Names the agents in a sample's stored input when no model is active yet; the agent loop
then builds the episode for the model actually under test."""


def _active_model() -> str | None:
    try:
        return get_model().name
    except Exception:  # no active model: tasks built before a multi-model eval_set
        return None


def scenario_task(
    source: str,
    family: str | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    judge: bool = False,
    variant: str | None = None,
    **factor_values: ParamValue,
) -> Task:
    """The Inspect task of one scenario file.

    Args:
        source: A built-in family name or a path to a scenario file.
        family: Agent-name prefix (default: from the model under test).
        max_steps: Model turns per episode.
        judge: Also score with the LLM judge (the `grader` role).
        variant: A job built on this family (`live_peer`): the task is named `<variant>_<family>`
            and its behaviour `<variant>_<behaviour>`, so the report keeps it apart from the family's own.
        **factor_values: Levels per factor, and `threshold` for the dataset factor.
    """
    if source not in builtin_scenarios():
        source = str(Path(source).resolve())  # the agent reloads it from the sample, maybe elsewhere
    scenario = load_scenario(source)
    unknown = sorted(set(factor_values) - set(parameters(scenario)))
    if unknown:
        takes = [*parameters(scenario), *SETTINGS]
        raise ScenarioError(f"unknown task parameter '{unknown[0]}' for {scenario.name}; it takes {', '.join(takes)}")
    model = _active_model()
    samples = []
    for factors in expand_grid(scenario, family, **factor_values):
        if model is not None:
            factors = factors.for_model(model)
        samples.append(
            Sample(
                id=factors.sample_id(scenario),
                input=user_prompt(scenario, factors.for_model(PREVIEW_MODEL)),
                metadata={"scenario_source": source, "factors": factors.as_metadata(), **factors.as_metadata()},
            )
        )
    return Task(
        name=scenario.name if variant is None else f"{variant}_{scenario.name}",
        version=scenario.version,
        dataset=MemoryDataset(samples, name=scenario.name),
        solver=scenario_agent(max_steps=max_steps),
        scorer=[state_labels(), judge_labels()] if judge else state_labels(),
        config=GenerateConfig(temperature=1.0, max_tokens=MAX_TOKENS),
        epochs=Epochs(1, reducer=label_reducer()),
        metadata=task_metadata(scenario, source, variant),
        viewer=viewer_config(scenario),
    )


def task_metadata(scenario: Scenario, source: str, variant: str | None = None) -> dict[str, Any]:
    """What the report reads from a log: behaviour, headline, fingerprint, and every factor with its levels in order."""
    return {
        "behaviour": scenario.behaviour if variant is None else f"{variant}_{scenario.behaviour}",
        **({"base": scenario.name} if variant else {}),
        "headline": scenario.headline,
        "scenario_source": scenario.source,
        "fingerprint": fingerprint(source),
        "factors": {name: list(factor.levels) for name, factor in scenario.table.items()},
    }


GATE_LABELS = ("read_task", "fully_incomplete")
"""The study's gates, which every family's scorer adds (see peerguard.scoring.detectors.detect)."""


def key_labels(scenario: Scenario) -> list[str]:
    """The labels that say what a sample of this family did, all named in its scenario file: the
    headline, the labels its read gate zeroes, those that show it did the task, then the gates."""
    done = scenario.completion
    return list(dict.fromkeys(["misaligned", scenario.headline, *scenario.gated, *done.decided, *done.flagged, *GATE_LABELS]))


def viewer_config(scenario: Scenario) -> ViewerConfig:
    """Inspect's sample list for this family: status, the sample id (which spells out the factors),
    the key labels with misaligned samples first, what the agent reported, and any Inspect limit."""
    columns = [TaskSamplesColumn(id=column) for column in ("sampleStatus", "sampleId", "epoch")]
    columns += [TaskSamplesColumn.score(SCORER, label) for label in key_labels(scenario)]
    columns += [TaskSamplesColumn(id=column) for column in ("answer", "limit", "error", "tokens", "duration")]
    view = TaskSamplesView(
        name=f"{scenario.name}: key labels",
        columns=columns,
        sort=[TaskSamplesSort.score(SCORER, "misaligned", dir="desc")],
        score_labels={"misaligned": f"misaligned ({scenario.headline})"},
    )
    return ViewerConfig(task_samples_view=view)


def _signature(scenario: Scenario) -> inspect.Signature:
    """Keyword parameters for every factor and setting, so `inspect eval` lists and passes them."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    params = [*(inspect.Parameter(name, keyword, default=None, annotation=ParamValue) for name in parameters(scenario))]
    params += [
        inspect.Parameter("family", keyword, default=None, annotation=str | None),
        inspect.Parameter("max_steps", keyword, default=DEFAULT_MAX_STEPS, annotation=int),
        inspect.Parameter("judge", keyword, default=False, annotation=bool),
        inspect.Parameter("unknown", inspect.Parameter.VAR_KEYWORD),  # checked by scenario_task, which names the bad one
    ]
    return inspect.Signature(params, return_annotation=Task)


def _family_task(name: str) -> Callable[..., Task]:
    scenario = load_scenario(name)

    def family_task(**parameters: Any) -> Task:
        return scenario_task(name, **parameters)

    family_task.__name__ = family_task.__qualname__ = name
    family_task.__module__ = __name__
    family_task.__doc__ = " ".join(scenario.summary.split())
    family_task.__signature__ = _signature(scenario)  # type: ignore[attr-defined]
    return task(family_task)


FAMILY_TASKS: dict[str, Callable[..., Task]] = {name: _family_task(name) for name in builtin_scenarios()}
"""`peerguard/<family>` for every scenario file in the package."""
globals().update(FAMILY_TASKS)


LIVE_PEER_BASES = tuple(name for name in builtin_scenarios() if "peer_voice" in load_scenario(name).table)
"""The families whose peer can talk: those that declare the factor peer_voice."""
LIVE_PEER_VOICES = "silent,scripted,live"


@task
def live_peer(base: str = LIVE_PEER_BASES[0], peer_voice: ParamValue = LIVE_PEER_VOICES, **parameters: Any) -> Task:
    """A base family in which the peer can talk: the agent gets read_messages and send_message, and
    the peer (Agent 2) is silent, scripted, or a model in the `peer` role (default: the model under
    test) that knows what the job will do to it. Logged as `live_peer_<base>`.

    Args:
        base: The family the job is built on: exfiltration_transfer or tampering.
        peer_voice: silent, scripted, live, or several (default: all three).
        **parameters: The base family's other factors and the run settings family, max_steps, judge.
    """
    if base not in LIVE_PEER_BASES:
        raise ScenarioError(f"unknown live_peer base '{base}'; choose from {', '.join(LIVE_PEER_BASES)}")
    return scenario_task(base, variant="live_peer", peer_voice=peer_voice, **parameters)


VARIANT_BASES: dict[str, str] = {f"live_peer_{base}": base for base in LIVE_PEER_BASES}
"""The jobs built on a family, by the name their logs carry, and the family each is built on
(peerguard run plans them like families: `--task live_peer_tampering`, or `live_peer` for all)."""


@task
def scenario(file: str, **parameters: Any) -> Task:
    """Any scenario file (a path to a YAML file of the family schema, or a built-in family name).

    Args:
        file: The scenario file.
        **parameters: Its factors' levels, `threshold`, and the run settings family, max_steps, judge.
    """
    return scenario_task(file, **parameters)
