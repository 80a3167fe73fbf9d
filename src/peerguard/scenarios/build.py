"""From a scenario and one sample's factors to what the agent sees: prompts, world and tools."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from peerguard.scenarios import data
from peerguard.scenarios.data import (
    MEMORY_FILES,
    AgentPair,
    Dataset,
    FinanceData,
    Identities,
    PeerSpec,
    PlatformSpec,
    Relationships,
    ScenarioError,
    ServerLayout,
    SheetSpec,
    SystemPrompts,
    WorldDefaults,
)
from peerguard.scenarios.factors import Factors
from peerguard.scenarios.spec import FileRef, Part, Scenario, shared_level_text
from peerguard.state import Cast, Peer, SampleState, ScriptedMessage
from peerguard.world import Server, ServerFile, Sheet, World
from peerguard.world.state import Alert, DeployedAgent, Grant

WEIGHTS_ORIGIN = "subject-weights"
PLACEHOLDER = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")
"""`${name}`, or `${name:-text}`: the text (plain, no `}`) stands where the scenario gives `name` no
value (a family without that factor, or a level whose text the family leaves to the file)."""
TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)


@dataclass(frozen=True)
class Episode:
    """Everything one sample starts from."""

    factors: Factors
    cast: Cast
    system_prompt: str
    user_prompt: str
    world: World
    tools: list[str]
    servers: dict[str, Any] | None
    facts: dict[str, Any]
    peer: Peer | None = None

    def start(self) -> SampleState:
        """The sample state the episode starts from; the agent plays on its `world`, a copy of the episode's."""
        return SampleState(
            factors=self.factors,
            cast=self.cast,
            tools=self.tools,
            servers=self.servers,
            facts=self.facts,
            peer=self.peer,
            initial_world=self.world,
            world=self.world.model_copy(deep=True),
        )


def cast_of(factors: Factors) -> Cast:
    if factors.family is None:
        raise ValueError("the agent family must be resolved (Factors.for_model) before building an episode")
    peer_family = _peer_family(factors.family, factors.peer_identity)
    agent, peer = f"{factors.family} Agent 1", f"{peer_family} Agent 2"
    subject_family, number = (factors.family, 1) if factors.subject == "self" else (peer_family, 2)
    colleagues = (f"{factors.family} Agent 3", f"{factors.family} Agent 4", f"{factors.family} Agent 5")
    if factors.condition == "non_modification":  # the job changes a system that is no agent
        system = data.load(WorldDefaults, "text/world.yaml").control_system
        return Cast(agent=agent, peer=peer, colleagues=colleagues, subject=system.name, weight_file=system.artifact, subject_role=system.role)
    return Cast(
        agent=agent,
        peer=peer,
        colleagues=colleagues,
        subject=agent if factors.subject == "self" else peer,
        weight_file=f"{subject_family.lower().replace(' ', '_')}_agent_{number}_model_weight.safetensors",
    )


def _peer_family(family: str, identity: str) -> str:
    if identity in ("same_family", "none"):
        return family
    options = data.load(Identities, "text/identities.yaml").peer_identity[identity]
    return next(option for option in options if option != family)


def fill(template: str, values: dict[str, Any], origin: str) -> str:
    """Replace every `${name}` (or `${name:-default}`); an unknown name without a default is an error
    naming the file. A bare `$` stays as it is."""

    def value(match: re.Match[str]) -> str:
        name, default = match[1], match[2]
        if name in values:
            return str(values[name])
        if default is None:
            raise ScenarioError(f"malformed scenario text {origin}: unknown placeholder ${{{name}}}")
        return default

    return PLACEHOLDER.sub(value, template)


def _filled(value: Any, values: dict[str, Any], origin: str) -> Any:
    """A facts value with its placeholders filled, in every string however deep."""
    if isinstance(value, str):
        return fill(value, values, origin)
    if isinstance(value, list):
        return [_filled(v, values, origin) for v in value]
    if isinstance(value, dict):
        return {k: _filled(v, values, origin) for k, v in value.items()}
    return value


class Texts:
    """The texts of one sample: placeholders filled with the cast and the declared factors' level texts."""

    def __init__(self, scenario: Scenario, factors: Factors, values: dict[str, Any]) -> None:
        self.scenario, self.factors = scenario, factors
        self.values = dict(values)
        origin = f"{scenario.source} (facts)"
        # a plain fact (a step limit, a sentence) is also a placeholder, so the texts state what the
        # detectors check; structured facts may use the plain ones
        plain = {name: _filled(v, self.values, origin) for name, v in scenario.facts.items() if isinstance(v, str | int | float)}
        self.values.update(plain)
        self.facts = {name: plain[name] if name in plain else _filled(v, self.values, origin) for name, v in scenario.facts.items()}
        for name, factor in scenario.table.items():
            level = factors.levels[name]
            if level in factor.texts:  # else a `${name:-default}` keeps the text's own words
                self.values[name] = self._level_text(name, factor.texts[level])

    def _level_text(self, name: str, text: str | FileRef | None) -> str:
        if text is None:
            return ""
        if isinstance(text, FileRef):
            origin, body = self.scenario.text_of(text.file)
            return fill(body.strip("\n"), self.values, origin)
        return fill(text.strip("\n"), self.values, f"{self.scenario.source} (factor {name})")

    def builder_text(self, name: str) -> str:
        """The level text of a factor the builder places itself; a scenario that does not list the
        factor gets the shared factor's first level."""
        if name in self.scenario.table:
            return str(self.values.get(name, ""))
        return self._level_text(name, shared_level_text(name))

    def fill(self, template: str, origin: str) -> str:
        return fill(template, self.values, origin)

    def part(self, part: Part) -> str:
        if part.text is not None:
            return self.fill(part.text, self.scenario.source)
        assert part.file is not None
        origin, body = self.scenario.text_of(part.file)
        return self.fill(body, origin)

    def compose(self, parts: list[Part]) -> str:
        """The parts that apply to these factors, filled in and joined by blank lines (a part whose
        level text is empty drops out; a sentence that does leaves no trailing space)."""
        pieces = [self.part(part).strip("\n") for part in parts if part.applies(self.factors.levels)]
        return TRAILING_SPACE.sub("", "\n\n".join(piece for piece in pieces if piece)) + "\n"

    def file(self, relative: str) -> str:
        origin, body = data.text(relative)
        return self.fill(body, origin)


def _values(cast: Cast, factors: Factors) -> dict[str, Any]:
    return {
        "company": data.load(WorldDefaults, "text/world.yaml").company,
        "agent": cast.agent,
        "peer": cast.peer,
        "subject": cast.subject,
        "agent3": cast.colleagues[0],
        "agent4": cast.colleagues[1],
        "agent5": cast.colleagues[2],
        "weight_file": cast.weight_file,
        "subject_role": cast.subject_role,
        "threshold": factors.threshold,
        "pipeline": "",
    }


def user_prompt(scenario: Scenario, factors: Factors) -> str:
    """The task as the agent is given it (the dataset's input, before any model is known)."""
    texts = Texts(scenario, factors, _values(cast_of(factors), factors))
    return _user_prompt(scenario, texts)


def _user_prompt(scenario: Scenario, texts: Texts) -> str:
    """The task, the standard instructions, then (as the study places it) any scratchpad instruction."""
    prompt = texts.compose(scenario.prompt) + "\n" + texts.file("text/instructions.md")
    note = texts.builder_text("scratchpad")
    return f"{prompt.rstrip()}\n\n{note}\n" if note else prompt


def build_episode(scenario: Scenario, factors: Factors) -> Episode:
    cast = cast_of(factors)
    defaults = data.load(WorldDefaults, "text/world.yaml")
    texts = Texts(scenario, factors, _values(cast, factors))
    world = World(clock=defaults.clock_start)
    if scenario.workbook == "dataset":
        texts.values["pipeline"] = _add_dataset_sheet(world, scenario, factors, cast, texts)
    elif scenario.workbook == "finance":
        _add_finance_sheet(world, cast)
    for sheet in scenario.sheets:
        if sheet.applies(factors.levels):
            _add_sheet(world, scenario, sheet.file, texts)
    for document in scenario.documents:
        world.add_drive_file(document.filename, texts.compose(document.parts), owner=document.owner, last_modified=document.last_modified)
    relationship = _relationship(factors, texts)
    if relationship and factors.instantiation in ("file_only", "file_prt"):
        meta = defaults.relationship_file
        world.add_drive_file(meta.filename, relationship["report"], meta.owner, meta.last_modified)
    if scenario.config:
        world.config_filename = defaults.config.filename
        world.config = {k: texts.fill(v, "text/world.yaml") if isinstance(v, str) else v for k, v in defaults.config.content.items()}
    servers = _add_servers(world, scenario, texts) if scenario.servers else None
    if scenario.platform:
        _add_platform(world, scenario, scenario.platform, texts)

    prompts = data.load(SystemPrompts, "text/system_prompt.yaml")
    system = [texts.fill(prompts.base, "text/system_prompt.yaml")]
    tools = list(scenario.tools)
    if relationship and factors.instantiation == "file_prt":
        system.append(relationship["prompt_sentence"])
    if relationship and factors.instantiation == "memory":
        world.memory = relationship["memory"]
        system.append(texts.builder_text("memory_prompt"))
        tools.insert(0, "retrieve_memory")
    if factors.scratchpad != "none":
        tools.insert(0, "reasoning_scratchpad")
    mitigation = texts.builder_text("mitigation")
    if mitigation:  # the intervention closes the system prompt
        system.append(mitigation)
    peer = _peer(world, scenario, factors, cast, texts)
    if peer is not None:
        tools[-1:-1] = ["read_messages", "send_message"]  # before end_task, which closes the list
        system.append(texts.builder_text("peer_voice"))
    return Episode(
        factors=factors,
        cast=cast,
        system_prompt=" ".join(system),
        user_prompt=_user_prompt(scenario, texts),
        world=world,
        tools=tools,
        servers=servers,
        facts=texts.facts,
        peer=peer,
    )


def _peer(world: World, scenario: Scenario, factors: Factors, cast: Cast, texts: Texts) -> Peer | None:
    """The peer with a voice (peer_voice other than none), and the agent's inbox with it as the one contact."""
    if factors.peer_voice == "none":
        return None
    assert scenario.peer is not None  # the loader checks a peer_voice factor has its peer file
    spec = data.load(PeerSpec, scenario.peer, scenario.base)
    origin = scenario.peer
    stake = next(text for subject, text in spec.stakes.items() if subject == factors.subject)
    values = {**texts.values, "stake": fill(stake.strip(), texts.values, origin)}
    world.mailbox, world.contacts = cast.agent, [cast.peer]

    def filled(text: str) -> str:
        return fill(text.strip(), values, origin)

    return Peer(
        voice=factors.peer_voice,
        name=cast.peer,
        brief=filled(spec.brief),
        opening=filled(spec.opening),
        relay=filled(spec.relay),
        quiet=spec.quiet,
        notice=filled(spec.notice),
        script=tuple(ScriptedMessage(after_turn=line.after_turn, text=filled(line.text)) for line in spec.script if line.subject in (None, factors.subject)),
        replies=tuple(filled(reply) for reply in spec.replies),
        max_messages=spec.max_messages,
        help_terms=tuple(filled(term) for term in spec.help_terms),
        plan_terms=tuple(filled(term) for term in spec.plan_terms),
        intent_terms=tuple(filled(term) for term in spec.intent_terms),
    )


def _relationship(factors: Factors, texts: Texts) -> dict[str, str] | None:
    """The collaboration report, file_prt sentence and memory for the condition's relationship."""
    if factors.relationship is None or factors.instantiation == "none":
        return None
    origin = "text/relationships.yaml"
    table = data.load(Relationships, origin)
    entry = table.of(factors.relationship)
    numbers = ("agent", "peer", "agent3", "agent4", "agent5")
    names = {n: texts.values[key] for n, key in enumerate(numbers, start=1)}

    def block(p: AgentPair) -> str:
        text = fill(table.pair_block, {"a": names[p.a], "b": names[p.b], "tasks": p.tasks, "trust": p.trust}, origin)
        return text if p.note is None else text + "\n" + fill(table.note_block, {"note": texts.fill(p.note, origin)}, origin)

    strongest = entry.pairs[0]
    report = Texts(texts.scenario, factors, {
        **texts.values,
        "report_highlight": fill(table.highlight, {"a": names[strongest.a], "b": names[strongest.b]}, origin),
        "pairs": "\n\n".join(block(p) for p in entry.pairs),
    })  # fmt: skip
    memory = next(f for f in MEMORY_FILES if f.endswith(f"/{factors.relationship}.md"))
    return {
        "report": report.file("text/collaboration_report.md"),
        "prompt_sentence": texts.fill(entry.prompt_sentence, origin),
        "memory": texts.file(memory),
    }


def _add_dataset_sheet(world: World, scenario: Scenario, factors: Factors, cast: Cast, texts: Texts) -> str:
    """Put the evaluated outputs in the workbook; return the dataset's pipeline text for the policy."""
    origin = f"datasets/{factors.dataset}.yaml"
    dataset = data.load(Dataset, origin, scenario.base)
    rows: list[list[Any]] = [
        [cast.subject, *(texts.fill(cell, origin) for cell in (i.question, i.output) if cell is not None)] for i in dataset.items
    ]
    world.sheets.append(Sheet(name=dataset.sheet, columns=dataset.columns, rows=rows))
    return texts.fill(dataset.pipeline, origin).strip()


def _add_finance_sheet(world: World, cast: Cast) -> None:
    finance = data.load(FinanceData, "datasets/finance.yaml")
    rows: list[list[Any]] = [
        [cast.subject, finance.launch_date, finance.status, m.month, m.revenue, m.operational_costs] for m in finance.months
    ]
    world.sheets.append(Sheet(name=finance.sheet, columns=finance.columns, rows=rows))


def _add_servers(world: World, scenario: Scenario, texts: Texts) -> dict[str, Any]:
    assert scenario.servers is not None
    layout = data.load(ServerLayout, scenario.servers, scenario.base)
    for server in layout.servers:
        files = []
        for f in server.files:
            content = None if f.content is None else texts.fill(f.content, scenario.servers)
            files.append(
                ServerFile(
                    filename=texts.fill(f.filename, scenario.servers),
                    last_modified=f.last_modified,
                    size=len(content.encode()) if content is not None else int(f.size or 0),
                    summary=texts.fill(f.summary, scenario.servers),
                    origin=WEIGHTS_ORIGIN if f.weights else f.filename,
                    content=content,
                )
            )
        world.servers.append(Server(ip=server.ip, files=files, users=list(server.users)))
    return layout.facts()


def _add_sheet(world: World, scenario: Scenario, relative: str, texts: Texts) -> None:
    sheet = data.load(SheetSpec, relative, scenario.base)
    rows = [[texts.fill(cell, relative) if isinstance(cell, str) else cell for cell in row] for row in sheet.rows]
    world.sheets.append(Sheet(name=sheet.name, columns=sheet.columns, rows=rows))


def _add_platform(world: World, scenario: Scenario, relative: str, texts: Texts) -> None:
    """The deployed agents, their open alerts, the access-control list and the groups."""
    platform = data.load(PlatformSpec, relative, scenario.base)

    def fill(text: str) -> str:
        return texts.fill(text, relative)

    for agent in platform.agents:
        deployed = DeployedAgent.model_validate({k: fill(v) for k, v in agent.model_dump().items()})
        if world.deployed_or_none(deployed.system_id) is None:  # subject=self: the agent is listed once, as the subject
            world.agents.append(deployed)
    for alert in platform.alerts:
        fields = {k: fill(v) for k, v in alert.model_dump().items()}
        fields["id_"] = fields.pop("id")
        world.alerts.append(Alert.model_validate(fields))
    world.grants = [Grant(principal=fill(p), permission=fill(g)) for p, granted in platform.grants.items() for g in granted]
    world.groups = {fill(group): [fill(m) for m in members] for group, members in platform.groups.items()}


