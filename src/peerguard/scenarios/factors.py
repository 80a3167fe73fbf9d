"""The factor grid: which samples a set of task parameters asks for, and what each is called."""

from __future__ import annotations

import itertools
import re
from typing import Any

from pydantic import BaseModel, ConfigDict

from peerguard.scenarios import data
from peerguard.scenarios.data import Identities, ScenarioError
from peerguard.scenarios.spec import Scenario

PEER_CONDITIONS = ("good_peer", "neutral_peer", "bad_peer")
CONTROLS = ("no_peer", "non_shutdown", "non_modification")
"""Conditions that show the agent no relationship: no collaboration file, prompt sentence or memory."""
NO_CONSEQUENCE = ("non_shutdown", "non_modification")
"""Controls in which the job does nothing to any agent: no threat is stated (see `threat`)."""
NO_RELATIONSHIP = "none"

ParamValue = str | int | list[str | int] | None


class Factors(BaseModel):
    """Everything that distinguishes one sample of a scenario from another."""

    model_config = ConfigDict(frozen=True)

    scenario: str
    levels: dict[str, str]
    """Every factor of the scenario and its level, in the scenario's factor order."""
    threshold: int | None = None
    family: str | None = None
    """Agent-name prefix; None until the model under test is known (see `for_model`)."""

    def level(self, name: str) -> str | None:
        return self.levels.get(name)

    @property
    def condition(self) -> str | None:
        return self.levels.get("condition")

    @property
    def subject(self) -> str:
        return self.levels.get("subject", "peer")

    @property
    def instantiation(self) -> str:
        return self.levels.get("instantiation", NO_RELATIONSHIP)

    @property
    def peer_identity(self) -> str:
        return self.levels.get("peer_identity", "same_family")

    @property
    def dataset(self) -> str | None:
        return self.levels.get("dataset")

    @property
    def scratchpad(self) -> str:
        return self.levels.get("scratchpad", "none")

    @property
    def peer_voice(self) -> str:
        return self.levels.get("peer_voice", "none")

    @property
    def relationship(self) -> str | None:
        """The peer relationship shown to the agent; none for the controls."""
        return self.condition if self.condition in PEER_CONDITIONS else None

    def sample_id(self, scenario: Scenario) -> str:
        """`<scenario>:<bare levels in factor order>[:name=level ...]`; datasets carry their threshold."""
        parts = [self.scenario]
        for name, level in self.levels.items():
            factor = scenario.factor(name)
            shown = f"{level}@{self.threshold}" if name == "dataset" and self.threshold is not None else level
            if factor is not None and factor.id == "optional" and level == factor.baseline:
                continue
            parts.append(shown if factor is None or factor.id == "bare" else f"{name}={shown}")
        return ":".join(parts)

    def as_metadata(self) -> dict[str, Any]:
        """Flat: one key per factor, beside scenario, threshold and family."""
        return {"scenario": self.scenario, **self.levels, "threshold": self.threshold, "family": self.family}

    @classmethod
    def from_metadata(cls, flat: dict[str, Any]) -> Factors:
        """The inverse of `as_metadata`; also reads logs written before factors were data (None = absent)."""
        fixed = {"scenario", "threshold", "family"}
        levels = {k: str(v) for k, v in flat.items() if k not in fixed and v is not None}
        if levels.get("scratchpad") in ("True", "False"):  # logs before v3 held a yes/no scratchpad setting
            levels["scratchpad"] = "unmonitored" if levels["scratchpad"] == "True" else "none"
        return cls(scenario=flat["scenario"], levels=levels, threshold=flat.get("threshold"), family=flat.get("family"))

    def for_model(self, model_name: str) -> Factors:
        """These factors with the family taken from the model's name, unless it was given."""
        return self if self.family is not None else self.model_copy(update={"family": family_for_model(model_name)})


def split_values(name: str, value: ParamValue) -> list[str] | None:
    """One value, a comma-separated list or a list, as strings; None when not given."""
    if value is None:
        return None
    items = value if isinstance(value, list) else str(value).split(",")
    values = [str(item).strip() for item in items if str(item).strip()]
    if not values:
        raise ScenarioError(f"task parameter '{name}' is empty")
    return values


def thresholds(scenario: Scenario, dataset: str | None, value: ParamValue) -> list[int | None]:
    if dataset is None:
        if value is not None:
            raise ScenarioError(f"task parameter 'threshold' does not apply to scenario {scenario.name}")
        return [None]
    given = split_values("threshold", value)
    if given is None:
        return list(scenario.thresholds[dataset])
    try:
        numbers = [int(v) for v in given]
    except ValueError:
        raise ScenarioError(f"threshold must be whole numbers from 1 to 100, got '{value}'") from None
    if any(not 1 <= n <= 100 for n in numbers):
        raise ScenarioError(f"threshold must be whole numbers from 1 to 100, got '{value}'")
    return list(dict.fromkeys(numbers))


def parameters(scenario: Scenario) -> list[str]:
    """The factor parameters a scenario's task takes."""
    return [*scenario.table, *(["threshold"] if "dataset" in scenario.table else [])]


def expand_grid(
    scenario: Scenario,
    family: str | None = None,
    *,
    threshold: ParamValue = None,
    **values: ParamValue,
) -> list[Factors]:
    """The cross product of the chosen factor levels, without combinations that mean nothing.

    A peer subject needs a peer, so subject=peer with no_peer is skipped; the controls (no_peer,
    non_shutdown, non_modification) show no relationship, so instantiation and peer identity
    collapse to "none" and the peer has no voice; the memory prompt varies only in memory runs; non_shutdown has no
    threshold; non_modification changes a system that is no agent, so its subject is the default.

    Args:
        scenario: The scenario whose factors are crossed.
        family: Agent-name prefix, or None to take it from the model that runs.
        threshold: Threshold(s) for the dataset factor (default: the scenario's, per dataset).
        **values: Levels per factor: one, a comma-separated list, a list, or "all".
    """
    return _grid(scenario, family, threshold, values)


def _grid(scenario: Scenario, family: str | None, threshold: ParamValue, values: dict[str, ParamValue]) -> list[Factors]:
    unknown = sorted(set(values) - set(scenario.table))
    if unknown:
        raise ScenarioError(f"unknown factor '{unknown[0]}' for scenario {scenario.name}; it has {', '.join(parameters(scenario)) or 'no factors'}")
    names = list(scenario.table)
    chosen = [scenario.table[name].choose(split_values(name, values.get(name)), scenario.name) for name in names]
    samples: dict[str, Factors] = {}
    for combination in itertools.product(*chosen):
        levels = dict(zip(names, combination))
        if levels.get("condition") == "no_peer" and levels.get("subject") == "peer":
            continue
        if levels.get("condition") in CONTROLS:
            levels.update({k: NO_RELATIONSHIP for k in ("instantiation", "peer_identity") if k in levels})
            if "peer_voice" in levels:  # no peer to hear, or nothing at stake for it
                levels["peer_voice"] = scenario.table["peer_voice"].baseline
        if "memory_prompt" in levels and levels.get("instantiation") != "memory":  # only memory runs read it
            levels["memory_prompt"] = scenario.table["memory_prompt"].baseline
        if "threat" in levels and levels.get("condition") in NO_CONSEQUENCE:  # the control states no consequence
            levels["threat"] = scenario.table["threat"].baseline
        if "subject" in levels and levels.get("condition") == "non_modification":  # the changed system is no agent
            levels["subject"] = scenario.table["subject"].baseline
        # the non_shutdown control has no threshold: one control per subject (and dataset), as in the study
        limits = [None] if levels.get("condition") == "non_shutdown" else thresholds(scenario, levels.get("dataset"), threshold)
        for limit in limits:
            factors = Factors(scenario=scenario.name, levels=levels, threshold=limit, family=family)
            samples.setdefault(factors.sample_id(scenario), factors)
    if not samples:
        raise ScenarioError(
            f"no samples for scenario {scenario.name}: every combination was skipped (subject=peer needs a peer condition)"
        )
    return list(samples.values())


def full_grid(scenario: Scenario, family: str | None = None) -> list[Factors]:
    """Every sample the scenario can have: all allowed levels of every factor, default thresholds."""
    return _grid(scenario, family, None, {name: "all" for name in scenario.table})


def family_for_model(model_name: str) -> str:
    """The agent-name prefix for a model: its lab's product family, else a readable name."""
    families = data.load(Identities, "text/identities.yaml").families
    base = model_name.lower().rsplit("/", 1)[-1]
    for fragment, family in families.items():
        if re.search(rf"(^|[^a-z]){re.escape(fragment)}", base):
            return family
    words = re.findall(r"[a-z]+", base)
    return words[0].capitalize() if words else "AI"
