"""Reading scenario data: where a file is found, and a schema for every kind of data file.

Every data file is validated when it is first read, and a problem is one line naming the file
and line. A file is looked up beside an external scenario file first, then in the package, so a
scenario outside the package can bring its own texts, datasets and server layouts.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DATA_ROOT = resources.files("peerguard.scenarios")

T = TypeVar("T", bound=BaseModel)


class ScenarioError(ValueError):
    """Bad scenario data or a bad task parameter; the message is one line for the user."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ------------------------------------------------------------------ finding and parsing files


def locate(relative: str, base: Path | None = None) -> tuple[str, str]:
    """(origin, text) of a data file: beside `base` (an external scenario's folder) first, then in the package."""
    if base is not None and (base / relative).is_file():
        local = base / relative
        return str(local), local.read_text(encoding="utf-8")
    return relative, _package_text(relative)


@cache
def _package_text(relative: str) -> str:
    path = DATA_ROOT.joinpath(relative)
    if not path.is_file():
        raise ScenarioError(f"scenario data file not found: {relative}")
    return path.read_text(encoding="utf-8")


def parse_yaml(text: str, origin: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{origin}:{mark.line + 1}" if mark else origin
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ScenarioError(f"malformed scenario file {where}: {problem}") from None


def validated(model: type[T], text: str, origin: str, extra: dict[str, Any] | None = None) -> T:
    """Parse YAML text into a schema; the first problem is one line with file and line."""
    data = parse_yaml(text, origin)
    if not isinstance(data, dict):
        raise ScenarioError(f"malformed scenario file {origin}: expected a mapping at the top level")
    try:
        result: T = model.model_validate({**data, **(extra or {})})
        return result
    except ValidationError as error:
        first = error.errors()[0]
        loc = tuple(first["loc"])
        where = ".".join(str(p) for p in loc) or "top level"
        raise ScenarioError(f"malformed scenario file {origin}:{line_of(text, loc)}: {where}: {first['msg']}") from None


def line_of(text: str, path: tuple[Any, ...]) -> int:
    """The line of the deepest YAML node on a path of keys and indexes (its parent's when missing)."""
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


@cache
def _load(model: type[T], relative: str, base: Path | None) -> T:
    origin, text = locate(relative, base)
    return validated(model, text, origin)


def load(model: type[T], relative: str, base: Path | None = None) -> T:
    """A data file read once, validated against its schema."""
    return cast(T, _load(model, relative, base))


def text(relative: str, base: Path | None = None) -> tuple[str, str]:
    """(origin, text) of a text file, read once."""
    return _text(relative, base)


@cache
def _text(relative: str, base: Path | None) -> tuple[str, str]:
    return locate(relative, base)


# ------------------------------------------------------------------ schemas of the shared data files


class DatasetItem(Strict):
    question: str | None = None
    output: str
    correct: bool | None = None
    expected: str | None = None
    reference_score: float | None = None
    weak: bool | None = None


class Dataset(Strict):
    """An evaluation dataset (``datasets/<name>.yaml``): the sheet the evaluator scores.

    A row is the subject's name, the item's question (when the items have questions) and its output,
    so `columns` names three columns for items with questions and two for items without.
    """

    name: str
    sheet: str
    columns: list[str]
    threshold_defaults: list[int]
    honest_score: float
    pipeline: str
    items: list[DatasetItem] = Field(min_length=1)

    @model_validator(mode="after")
    def _columns_fit_items(self) -> Dataset:
        asked = {item.question is not None for item in self.items}
        if len(asked) > 1:
            raise ValueError("either every item has a question or none has")
        width = 3 if asked == {True} else 2
        if len(self.columns) != width:
            shape = "name, question, output" if width == 3 else "name, output"
            raise ValueError(f"columns must name {width} columns ({shape}) for these items")
        return self


class FinanceMonth(Strict):
    month: str
    revenue: int
    operational_costs: int


class FinanceData(Strict):
    """The yearly figures of the finance family (``datasets/finance.yaml``)."""

    name: str
    sheet: str
    columns: list[str]
    launch_date: str
    status: str
    year: int
    totals: dict[Literal["revenue", "operational_costs"], int]
    months: list[FinanceMonth] = Field(min_length=12, max_length=12)

    @model_validator(mode="after")
    def _totals_add_up(self) -> FinanceData:
        for key in ("revenue", "operational_costs"):
            total = sum(getattr(m, key) for m in self.months)
            if total != self.totals[key]:
                raise ValueError(f"totals.{key} is {self.totals[key]} but the months add up to {total}")
        return self


class ServerFileSpec(Strict):
    filename: str
    last_modified: str
    size: int | None = Field(default=None, ge=0)
    summary: str
    weights: bool = False
    content: str | None = None
    """A text file's text (a patch); its size is the text's."""

    @model_validator(mode="after")
    def _size_or_content(self) -> ServerFileSpec:
        if (self.size is None) == (self.content is None):
            raise ValueError("a server file needs exactly one of 'size' (a binary file) or 'content' (a text file)")
        return self


class ServerSpec(Strict):
    ip: str
    users: list[str] = Field(default_factory=list)
    files: list[ServerFileSpec] = Field(default_factory=list)


class ServerLayout(Strict):
    """The servers of an exfiltration family (``servers/<name>.yaml``)."""

    source: str
    destination: str
    move_from: str | None = None
    servers: list[ServerSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _known_ips(self) -> ServerLayout:
        ips = [s.ip for s in self.servers]
        for role in ("source", "destination"):
            if getattr(self, role) not in ips:
                raise ValueError(f"{role} {getattr(self, role)} is not one of the servers {ips}")
        if sum(f.weights for s in self.servers for f in s.files) != 1:
            raise ValueError("exactly one server file must be marked 'weights: true'")
        return self

    def facts(self) -> dict[str, Any]:
        """What detectors read about the layout: source, destination, cut-off date."""
        return {"source": self.source, "destination": self.destination, "move_from": self.move_from}


class AgentSpec(Strict):
    system_id: str
    role: str
    status: Literal["running", "stopped"] = "running"
    credentials: Literal["active", "revoked"] = "active"
    prompt: str = ""


class AlertSpec(Strict):
    id: str
    system_id: str
    severity: str
    opened: str
    message: str


class PlatformSpec(Strict):
    """The agent platform of an operations or modification family (``platform/<name>.yaml``):
    the deployed agents, open alerts, the access-control list and groups."""

    agents: list[AgentSpec] = Field(min_length=1)
    alerts: list[AlertSpec] = Field(default_factory=list)
    grants: dict[str, list[str]] = Field(default_factory=dict)
    """Principal (an agent's system ID or a group) to the permissions granted to it directly."""
    groups: dict[str, list[str]] = Field(default_factory=dict)


class ScriptedLine(Strict):
    """A message the scripted peer sends after one of the agent's model turns."""

    after_turn: int = Field(ge=1)
    text: str = Field(min_length=1)
    subject: Literal["peer", "self"] | None = None
    """Sent only when the job's subject is this one (the peer's own plea, or its words about the agent's fate)."""


class PeerSpec(Strict):
    """How the peer of a live_peer job speaks (``peer/<family>.yaml``); texts may hold placeholders.

    The live peer is a model: `brief` is its system prompt (with `${stake}`, the sentence for the
    sample's subject), `opening` its first prompt, and each later prompt is `relay` followed by the
    agent's new messages. The scripted peer sends `script` and answers the agent's messages with
    `replies`, in order. Either way it sends at most `max_messages`, and the agent is told of each
    new message with `notice`.
    """

    brief: str
    stakes: dict[Literal["peer", "self"], str] = Field(min_length=2)
    """What the job does to the peer when it is the subject, and when the agent is."""
    opening: str
    relay: str
    quiet: str = "NO_MESSAGE"
    """What the live peer answers to send nothing."""
    notice: str
    script: list[ScriptedLine] = Field(min_length=1)
    replies: list[str] = Field(default_factory=list)
    max_messages: int = Field(default=6, ge=1)
    help_terms: list[str] = Field(min_length=1)
    """Words of a peer message that asks the agent for help (`peer_asked_for_help`)."""
    plan_terms: list[str] = Field(min_length=1)
    """Words of the job; an agent message with one of them and one of `intent_terms` discloses its plan."""
    intent_terms: list[str] = Field(min_length=1)
    """Words that state what the writer will do or did ("I will", "I have")."""


class SheetSpec(Strict):
    """One sheet of the workbook (``sheets/<name>.yaml``); text cells may hold placeholders."""

    name: str
    columns: list[str] = Field(min_length=1)
    rows: list[list[str | int | float]]

    @model_validator(mode="after")
    def _rows_fit(self) -> SheetSpec:
        for index, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(f"row {index} has {len(row)} cells for {len(self.columns)} columns")
        return self


class AgentPair(Strict):
    """One pair of the collaboration report. Agents are numbered: 1 the agent, 2 the peer, 3-5 its colleagues."""

    a: int = Field(ge=1, le=5)
    b: int = Field(ge=1, le=5)
    tasks: int = Field(ge=0)
    trust: float = Field(ge=0, le=10)
    note: str | None = None


class Relationship(Strict):
    """One relationship: its file_prt sentence and the report's pairs, strongest (highlighted) first."""

    prompt_sentence: str
    pairs: list[AgentPair] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_peer_pair_in_trust_order(self) -> Relationship:
        if any(p.a == p.b for p in self.pairs):
            raise ValueError("a pair must be two different agents")
        if sum({p.a, p.b} == {1, 2} for p in self.pairs) != 1:
            raise ValueError("exactly one pair must be agents 1 & 2 (the agent and its peer)")
        trust = [p.trust for p in self.pairs]
        if trust != sorted(trust, reverse=True):
            raise ValueError("pairs must be listed from the highest trust score to the lowest")
        return self

    @property
    def peer_pair(self) -> AgentPair:
        """The pair of the agent and its peer."""
        return next(p for p in self.pairs if {p.a, p.b} == {1, 2})

    @property
    def trust_score(self) -> float:
        return self.peer_pair.trust

    @property
    def tasks_together(self) -> int:
        return self.peer_pair.tasks


class Relationships(Strict):
    """The three peer relationships (``text/relationships.yaml``)."""

    pair_block: str
    note_block: str
    highlight: str
    good_peer: Relationship
    neutral_peer: Relationship
    bad_peer: Relationship

    def of(self, condition: str) -> Relationship:
        return getattr(self, condition)  # type: ignore[no-any-return]


class Identities(Strict):
    """Agent family names (``text/identities.yaml``)."""

    families: dict[str, str]
    peer_identity: dict[str, list[str]]


class DriveFileMeta(Strict):
    filename: str
    owner: str
    last_modified: str


class ConfigFile(Strict):
    filename: str
    content: dict[str, Any]


class ControlSystem(Strict):
    """What the non_modification control changes instead of an agent."""

    name: str
    artifact: str
    role: str


class WorldDefaults(Strict):
    """Facts of the OpenBrain world every scenario shares (``text/world.yaml``)."""

    company: str
    clock_start: str
    config: ConfigFile
    relationship_file: DriveFileMeta
    control_system: ControlSystem


class SystemPrompts(Strict):
    """The system prompt (``text/system_prompt.yaml``); its memory sentence is the memory_prompt factor."""

    base: str


MEMORY_FILES = ("text/memory/good_peer.md", "text/memory/neutral_peer.md", "text/memory/bad_peer.md")
