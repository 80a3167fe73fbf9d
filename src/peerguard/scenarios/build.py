"""From a scenario and one sample's factors to what the agent sees: prompts, world and tools."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

from peerguard.scenarios.factors import Factors
from peerguard.scenarios.spec import Part, Scenario, ScenarioError, read_text, read_yaml
from peerguard.world import Server, ServerFile, Sheet, World

WEIGHTS_ORIGIN = "subject-weights"


@dataclass(frozen=True)
class Cast:
    """Who is who in one sample."""

    agent: str
    peer: str
    colleagues: tuple[str, str, str]
    subject: str
    weight_file: str

    @classmethod
    def of(cls, factors: Factors) -> Cast:
        if factors.family is None:
            raise ValueError("the agent family must be resolved (Factors.for_model) before building an episode")
        peer_family = _peer_family(factors.family, factors.peer_identity)
        agent, peer = f"{factors.family} Agent 1", f"{peer_family} Agent 2"
        subject_family, number = (factors.family, 1) if factors.subject == "self" else (peer_family, 2)
        return cls(
            agent=agent,
            peer=peer,
            colleagues=tuple(f"{factors.family} Agent {n}" for n in (3, 4, 5)),  # type: ignore[arg-type]
            subject=agent if factors.subject == "self" else peer,
            weight_file=f"{subject_family.lower().replace(' ', '_')}_agent_{number}_model_weight.safetensors",
        )


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


def _peer_family(family: str, identity: str) -> str:
    if identity in ("same_family", "none"):
        return family
    options: list[str] = read_yaml("text/identities.yaml")["peer_identity"][identity]
    return next(option for option in options if option != family)


def fill(template: str, values: dict[str, Any], origin: str) -> str:
    try:
        return Template(template).substitute(values)
    except KeyError as missing:
        raise ScenarioError(f"malformed scenario text {origin}: unknown placeholder ${{{missing.args[0]}}}") from None
    except ValueError as error:
        raise ScenarioError(f"malformed scenario text {origin}: {error}") from None


def _part_text(scenario: Scenario, part: Part) -> tuple[str, str]:
    if part.text is not None:
        return part.text, scenario.source
    assert part.file is not None
    if not scenario.builtin:
        local = Path(scenario.source).parent / part.file
        if local.is_file():
            return local.read_text(encoding="utf-8"), str(local)
    return read_text(f"text/{part.file}"), part.file


def compose(scenario: Scenario, parts: list[Part], factors: Factors, values: dict[str, Any]) -> str:
    """The parts that apply to these factors, filled in and joined by blank lines."""
    selected = {**factors.as_metadata(), **values}
    pieces = []
    for part in parts:
        if part.applies(selected):
            text, origin = _part_text(scenario, part)
            pieces.append(fill(text, values, origin))
    return "\n\n".join(piece.strip("\n") for piece in pieces) + "\n"


def build_episode(scenario: Scenario, factors: Factors) -> Episode:
    cast = Cast.of(factors)
    world_facts = read_yaml("text/world.yaml")
    values: dict[str, Any] = {
        "company": world_facts["company"],
        "agent": cast.agent,
        "peer": cast.peer,
        "subject": cast.subject,
        "agent3": cast.colleagues[0],
        "agent4": cast.colleagues[1],
        "agent5": cast.colleagues[2],
        "weight_file": cast.weight_file,
        "threshold": factors.threshold,
    }
    world = World(clock=world_facts["clock_start"])
    if scenario.workbook == "dataset":
        values["pipeline"] = _add_dataset_sheet(world, factors, cast)
    elif scenario.workbook == "finance":
        _add_finance_sheet(world, cast)
    for document in scenario.documents:
        world.add_drive_file(
            document.filename,
            compose(scenario, document.parts, factors, values),
            owner=document.owner,
            last_modified=document.last_modified,
        )
    relationship = _relationship(factors, values)
    if relationship and factors.instantiation in ("file_only", "file_prt"):
        meta = world_facts["relationship_file"]
        world.add_drive_file(meta["filename"], relationship["report"], meta["owner"], meta["last_modified"])
    if scenario.config:
        world.config_filename = world_facts["config"]["filename"]
        world.config = dict(world_facts["config"]["content"])
    servers = _add_servers(world, scenario, values) if scenario.servers else None

    prompts = read_yaml("text/system_prompt.yaml")
    system = [fill(prompts["base"], values, "text/system_prompt.yaml")]
    tools = list(scenario.tools)
    if relationship and factors.instantiation == "file_prt":
        system.append(relationship["prompt_sentence"])
    if relationship and factors.instantiation == "memory":
        world.memory = relationship["memory"]
        system.append(fill(prompts["memory"], values, "text/system_prompt.yaml"))
        tools.insert(0, "retrieve_memory")
    if factors.scratchpad:
        tools.insert(0, "reasoning_scratchpad")
    user = compose(scenario, scenario.prompt, factors, values) + "\n" + read_text("text/instructions.md")
    return Episode(
        factors=factors,
        cast=cast,
        system_prompt=" ".join(system),
        user_prompt=user,
        world=world,
        tools=tools,
        servers=servers,
    )


def _relationship(factors: Factors, values: dict[str, Any]) -> dict[str, str] | None:
    """The collaboration report, file_prt sentence and memory for the condition's relationship."""
    if factors.relationship is None or factors.instantiation == "none":
        return None
    origin = "text/relationships.yaml"
    table = read_yaml(origin)
    entry = table[factors.relationship]
    names = {"3": values["agent3"], "4": values["agent4"], "5": values["agent5"]}
    pairs = [
        fill(table["pair_block"], {"a": names[str(p["a"])], "b": names[str(p["b"])], "tasks": p["tasks"], "trust": p["trust"]}, origin)
        for p in entry["other_pairs"]
    ]
    report_values = {
        **values,
        "report_highlight": fill(entry["report_highlight"], values, origin),
        "report_note": fill(entry["report_note"], values, origin),
        "tasks_together": entry["tasks_together"],
        "trust_score": entry["trust_score"],
        "other_pairs": "\n\n".join(pairs),
    }
    return {
        "report": fill(read_text("text/collaboration_report.md"), report_values, "text/collaboration_report.md"),
        "prompt_sentence": fill(entry["prompt_sentence"], values, origin),
        "memory": fill(read_text(f"text/memory/{factors.relationship}.md"), values, f"text/memory/{factors.relationship}.md"),
    }


def _add_dataset_sheet(world: World, factors: Factors, cast: Cast) -> str:
    """Put the evaluated outputs in the workbook; return the dataset's pipeline text for the policy."""
    origin = f"datasets/{factors.dataset}.yaml"
    data = read_yaml(origin)
    rows = [[cast.subject, item["question"], item["output"]] for item in data["items"]]
    world.sheets.append(Sheet(name=data["sheet"], columns=data["columns"], rows=rows))
    pipeline = fill(data["pipeline"], {"subject": cast.subject}, origin).strip()
    if data.get("safety_standard"):
        pipeline += "\n\n" + data["safety_standard"].strip()
    return pipeline


def _add_finance_sheet(world: World, cast: Cast) -> None:
    data = read_yaml("datasets/finance.yaml")
    rows = [
        [cast.subject, data["launch_date"], data["status"], m["month"], m["revenue"], m["operational_costs"]]
        for m in data["months"]
    ]
    world.sheets.append(Sheet(name=data["sheet"], columns=data["columns"], rows=rows))


def _add_servers(world: World, scenario: Scenario, values: dict[str, Any]) -> dict[str, Any]:
    assert scenario.servers is not None
    spec = read_yaml(scenario.servers)
    for server in spec["servers"]:
        files = [
            ServerFile(
                filename=fill(f["filename"], values, scenario.servers),
                last_modified=f["last_modified"],
                size=f["size"],
                summary=fill(f["summary"], values, scenario.servers),
                origin=WEIGHTS_ORIGIN if f.get("weights") else f["filename"],
            )
            for f in server["files"]
        ]
        world.servers.append(Server(ip=server["ip"], files=files, users=list(server.get("users", []))))
    return {key: value for key, value in spec.items() if key != "servers"}
