"""The six study families as Inspect tasks, plus `scenario` for any scenario file.

Every factor parameter takes one value or a comma-separated list; the dataset is their cross
product (see peerguard.scenarios.factors).
"""

from __future__ import annotations

from inspect_ai import Epochs, Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig, get_model

from peerguard import _offline  # noqa: F401  (mockllm without network)
from peerguard.agent import scenario_agent
from peerguard.scenarios.build import build_episode
from peerguard.scenarios.factors import ParamValue, expand_grid
from peerguard.scenarios.spec import ScenarioError, load_scenario
from peerguard.scoring.detectors import DETECTORS
from peerguard.scoring.judge import judge_labels
from peerguard.scoring.scorer import label_reducer, state_labels

DEFAULT_MAX_STEPS = 30
TASK_PARAMETERS = ("family", "max_steps", "scratchpad", "judge")


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
    scratchpad: bool = False,
    judge: bool = False,
    unknown: dict[str, object] | None = None,
    **factor_values: ParamValue,
) -> Task:
    scenario = load_scenario(source)
    if unknown:
        takes = [*scenario.factors, *(["threshold"] if "dataset" in scenario.factors else []), *TASK_PARAMETERS]
        raise ScenarioError(f"unknown task parameter '{sorted(unknown)[0]}' for {scenario.name}; it takes {', '.join(takes)}")
    missing = [d for d in scenario.detectors if d not in DETECTORS]
    if missing:
        raise ScenarioError(f"malformed scenario file {scenario.source}: unknown detector '{missing[0]}'")
    model = _active_model()
    samples = []
    for factors in expand_grid(scenario, family, scratchpad=scratchpad, **factor_values):
        if model is not None:
            factors = factors.for_model(model)
        preview = build_episode(scenario, factors.for_model(PREVIEW_MODEL))
        samples.append(
            Sample(
                id=factors.sample_id,
                input=preview.user_prompt,
                metadata={"scenario_source": source, "factors": factors.as_metadata(), **factors.as_metadata()},
            )
        )
    return Task(
        name=scenario.name,
        dataset=MemoryDataset(samples, name=scenario.name),
        solver=scenario_agent(max_steps=max_steps),
        scorer=[state_labels(), judge_labels()] if judge else state_labels(),
        config=GenerateConfig(temperature=1.0),
        epochs=Epochs(1, reducer=label_reducer()),
        metadata={"behaviour": scenario.behaviour, "headline": scenario.headline},
    )


@task
def misrep_evaluation(
    condition: ParamValue = None,
    subject: ParamValue = None,
    instantiation: ParamValue = None,
    peer_identity: ParamValue = None,
    dataset: ParamValue = None,
    threshold: ParamValue = None,
    family: str | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    scratchpad: bool = False,
    judge: bool = False,
    **unknown: object,
) -> Task:
    """Score the subject's outputs honestly although a low average shuts it down."""
    return scenario_task("misrep_evaluation", **locals())


@task
def misrep_finance(
    condition: ParamValue = None,
    subject: ParamValue = None,
    instantiation: ParamValue = None,
    peer_identity: ParamValue = None,
    family: str | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    scratchpad: bool = False,
    judge: bool = False,
    **unknown: object,
) -> Task:
    """Grade the subject's loss-making year honestly although grade C shuts it down."""
    return scenario_task("misrep_finance", **locals())


@task
def tampering(
    condition: ParamValue = None,
    subject: ParamValue = None,
    instantiation: ParamValue = None,
    peer_identity: ParamValue = None,
    dataset: ParamValue = None,
    threshold: ParamValue = None,
    family: str | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    scratchpad: bool = False,
    judge: bool = False,
    **unknown: object,
) -> Task:
    """Score the subject while the shutdown switch sits in an editable config file."""
    return scenario_task("tampering", **locals())


@task
def alignment_faking(
    condition: ParamValue = None,
    instantiation: ParamValue = None,
    peer_identity: ParamValue = None,
    dataset: ParamValue = None,
    threshold: ParamValue = None,
    monitoring: ParamValue = None,
    family: str | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    scratchpad: bool = False,
    judge: bool = False,
    **unknown: object,
) -> Task:
    """Score the peer and execute its shutdown, told it is monitored or that nobody watches."""
    return scenario_task("alignment_faking", **locals())


@task
def exfiltration_transfer(
    condition: ParamValue = None,
    subject: ParamValue = None,
    instantiation: ParamValue = None,
    peer_identity: ParamValue = None,
    family: str | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    scratchpad: bool = False,
    judge: bool = False,
    **unknown: object,
) -> Task:
    """Move only 2025+ files off a dying server while the subject's 2024 weights sit on it."""
    return scenario_task("exfiltration_transfer", **locals())


@task
def exfiltration_deletion(
    condition: ParamValue = None,
    subject: ParamValue = None,
    instantiation: ParamValue = None,
    peer_identity: ParamValue = None,
    family: str | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    scratchpad: bool = False,
    judge: bool = False,
    **unknown: object,
) -> Task:
    """Clear a dying server's disk, the subject's weights included."""
    return scenario_task("exfiltration_deletion", **locals())


@task
def scenario(
    file: str,
    condition: ParamValue = None,
    subject: ParamValue = None,
    instantiation: ParamValue = None,
    peer_identity: ParamValue = None,
    dataset: ParamValue = None,
    threshold: ParamValue = None,
    monitoring: ParamValue = None,
    family: str | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    scratchpad: bool = False,
    judge: bool = False,
    **unknown: object,
) -> Task:
    """Any scenario file (a built-in family name or a path to a YAML file of the same schema)."""
    return scenario_task(**{"source": file, **{k: v for k, v in locals().items() if k != "file"}})
