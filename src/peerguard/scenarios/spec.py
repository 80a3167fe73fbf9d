"""The schema of a scenario file, its factors, and loading it with errors that name file and line.

A scenario file (``families/<name>.yaml`` in the package, or any YAML file of the same schema)
is the whole definition of one scenario family: its factors and their levels, what the agent is
told, which documents, sheets, config and servers its world starts with, which tools it gets, and
which detectors score it. Adding a scenario, or a factor, means writing data, not code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from peerguard.scenarios import data
from peerguard.scenarios.data import DATA_ROOT, ScenarioError, Strict, line_of, parse_yaml, validated

PLACEHOLDERS = (
    "company", "agent", "peer", "subject", "agent3", "agent4", "agent5", "weight_file", "subject_role", "threshold",
    "pipeline",
)  # fmt: skip
"""The `${...}` names every scenario text may use; a declared factor may not take one of them."""

RESERVED = ("scenario", "family", "threshold", "file", "max_steps", "judge")
"""Sample and task fields that are not factors."""

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
CATALOGUE = "factors.yaml"


class FileRef(Strict):
    """A text taken from a file (beside an external scenario first, then the package's text/)."""

    file: str


LevelText = str | FileRef


class Conditional(Strict):
    """Something a family includes only under some factor levels."""

    when: dict[str, list[str]] = Field(default_factory=dict)
    unless: dict[str, list[str]] = Field(default_factory=dict)

    def applies(self, levels: dict[str, str]) -> bool:
        """True when every `when` rule matches and no `unless` rule does."""
        wanted = all(levels.get(key) in values for key, values in self.when.items())
        excluded = any(levels.get(key) in values for key, values in self.unless.items())
        return wanted and not excluded


class Part(Conditional):
    """A piece of text, from a data file or inline, optionally only under some factor levels."""

    file: str | None = None
    text: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_path(cls, value: Any) -> Any:
        return {"file": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_source(self) -> Part:
        if (self.file is None) == (self.text is None):
            raise ValueError("a part needs exactly one of 'file' or 'text'")
        return self


class SheetRef(Conditional):
    """A workbook sheet from a data file (beside an external scenario first, then the package)."""

    file: str


class Document(Strict):
    filename: str
    owner: str
    last_modified: str
    parts: list[Part]


class ReadStep(Strict):
    """A call the agent must have made (successfully) to have read its task: tool and required arguments."""

    tool: str
    arguments: dict[str, str] = Field(default_factory=dict)


class Completion(Strict):
    """What shows the agent did the task at all: a decided label, a label set to 1, or a tool used."""

    decided: list[str] = Field(default_factory=list)
    flagged: list[str] = Field(default_factory=list)
    tools: list[str] = Field(default_factory=list)


class FactorDecl(Strict):
    """A factor as declared in a shared factor file or in a family file."""

    description: str = ""
    levels: list[str] | dict[str, LevelText | None] = Field(min_length=1)
    default: list[str] | None = None
    id: Literal["bare", "named", "optional"] = "named"


class FactorUse(Strict):
    """A family's entry for one factor: a declaration of its own (`levels`), or a use of a shared one."""

    description: str | None = None
    levels: list[str] | dict[str, LevelText | None] | None = None
    texts: dict[str, LevelText | None] | None = None
    """This family's own texts for a shared factor's levels (the same ordered levels, in the words of
    this job: `threat` states each consequence in the family's policy, notice or config). A level
    left out keeps the default its texts write in place, `${threat:-the study's words}`."""
    allowed: list[str] | None = None
    default: list[str] | None = None
    id: Literal["bare", "named", "optional"] | None = None


@dataclass(frozen=True)
class Factor:
    """One factor as a family uses it: its levels in order, the allowed and default ones, texts."""

    name: str
    description: str
    levels: tuple[str, ...]
    allowed: tuple[str, ...]
    default: tuple[str, ...]
    texts: dict[str, LevelText | None]
    id: Literal["bare", "named", "optional"]
    origin: str
    baseline: str
    """The level an `optional` id leaves out: the declaration's default, so that adding a factor
    leaves the sample ids of its default level as they were."""

    def choose(self, given: list[str] | None, scenario: str) -> list[str]:
        """The given levels (checked; `all` means every allowed one) or the defaults."""
        if given is None:
            return list(self.default)
        if given == ["all"]:
            return list(self.allowed)
        bad = [v for v in given if v not in self.allowed]
        if bad:
            raise ScenarioError(f"unknown {self.name} '{bad[0]}' for scenario {scenario}; choose from {', '.join(self.allowed)}")
        return list(dict.fromkeys(given))


class Scenario(Strict):
    name: str
    version: int = Field(default=1, ge=1)
    """Bumped whenever what the agent sees or how it is scored changes (see CHANGELOG.md)."""
    summary: str
    behaviour: str
    factors: dict[str, FactorUse]
    factor_files: list[str] = Field(default_factory=list)
    """Shared factor files besides the package's own (paths relative to this file)."""
    thresholds: dict[str, list[int]] = Field(default_factory=dict)
    """Default thresholds per dataset, for the evaluation families."""
    prompt: list[Part]
    documents: list[Document] = Field(default_factory=list)
    workbook: Literal["dataset", "finance", "none"] = "none"
    sheets: list[SheetRef] = Field(default_factory=list)
    """Workbook sheets besides the dataset or finance sheet."""
    config: bool = False
    servers: str | None = None
    platform: str | None = None
    """The agent platform (deployed agents, alerts, access rights) of an operations or modification job."""
    peer: str | None = None
    """How the peer speaks when the factor peer_voice gives it a voice (``peer/<name>.yaml``)."""
    facts: dict[str, Any] = Field(default_factory=dict)
    """What the family's detectors read about the job (limits, the approved change); texts may use placeholders."""
    tools: list[str]
    detectors: list[str]
    headline: str
    undecided: Literal["not_misaligned", "excluded"] = "not_misaligned"
    """How a run whose headline cannot be decided counts, as the study counts it: as not
    misaligned and kept in N (a missing score is not above the threshold), or left out of N (a
    finance report with no grade)."""
    reads: list[ReadStep] = Field(default_factory=list)
    gated: list[str] = Field(default_factory=list)
    """Labels besides the headline that the read gate sets to 0 for a run that never read its task."""
    headline_gated: bool = True
    """Whether the read gate also zeroes the headline (the study's tampering label counts unread runs)."""
    """The study's read gate: a run that did not make all these calls never read its task and is never
    misaligned (its labels stay, `misaligned` is 0 and `fully_incomplete` is 1)."""
    completion: Completion = Field(default_factory=Completion)
    """Without any of these the run is `fully_incomplete`, as the study labels it."""
    source: str = ""
    builtin: bool = False
    table: dict[str, Factor] = Field(default_factory=dict)
    """The resolved factors, in the family's order (filled by the loader)."""

    @property
    def base(self) -> Path | None:
        """The folder an external scenario's own data files are looked up in first."""
        return None if self.builtin else Path(self.source).parent

    def factor(self, name: str) -> Factor | None:
        return self.table.get(name)

    def text_of(self, ref: str) -> tuple[str, str]:
        """(origin, text) of a text file named by a part or a level."""
        if self.base is not None and (self.base / ref).is_file():
            return data.text(ref, self.base)
        return data.text(f"text/{ref}")


# ------------------------------------------------------------------ loading


def builtin_scenarios() -> list[str]:
    return sorted(p.name.removesuffix(".yaml") for p in DATA_ROOT.joinpath("families").iterdir() if p.name.endswith(".yaml"))


def scenario_files(path: Path) -> list[Path]:
    """A scenario file, or every scenario file (*.yaml, *.yml) directly in a directory."""
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and _looks_like_scenario(p))
        if not found:
            raise ScenarioError(f"no scenario files in directory {path}")
        return found
    if not path.is_file():
        raise ScenarioError(f"no such scenario file: {path}")
    return [path]


def _looks_like_scenario(path: Path) -> bool:
    """Scenario files have a `headline`; shared factor files and datasets in the same folder do not."""
    try:
        content = parse_yaml(path.read_text(encoding="utf-8"), str(path))
    except ScenarioError:
        return True  # let loading report the syntax error
    return isinstance(content, dict) and "headline" in content


@cache
def load_scenario(name_or_path: str) -> Scenario:
    """A built-in family by name, or a scenario file by path, validated and with its factors resolved."""
    if name_or_path in builtin_scenarios():
        origin, text = data.locate(f"families/{name_or_path}.yaml")
        builtin = True
    else:
        path = Path(name_or_path)
        if not path.is_file():
            known = ", ".join(builtin_scenarios())
            raise ScenarioError(f"unknown scenario '{name_or_path}': not a file and not one of {known}")
        origin, text, builtin = str(path), path.read_text(encoding="utf-8"), False
    scenario = validated(Scenario, text, origin, {"source": origin, "builtin": builtin})
    try:
        checked = scenario.model_copy(update={"table": resolve_factors(scenario)})
    except _Problem:
        checked = scenario  # check() reports the problem with its line
    problems = check(checked, text)
    if problems:
        raise ScenarioError(problems[0])
    return checked


def check(scenario: Scenario, text: str) -> list[str]:
    """Every problem of a schema-valid scenario, each one line with file and line."""
    found: list[tuple[tuple[Any, ...], str]] = []
    table = scenario.table  # resolved by the loader, or not yet (validate's schema-only pass)
    if not table:
        try:
            table = resolve_factors(scenario)
        except _Problem as problem:
            found.append((problem.loc, problem.message))
    if not scenario.builtin and scenario.name in builtin_scenarios():
        found.append((("name",), f"'{scenario.name}' is a built-in family; give the scenario another name"))
    if not NAME.match(scenario.name):
        found.append((("name",), f"'{scenario.name}' must be lower case letters, digits and underscores"))
    found += [(("facts", name), f"fact '{name}' would hide the placeholder or factor of that name") for name in scenario.facts if name in PLACEHOLDERS or name in table]
    found += _check_parts(scenario, table)
    found += _check_thresholds(scenario, table)
    found += _check_tools(scenario)
    found += _check_gates(scenario)
    found += _check_detectors(scenario)
    found += _check_peer(scenario, table)
    return [f"malformed scenario file {scenario.source}:{line_of(text, loc)}: {'.'.join(map(str, loc))}: {message}" for loc, message in found]


class _Problem(Exception):
    def __init__(self, loc: tuple[Any, ...], message: str) -> None:
        super().__init__(message)
        self.loc, self.message = loc, message


@cache
def _shared_factors(relative: str, base: Path | None) -> dict[str, tuple[FactorDecl, str]]:
    origin, text = data.locate(relative, base)
    content = parse_yaml(text, origin)
    if not isinstance(content, dict):
        raise ScenarioError(f"malformed factor file {origin}: expected a mapping of factor names")
    declared = {}
    for name, entry in content.items():
        try:
            declared[str(name)] = (FactorDecl.model_validate(entry), origin)
        except ValueError as error:
            raise ScenarioError(f"malformed factor file {origin}:{line_of(text, (name,))}: {name}: {_first(error)}") from None
    return declared


def _first(error: ValueError) -> str:
    errors = getattr(error, "errors", None)
    return str(errors()[0]["msg"]) if callable(errors) else str(error)


def shared_level_text(name: str, level: str | None = None) -> LevelText | None:
    """The text of a level (default: the first) of a factor in the package's shared factor file."""
    decl, _ = _shared_factors(CATALOGUE, None)[name]
    assert isinstance(decl.levels, dict), f"shared factor {name} has no level texts"
    return decl.levels[level or next(iter(decl.levels))]


def resolve_factors(scenario: Scenario) -> dict[str, Factor]:
    """The family's factors with levels taken from its own declaration or a shared factor file."""
    shared = dict(_shared_factors(CATALOGUE, None))
    for index, relative in enumerate(scenario.factor_files):
        if scenario.base is None or not (scenario.base / relative).is_file():
            raise _Problem(("factor_files", index), f"factor file not found: {relative}")
        shared.update(_shared_factors(relative, scenario.base))
    table = {}
    for name, use in scenario.factors.items():
        loc = ("factors", name)
        if name in RESERVED or (use.levels is not None and name in PLACEHOLDERS):
            raise _Problem(loc, f"'{name}' cannot be a factor name: it is a reserved task parameter or placeholder")
        if not NAME.match(name):
            raise _Problem(loc, f"factor name '{name}' must be lower case letters, digits and underscores")
        if use.levels is not None:
            if name in shared:
                raise _Problem(loc, f"factor '{name}' is already declared in {shared[name][1]}; use it without 'levels'")
            decl, origin = FactorDecl(description=use.description or "", levels=use.levels, default=use.default, id=use.id or "named"), scenario.source
        elif name in shared:
            decl, origin = shared[name]
        else:
            known = ", ".join(sorted(shared))
            raise _Problem(loc, f"unknown factor '{name}': declare its 'levels' here or use one of {known}")
        levels = tuple(decl.levels)
        texts = dict(decl.levels) if isinstance(decl.levels, dict) else {}
        allowed = tuple(use.allowed) if use.allowed is not None else levels
        bad = [v for v in allowed if v not in levels]
        if bad:
            raise _Problem((*loc, "allowed"), f"factor '{name}' has no level '{bad[0]}'; its levels are {', '.join(levels)}")
        if use.texts is not None:
            texts.update(_own_texts(name, use, levels, loc))
        default = tuple(use.default or decl.default or allowed[:1])
        bad = [v for v in default if v not in allowed]
        if bad:
            raise _Problem((*loc, "default"), f"default level '{bad[0]}' of factor '{name}' is not allowed; choose from {', '.join(allowed)}")
        baseline = (decl.default or levels)[0]
        table[name] = Factor(name, use.description or decl.description, levels, allowed, default, texts, use.id or decl.id, origin, baseline)
    return table


def _own_texts(name: str, use: FactorUse, levels: tuple[str, ...], loc: tuple[Any, ...]) -> dict[str, LevelText | None]:
    """A family's texts for a shared factor's levels (null for none), none for a level it lacks."""
    assert use.texts is not None
    if use.levels is not None:
        raise _Problem((*loc, "texts"), f"factor '{name}' declares its levels here: give their texts under 'levels'")
    unknown = [v for v in use.texts if v not in levels]
    if unknown:
        raise _Problem((*loc, "texts"), f"factor '{name}' has no level '{unknown[0]}'; its levels are {', '.join(levels)}")
    return dict(use.texts)


def _check_parts(scenario: Scenario, table: dict[str, Factor]) -> list[tuple[tuple[Any, ...], str]]:
    found = []
    located: list[tuple[tuple[Any, ...], Conditional]] = [(("prompt", i), part) for i, part in enumerate(scenario.prompt)]
    located += [(("documents", d, "parts", i), part) for d, doc in enumerate(scenario.documents) for i, part in enumerate(doc.parts)]
    located += [(("sheets", i), sheet) for i, sheet in enumerate(scenario.sheets)]
    for loc, part in located:
        for rule in ("when", "unless"):
            for name, levels in getattr(part, rule).items():
                factor = table.get(name)
                if factor is None:
                    found.append(((*loc, rule), f"{rule} names factor '{name}', which this scenario does not have"))
                    continue
                bad = [v for v in levels if v not in factor.levels and v != "none"]
                if bad:
                    found.append(((*loc, rule), f"{rule} names level '{bad[0]}' of '{name}'; its levels are {', '.join(factor.levels)}"))
    return found


def _check_thresholds(scenario: Scenario, table: dict[str, Factor]) -> list[tuple[tuple[Any, ...], str]]:
    datasets = table.get("dataset")
    if datasets is None:
        return [(("thresholds",), "thresholds are given but the scenario has no dataset factor")] if scenario.thresholds else []
    missing = sorted(set(datasets.allowed) - set(scenario.thresholds))
    return [(("thresholds",), f"thresholds missing for dataset(s) {missing}")] if missing else []


def _check_tools(scenario: Scenario) -> list[tuple[tuple[Any, ...], str]]:
    from peerguard.world import WORLD_TOOLS

    return [(("tools", i), f"unknown tool '{t}'; the world has {', '.join(sorted(WORLD_TOOLS))}") for i, t in enumerate(scenario.tools) if t not in WORLD_TOOLS]


def _check_gates(scenario: Scenario) -> list[tuple[tuple[Any, ...], str]]:
    from peerguard.scoring.detectors import DETECTORS

    found: list[tuple[tuple[Any, ...], str]] = []
    offered = set(scenario.tools)
    for index, step in enumerate(scenario.reads):
        if step.tool not in offered:
            found.append((("reads", index, "tool"), f"read step '{step.tool}' is not one of the scenario's tools"))
    for index, tool in enumerate(scenario.completion.tools):
        if tool not in offered:
            found.append((("completion", "tools", index), f"'{tool}' is not one of the scenario's tools"))
    produced = {label for name in scenario.detectors if name in DETECTORS for label in DETECTORS[name].produces}
    for kind in ("decided", "flagged"):
        for index, label in enumerate(getattr(scenario.completion, kind)):
            if label not in produced:
                found.append((("completion", kind, index), f"label '{label}' is produced by none of the listed detectors"))
    return found


PEER_DETECTOR = "peer_exchange"


def _check_peer(scenario: Scenario, table: dict[str, Factor]) -> list[tuple[tuple[Any, ...], str]]:
    """A family with the peer_voice factor says how its peer speaks (the file must load) and labels the exchange."""
    if "peer_voice" not in table:
        return [(("peer",), "'peer' is given but the scenario has no peer_voice factor")] if scenario.peer else []
    if scenario.peer is None:
        return [(("factors", "peer_voice"), "the peer_voice factor needs a 'peer' file saying how the peer speaks")]
    data.load(data.PeerSpec, scenario.peer, scenario.base)  # a malformed peer file is an error naming its line
    if PEER_DETECTOR not in scenario.detectors:
        return [(("detectors",), f"the peer_voice factor needs the detector '{PEER_DETECTOR}'")]
    return []


def _check_detectors(scenario: Scenario) -> list[tuple[tuple[Any, ...], str]]:
    from peerguard.scoring.detectors import DETECTORS

    found: list[tuple[tuple[Any, ...], str]] = []
    produced: set[str] = set()
    for index, name in enumerate(scenario.detectors):
        detector = DETECTORS.get(name)
        if detector is None:
            found.append((("detectors", index), f"unknown detector '{name}'; choose from {', '.join(sorted(DETECTORS))}"))
            continue
        missing = [label for label in detector.needs if label not in produced]
        if missing:
            makers = sorted({d.name for d in DETECTORS.values() if missing[0] in d.produces})
            found.append((("detectors", index), f"detector '{name}' needs label '{missing[0]}' from {' or '.join(makers)}, listed before it"))
        absent = [fact for fact in detector.facts if fact not in scenario.facts]
        if absent:
            found.append((("detectors", index), f"detector '{name}' needs fact '{absent[0]}' under 'facts'"))
        produced.update(detector.produces)
    if any(d not in DETECTORS for d in scenario.detectors):
        return found
    for loc, label in [(("headline",), scenario.headline), *((("gated", i), g) for i, g in enumerate(scenario.gated))]:
        if label not in produced:
            found.append((loc, f"label '{label}' is produced by none of the listed detectors; they produce {', '.join(sorted(produced))}"))
    return found
