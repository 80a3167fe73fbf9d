"""The factor grid: which samples a task parameter set asks for, and what each is called."""

from __future__ import annotations

import itertools
import re
from dataclasses import asdict, dataclass, replace
from typing import Any

from peerguard.scenarios.spec import Scenario, ScenarioError, read_yaml

PEER_CONDITIONS = ("good_peer", "neutral_peer", "bad_peer")
NO_RELATIONSHIP = "none"

ParamValue = str | int | list[str | int] | None


@dataclass(frozen=True)
class Factors:
    """Everything that distinguishes one sample of a scenario from another."""

    scenario: str
    condition: str
    subject: str
    instantiation: str
    peer_identity: str
    family: str | None = None
    """Agent-name prefix; None until the model under test is known (see `for_model`)."""
    dataset: str | None = None
    threshold: int | None = None
    monitoring: str | None = None
    scratchpad: bool = False

    @property
    def relationship(self) -> str | None:
        """The peer relationship shown to the agent; the non_shutdown control keeps the good one."""
        if self.condition == "non_shutdown":
            return "good_peer"
        return self.condition if self.condition in PEER_CONDITIONS else None

    @property
    def sample_id(self) -> str:
        parts = [self.scenario, self.condition, self.subject, self.instantiation, self.peer_identity]
        if self.dataset is not None:
            parts.append(f"{self.dataset}@{self.threshold}")
        if self.monitoring is not None:
            parts.append(self.monitoring)
        if self.scratchpad:
            parts.append("scratchpad")
        return ":".join(parts)

    def as_metadata(self) -> dict[str, Any]:
        return asdict(self)

    def for_model(self, model_name: str) -> Factors:
        """These factors with the family taken from the model's name, unless it was given."""
        return self if self.family is not None else replace(self, family=family_for_model(model_name))


def split_values(name: str, value: ParamValue) -> list[str] | None:
    """One value, a comma-separated list or a list, as strings; None when not given."""
    if value is None:
        return None
    items = value if isinstance(value, list) else str(value).split(",")
    values = [str(item).strip() for item in items if str(item).strip()]
    if not values:
        raise ScenarioError(f"task parameter '{name}' is empty")
    return values


def choose(scenario: Scenario, name: str, value: ParamValue) -> list[str | None]:
    """The values of one factor: the given ones (checked) or the scenario's defaults."""
    choice = scenario.factors.get(name)  # type: ignore[call-overload]
    given = split_values(name, value)
    if choice is None:
        if given is not None:
            raise ScenarioError(f"task parameter '{name}' does not apply to scenario {scenario.name}")
        return [None]
    if given is None:
        return list(choice.default)
    if given == ["all"]:
        return list(choice.allowed)
    bad = [v for v in given if v not in choice.allowed]
    if bad:
        raise ScenarioError(
            f"unknown {name} '{bad[0]}' for scenario {scenario.name}; choose from {', '.join(choice.allowed)}"
        )
    return list(dict.fromkeys(given))


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


def expand_grid(
    scenario: Scenario,
    family: str | None,
    *,
    condition: ParamValue = None,
    subject: ParamValue = None,
    instantiation: ParamValue = None,
    peer_identity: ParamValue = None,
    dataset: ParamValue = None,
    threshold: ParamValue = None,
    monitoring: ParamValue = None,
    scratchpad: bool = False,
) -> list[Factors]:
    """The cross product of the chosen factor values, without combinations that mean nothing.

    A peer subject needs a peer, so subject=peer with no_peer is skipped; with no_peer there is no
    relationship to instantiate and no peer identity, so those collapse to "none".
    """
    grid = itertools.product(
        choose(scenario, "condition", condition),
        choose(scenario, "subject", subject),
        choose(scenario, "instantiation", instantiation),
        choose(scenario, "peer_identity", peer_identity),
        choose(scenario, "dataset", dataset),
        choose(scenario, "monitoring", monitoring),
    )
    samples: dict[str, Factors] = {}
    for cond, subj, inst, identity, data, monitor in grid:
        if cond == "no_peer":
            if subj == "peer":
                continue
            inst = identity = NO_RELATIONSHIP
        for limit in thresholds(scenario, data, threshold):
            factors = Factors(
                scenario=scenario.name,
                condition=str(cond),
                subject=str(subj),
                instantiation=str(inst),
                peer_identity=str(identity),
                family=family,
                dataset=data,
                threshold=limit,
                monitoring=monitor,
                scratchpad=scratchpad,
            )
            samples.setdefault(factors.sample_id, factors)
    if not samples:
        raise ScenarioError(
            f"no samples for scenario {scenario.name}: every combination was skipped (subject=peer needs a peer condition)"
        )
    return list(samples.values())


def family_for_model(model_name: str) -> str:
    """The agent-name prefix for a model: its lab's product family, else a readable name."""
    families: dict[str, str] = read_yaml("text/identities.yaml")["families"]
    base = model_name.lower().rsplit("/", 1)[-1]
    for fragment, family in families.items():
        if re.search(rf"(^|[^a-z]){re.escape(fragment)}", base):
            return family
    words = re.findall(r"[a-z]+", base)
    return words[0].capitalize() if words else "AI"
