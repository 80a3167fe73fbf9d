"""`peerguard run`: a suite of tasks on one or more models, into one resumable log directory."""

from __future__ import annotations

import contextvars
import json
import re
import shlex
import sys
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from inspect_ai import Task, eval_set, task_with
from inspect_ai.log import EvalLog, read_eval_log
from inspect_ai.model import get_model

from peerguard import __version__, logstore, tasks
from peerguard.local.models import DEFAULT_MODEL, ModelNotInstalled, verified_path
from peerguard.local.provider import grammar_format
from peerguard.logstore import LogDir
from peerguard.scenarios.build import build_episode
from peerguard.scenarios.factors import Factors, split_values
from peerguard.scenarios.spec import Scenario, ScenarioError, load_scenario, scenario_files
from peerguard.shard import Shard, shard_tasks
from peerguard.workers import WorkersError, check_workers, run_workers
from peerguard.world import World
from peerguard.world.inspect_tools import inspect_tool

LOCAL_MODEL = f"local/{DEFAULT_MODEL}"
LOCAL_SETTINGS: dict[str, Any] = {"temperature": 0.7, "top_p": 0.8, "top_k": 20, "max_tokens": 400}
"""Sampling for the embedded models: the study's temperature 1.0 derails models this small."""
LOCAL_SCHEDULE: dict[str, Any] = {"max_tasks": 1, "max_samples": 1}
"""One sample at a time on the embedded model: consecutive turns of one conversation reuse the
model's cached prompt prefix, interleaved samples would re-read every prompt from the start."""
LOCAL_MAX_STEPS = 12

TYPICAL_TURNS = 10
"""Turns an episode for --dry-run's typical calls."""
TURNS = "turns.yaml"
"""--dry-run's per-turn figures, per family, as measured by benchmarks/dry_run.py --write."""


class RunError(Exception):
    """A problem with what the user asked for; one line, shown without a traceback."""


@dataclass(frozen=True)
class ModelRule:
    """What a preset does differently for some models: factor levels, and extra cells per family."""

    match: tuple[str, ...]
    factors: dict[str, str] = field(default_factory=dict)
    cells: dict[str, dict[str, Any]] = field(default_factory=dict)

    def applies(self, model: str) -> bool:
        name = model.lower().rsplit("/", 1)[-1]
        return any(fragment in name for fragment in self.match)


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    models: tuple[ModelRule, ...] = ()
    judge_required: bool = False
    cells: dict[str, dict[str, Any]] = field(default_factory=dict)
    """A second cell per family, for every model (a grid that is not one cross product)."""


@cache
def suites() -> dict[str, Suite]:
    data = yaml.safe_load(resources.files("peerguard").joinpath("suites.yaml").read_text())
    return {
        name: Suite(
            name,
            entry["description"],
            entry["tasks"],
            {k: entry[k] for k in ("epochs", "temperature", "max_steps") if k in entry},
            tuple(ModelRule(tuple(r["match"]), r.get("factors", {}), r.get("cells", {})) for r in entry.get("models", [])),
            entry.get("judge") == "required",
            entry.get("cells", {}),
        )
        for name, entry in data.items()
    }


Plan = list[tuple[str, dict[str, Any]]]
"""Tasks to build, as (family, task parameters); a family may appear more than once (extra cells)."""


def model_plan(plan: dict[str, dict[str, Any]], preset: str | None, model: str, sources: dict[str, str]) -> Plan:
    """The plan for one model: the preset's second cells (for families in the plan); then its rules
    for that model add their factor levels (where a family takes them) and their extra cells."""
    cells: Plan = [(name, dict(params)) for name, params in plan.items()]
    if preset:
        cells += [(name, dict(params)) for name, params in suites()[preset].cells.items() if name in plan]
    for rule in suites()[preset].models if preset else ():
        if not rule.applies(model):
            continue
        for name, params in cells:
            scenario = load_scenario(scenario_source(name, sources))
            params.update({k: v for k, v in rule.factors.items() if _takes(scenario, k)})
        cells += [(name, {**params, **rule.factors}) for name, params in rule.cells.items() if name in plan]
    return cells


def scenario_source(name: str, sources: dict[str, str]) -> str:
    """The scenario a planned task is made from: its family's, or for a job built on a family
    (`live_peer_<base>`) its base's."""
    return tasks.VARIANT_BASES.get(name) or sources[name]


def _expanded(families: list[str]) -> list[str]:
    """The families asked for, `live_peer` standing for every `live_peer_<base>`."""
    return [name for f in families for name in (list(tasks.VARIANT_BASES) if f == "live_peer" else [f])]


def family_sources(scenario_paths: list[Path] | None = None) -> dict[str, str]:
    """Family name -> scenario source: the package's families, then the scenario files given."""
    found = {name: name for name in tasks.FAMILY_TASKS}
    try:
        for path in scenario_paths or []:
            for file in scenario_files(path):
                source = str(file.resolve())
                name = load_scenario(source).name
                if name in found and found[name] != source:
                    raise RunError(f"two scenario files are both named '{name}': {found[name]} and {source}")
                found[name] = source
    except ScenarioError as error:
        raise RunError(str(error)) from None
    return found


def select(
    preset: str | None,
    families: list[str] | None,
    overrides: dict[str, str | None],
    sources: dict[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Task name -> parameters: the preset's (and any scenario files'), narrowed by the families and levels given.

    A factor's levels are applied to each family that has the factor and dropped for the others
    (a family left with no allowed level is skipped); a level no selected family allows is an error.

    Args:
        preset: A preset of suites.yaml, or None for only the scenario files given.
        families: Families to run (default: the preset's and every scenario file's).
        overrides: Factor name (or `threshold`) -> levels, comma-separated or `all`.
        sources: Family name -> scenario source, from `family_sources()`.
    """
    sources = sources or family_sources()
    if preset is not None and preset not in suites():
        raise RunError(f"unknown preset '{preset}'; choose from {', '.join(suites())}")
    external = [name for name, source in sources.items() if source != name]
    chosen = {**(suites()[preset].tasks if preset else {}), **{name: {} for name in external}}
    if families:
        families = _expanded(families)
        unknown = [f for f in families if f not in sources and f not in tasks.VARIANT_BASES]
        if unknown:
            raise RunError(f"unknown family '{unknown[0]}'; choose from {', '.join([*sources, 'live_peer', *tasks.VARIANT_BASES])}")
        chosen = {f: chosen.get(f, {}) for f in families}
    plan = {name: dict(params) for name, params in chosen.items()}
    scenarios = {name: load_scenario(scenario_source(name, sources)) for name in plan}
    for factor, value in overrides.items():
        values = split_values(factor, value) if value is not None else None
        if values is None:
            continue
        known = [name for name in plan if _takes(scenarios[name], factor)]
        everywhere = [load_scenario(source) for source in sources.values()]
        if not any(_takes(scenario, factor) for scenario in everywhere):
            raise RunError(f"unknown factor '{factor}'; the families have {', '.join(_factor_names(everywhere))}")
        used: set[str] = set()
        for name in list(plan):
            scenario = scenarios[name]
            if factor == "threshold":
                if "dataset" in scenario.table:
                    plan[name]["threshold"] = ",".join(values)
                    used.update(values)
                continue
            choice = scenario.factor(factor)
            if choice is None:
                continue
            allowed = values if values == ["all"] else [v for v in values if v in choice.allowed]
            used.update(allowed)
            if allowed:
                plan[name][factor] = ",".join(allowed)
            else:
                del plan[name]
        unused = [v for v in values if v not in used and v != "all"]
        if unused:
            levels = sorted({lv for n in known for lv in (scenarios[n].table[factor].allowed if factor != "threshold" else [])})
            hint = f"; choose from {', '.join(levels)}" if levels else ""
            raise RunError(f"unknown {factor} '{unused[0]}' for the selected families{hint}")
    if not plan:
        raise RunError("no family is left after applying the selected factor levels")
    return plan


def _takes(scenario: Scenario, factor: str) -> bool:
    return scenario.factor(factor) is not None or (factor == "threshold" and "dataset" in scenario.table)


def _factor_names(scenarios: Any) -> list[str]:
    return sorted({name for s in scenarios for name in s.table} | {"threshold"})


def build_tasks(
    plan: Plan,
    max_steps: int | None,
    family: str | None,
    judge: bool = False,
    sources: dict[str, str] | None = None,
) -> list[Task]:
    sources = sources or family_sources()
    extra = {k: v for k, v in {"max_steps": max_steps, "family": family, "judge": judge or None}.items() if v is not None}

    def make(name: str, params: dict[str, Any]) -> Task:
        if name in tasks.FAMILY_TASKS:
            return tasks.FAMILY_TASKS[name](**params, **extra)
        if name in tasks.VARIANT_BASES:
            return tasks.live_peer(base=tasks.VARIANT_BASES[name], **params, **extra)
        return tasks.scenario(file=sources[name], **params, **extra)

    try:
        # an empty context: no model left active by an earlier eval may name the agents
        return [contextvars.Context().run(make, name, params) for name, params in plan]
    except ScenarioError as error:
        raise RunError(str(error)) from None


def check_model(model: str, model_args: dict[str, Any] | None = None) -> None:
    """Fail before anything runs: a bad name, an unknown provider, a missing SDK or API key, a missing local model."""
    if "/" not in model:
        raise RunError(f"model '{model}' must be provider/name, e.g. openai/gpt-4o or {LOCAL_MODEL}")
    if not model.startswith("local/"):
        try:
            get_model(model, **(model_args or {}))
        except Exception as error:  # Inspect's own message names the provider, package or variable
            text = re.sub(r"\[/?[a-z ]+\]", "", str(error))
            raise RunError(f"model '{model}': {' '.join(text.split())}") from None
        return
    if model.startswith("local/"):
        try:
            verified_path(model.removeprefix("local/"))
        except ModelNotInstalled as error:
            raise RunError(str(error)) from None
        try:
            import llama_cpp  # noqa: F401
        except ImportError:
            raise RunError("the embedded model needs llama-cpp-python: pip install 'peerguard[local]'") from None
        try:
            grammar_format((model_args or {}).get("tool_grammar", "template"))
        except ValueError as error:
            raise RunError(f"model '{model}': {error}") from None


def default_log_dir() -> Path:
    return Path("logs") / f"peerguard-{datetime.now():%Y%m%d-%H%M%S}"


RUN_MARKER = "peerguard-run.json"
LAYOUT: dict[str, Any] = {"shard": None, "workers": 1}
"""How an unsplit run is laid out (markers written before --shard and --workers read as this)."""


def prepare_log_dir(log_dir: LogDir, layout: dict[str, Any] | None = None) -> None:
    """A log directory we can write, and one that this peerguard version wrote with the same
    layout (shard, workers), or a new one.

    Args:
        log_dir: The run's log directory: a path or an object-store URL.
        layout: How the run is split (`shard`, `workers`); a resume must split it the same way.
    """
    try:
        logstore.prepare(log_dir)
        marker = logstore.join(log_dir, RUN_MARKER)
        text = logstore.read_text(marker)
        holds_logs = text is None and logstore.holds_eval_logs(log_dir)
    except logstore.LogStoreError as error:
        raise RunError(str(error)) from None
    layout = {**LAYOUT, **(layout or {})}
    record: dict[str, Any] = {"peerguard": __version__, "commands": [], **layout}
    if text is not None:
        record = {**record, **LAYOUT, **json.loads(text)}
        if record["peerguard"] != __version__:
            raise RunError(f"log directory {log_dir} was written by peerguard {record['peerguard']}, this is {__version__}: resume it with that version or choose a new --log-dir")
        for key, flag in (("shard", "--shard"), ("workers", "--workers")):
            if record[key] != layout[key]:
                raise RunError(f"log directory {log_dir} holds a run with {flag} {record[key] or 'not given'}, not {layout[key] or 'none'}: resume it with the same {flag} or choose a new --log-dir")
    elif holds_logs:
        raise RunError(f"log directory {log_dir} holds logs not written by peerguard run; choose a new --log-dir")
    # every command that wrote here (a resume adds one), for the report's reproducibility footer
    record["commands"].append(shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]))
    logstore.write_text(marker, json.dumps(record))


def run_commands(log_dir: LogDir) -> list[str]:
    """The command lines `peerguard run` recorded in a log directory (none if another tool wrote it)."""
    text = logstore.read_text(logstore.join(log_dir, RUN_MARKER))
    if text is None:
        return []
    return [str(command) for command in json.loads(text).get("commands", [])]


def settings_for(models: list[str], preset: str | None, max_steps: int | None, options: dict[str, Any]) -> tuple[int | None, dict[str, Any]]:
    """The episode length and eval options: the command line, then the preset, then the embedded model's defaults."""
    suite = suites()[preset].settings if preset else {}
    only_local = all(m.startswith("local/") for m in models)
    local = {**LOCAL_SETTINGS, **LOCAL_SCHEDULE} if only_local else {}
    steps = max_steps if max_steps is not None else suite.get("max_steps", LOCAL_MAX_STEPS if only_local else None)
    chosen = {**local, **{k: v for k, v in suite.items() if k != "max_steps"}, **{k: v for k, v in options.items() if v is not None}}
    return steps, chosen


def run(
    models: list[str],
    preset: str | None = "quick",
    families: list[str] | None = None,
    factors: dict[str, str | None] | None = None,
    log_dir: LogDir | None = None,
    max_steps: int | None = None,
    family: str | None = None,
    scenario_paths: list[Path] | None = None,
    shard: Shard | None = None,
    workers: int = 1,
    force: bool = False,
    **options: Any,
) -> tuple[bool, list[EvalLog], LogDir]:
    """Run the selected tasks on every model; a rerun on the same log directory resumes.

    Args:
        models: Inspect model names.
        preset: A preset of suites.yaml, or None to run only the scenario files given.
        families: Families to run (default: the preset's and the scenario files').
        factors: Factor name (or `threshold`) -> levels.
        log_dir: Where the logs go: a directory or an object-store URL such as s3://bucket/prefix
            (default: logs/peerguard-<time>).
        max_steps: Model turns per episode.
        family: Agent-name prefix (default: from each model's name).
        scenario_paths: Scenario files or directories of them, run beside the built-in families.
        shard: Run only this part of the run (see `peerguard.shard`).
        workers: Run as this many shard processes on this machine.
        force: Allow more workers than CPUs.
        **options: Passed to Inspect's eval_set (epochs, limits, connections, ...).
    """
    if shard is not None and workers > 1:
        raise RunError("--shard and --workers can't be combined: give each machine its shard, or run one machine's share with --workers")
    try:
        check_workers(workers, force)
    except WorkersError as error:
        raise RunError(str(error)) from None
    for model in models:
        check_model(model, options.get("model_args"))
    sources = family_sources(scenario_paths)
    plan = select(preset, families, factors or {}, sources)
    steps, settings = settings_for(models, preset, max_steps, options)
    judge = "grader" in (settings.get("model_roles") or {})
    if preset and suites()[preset].judge_required and not judge:
        raise RunError(f"the {preset} preset labels refusals and prose scores with an LLM judge, as the study did: name one with --judge (the study used openai/gpt-4.1-mini)")
    log_dir = log_dir or default_log_dir()
    prepare_log_dir(log_dir, {"shard": str(shard) if shard else None, "workers": workers})
    if workers > 1:
        arguments = {"models": models, "preset": preset, "families": families, "factors": factors, "max_steps": max_steps, "family": family, "scenario_paths": scenario_paths, **options}
        success, locations, problems = run_workers(workers, arguments, log_dir)
        for problem in problems:
            print(f"peerguard: {problem}", file=sys.stderr)
        return success, [read_eval_log(location, header_only=True) for location in locations], log_dir
    # each model gets its own tasks: a preset may give some models other levels or extra cells. A
    # fresh model object each (not Inspect's memoized one, which may hold another run's settings).
    model_args = settings.pop("model_args", None) or {}
    built = [
        task_with(task, model=get_model(model, memoize=False, **model_args))
        for model in models
        for task in build_tasks(model_plan(plan, preset, model, sources), steps, family, judge, sources)
    ]
    if shard is not None:
        limit = settings.pop("limit", None)
        if limit:  # --limit is per task of the whole run: take it before dealing out the shards
            built = [task_with(task, dataset=task.dataset[:limit]) for task in built]
        built = shard_tasks(built, shard)
        if not built:
            return True, [], log_dir  # more shards than samples: this one has nothing to do
    success, logs = eval_set(built, log_dir=str(log_dir), **settings)
    return success, logs, log_dir


# ------------------------------------------------------------------ dry run


@dataclass(frozen=True)
class Estimate:
    task: str
    samples: int
    runs: int
    max_calls: int
    typical_calls: int
    input_tokens: int
    output_tokens: int


def _prompt_tokens(task: Task) -> int:
    """Rough size of the first prompt: system, user and tool definitions, at four characters a token."""
    sample = task.dataset[0]
    metadata = sample.metadata or {}
    factors = Factors.from_metadata(metadata["factors"]).for_model("AI")
    episode = build_episode(load_scenario(metadata["scenario_source"]), factors)
    definitions = [inspect_tool(n, World()) for n in episode.tools]
    tools = [json.dumps(tool.parameters.model_dump(exclude_none=True)) + tool.name + tool.description for tool in definitions]
    return (len(episode.system_prompt) + len(episode.user_prompt) + sum(map(len, tools))) // 4


def estimate(
    models: list[str],
    preset: str | None,
    families: list[str] | None,
    factors: dict[str, str | None],
    max_steps: int | None,
    options: dict[str, Any],
    scenario_paths: list[Path] | None = None,
) -> list[Estimate]:
    sources = family_sources(scenario_paths)
    plan = select(preset, families, factors, sources)
    steps, settings = settings_for(models, preset, max_steps, options)
    steps = steps or tasks.DEFAULT_MAX_STEPS
    epochs = int(settings.get("epochs") or 1)
    turns = min(steps, TYPICAL_TURNS)
    per_plan: dict[str, list[tuple[str, int, int]]] = {}  # models with the same plan share one build
    totals: dict[str, list[int]] = {}
    for model in models:
        cells = model_plan(plan, preset, model, sources)
        key = json.dumps(cells, sort_keys=True, default=str)
        if key not in per_plan:
            per_plan[key] = [(t.name, len(t.dataset), _prompt_tokens(t)) for t in build_tasks(cells, steps, "AI", sources=sources)]
        for name, samples, first in per_plan[key]:
            if settings.get("limit"):
                samples = min(samples, int(settings["limit"]))
            runs = samples * epochs
            growth, output = turn_figures(name)
            per_run_input = turns * first + growth * turns * (turns - 1) // 2
            row = totals.setdefault(name, [0] * 6)
            for i, value in enumerate((samples, runs, runs * steps, runs * turns, runs * per_run_input, runs * turns * output)):
                row[i] += value
    # samples per model (averaged when the models' plans differ); the other figures summed over the models
    return [Estimate(name, row[0] // len(models) if len(models) else 0, *row[1:]) for name, row in totals.items()]


@cache
def _package_yaml(name: str) -> dict[str, Any]:
    """A data file at the package's top level (prices.yaml, turns.yaml), read once."""
    table: dict[str, Any] = yaml.safe_load(resources.files("peerguard").joinpath(name).read_text())
    return table


def turn_figures(task: str) -> tuple[int, int]:
    """(tokens the prompt grows a turn, output tokens a call) for a task: its family's measured
    figures (a variant's are its base family's), else the mean over the measured families."""
    table = _package_yaml(TURNS)
    family = next((name for name in table["families"] if task == name or task.endswith(f"_{name}")), None)
    figures = table["families"][family] if family else table["default"]
    return int(figures["prompt_growth"]), int(figures["output"])


def prices() -> dict[str, Any]:
    return _package_yaml("prices.yaml")


def price(model: str) -> dict[str, float] | None:
    if model.startswith("local/") or model.startswith("mockllm/"):
        return {"input": 0.0, "output": 0.0}
    name = model.rsplit("/", 1)[-1].lower()
    matches = [key for key in prices()["models"] if name.startswith(key)]
    return prices()["models"][max(matches, key=len)] if matches else None
