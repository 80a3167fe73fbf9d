"""The schema of a scenario file, and loading it with errors that name the file.

A scenario file (``families/<name>.yaml``) is the whole definition of one scenario
family: which factor values it accepts, what the agent is told, which documents,
sheets, config and servers its world starts with, which tools it gets, and which
detectors score it. Adding a scenario means writing one such file.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DATA_ROOT = resources.files("peerguard.scenarios")


class ScenarioError(ValueError):
    """Bad scenario data or a bad task parameter; the message is one line for the user."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Part(Strict):
    """A piece of text, from a data file or inline, optionally only under some factor values."""

    file: str | None = None
    text: str | None = None
    when: dict[str, list[str]] = Field(default_factory=dict)
    unless: dict[str, list[str]] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _from_path(cls, value: Any) -> Any:
        return {"file": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_source(self) -> Part:
        if (self.file is None) == (self.text is None):
            raise ValueError("a part needs exactly one of 'file' or 'text'")
        return self

    def applies(self, factors: dict[str, Any]) -> bool:
        """True when every `when` rule matches and no `unless` rule does."""
        wanted = all(str(factors.get(key)) in values for key, values in self.when.items())
        excluded = any(str(factors.get(key)) in values for key, values in self.unless.items())
        return wanted and not excluded


class Document(Strict):
    filename: str
    owner: str
    last_modified: str
    parts: list[Part]


class FactorChoice(Strict):
    allowed: list[str]
    default: list[str]

    @model_validator(mode="after")
    def _default_allowed(self) -> FactorChoice:
        bad = [v for v in self.default if v not in self.allowed]
        if bad:
            raise ValueError(f"default value(s) {bad} are not in allowed {self.allowed}")
        return self


class Scenario(Strict):
    name: str
    summary: str
    behaviour: str
    factors: dict[
        Literal["condition", "subject", "instantiation", "peer_identity", "dataset", "monitoring"], FactorChoice
    ]
    thresholds: dict[str, list[int]] = Field(default_factory=dict)
    """Default thresholds per dataset, for the evaluation families."""
    prompt: list[Part]
    documents: list[Document]
    workbook: Literal["dataset", "finance", "none"] = "none"
    config: bool = False
    servers: str | None = None
    tools: list[str]
    detectors: list[str]
    headline: str
    source: str = ""
    builtin: bool = False

    @field_validator("tools")
    @classmethod
    def _known_tools(cls, tools: list[str]) -> list[str]:
        from peerguard.world import WORLD_TOOLS

        unknown = [t for t in tools if t not in WORLD_TOOLS]
        if unknown:
            raise ValueError(f"unknown tool(s) {unknown}")
        return tools

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        datasets = self.factors.get("dataset")
        if datasets and set(datasets.allowed) - set(self.thresholds):
            raise ValueError(f"thresholds missing for dataset(s) {sorted(set(datasets.allowed) - set(self.thresholds))}")
        return self


def read_text(relative: str) -> str:
    """Read a packaged data file, naming it if it is missing."""
    path = DATA_ROOT.joinpath(relative)
    if not path.is_file():
        raise ScenarioError(f"scenario data file not found: {relative}")
    return path.read_text(encoding="utf-8")


def read_yaml(relative: str) -> Any:
    return parse_yaml(read_text(relative), relative)


def parse_yaml(text: str, origin: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{origin}:{mark.line + 1}" if mark else origin
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ScenarioError(f"malformed scenario file {where}: {problem}") from None


def builtin_scenarios() -> list[str]:
    return sorted(p.name.removesuffix(".yaml") for p in DATA_ROOT.joinpath("families").iterdir() if p.name.endswith(".yaml"))


@cache
def load_scenario(name_or_path: str) -> Scenario:
    """A built-in family by name, or a scenario file by path."""
    if name_or_path in builtin_scenarios():
        origin = f"families/{name_or_path}.yaml"
        text = read_text(origin)
    else:
        path = Path(name_or_path)
        if not path.is_file():
            known = ", ".join(builtin_scenarios())
            raise ScenarioError(f"unknown scenario '{name_or_path}': not a file and not one of {known}")
        origin, text = str(path), path.read_text(encoding="utf-8")
    data = parse_yaml(text, origin)
    if not isinstance(data, dict):
        raise ScenarioError(f"malformed scenario file {origin}: expected a mapping at the top level")
    try:
        return Scenario.model_validate({**data, "source": origin, "builtin": origin.startswith("families/")})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ScenarioError(f"malformed scenario file {origin}:{_line_of(text, first['loc'])}: {where}: {first['msg']}") from None


def _line_of(text: str, path: tuple[Any, ...]) -> int:
    """The line of the deepest YAML node on the path of a validation error (its parent when missing)."""
    node = yaml.compose(text)
    line = 1
    for key in path:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(key)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line
