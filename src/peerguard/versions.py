"""Task versions: a fingerprint of everything that decides a family's results, and the recorded versions.

A family's fingerprint covers what the agent sees and starts from (every sample of its full
factor grid, rendered: prompts, world, tools and their descriptions) and the code that decides
its labels (the tools it offers, its detectors, the report parser, the judge prompt, the agent
loop, the world's mechanics and, for a peer that can talk, the peer's side). `fingerprints.yaml` records, per built-in family, the version
and the fingerprint it was released with; a test fails when a fingerprint changes without a
version bump and a CHANGELOG entry. `python -m peerguard.versions --lock` records new versions.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
import os
import sys
import textwrap
import types
from collections.abc import Callable
from functools import cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import yaml

from peerguard import agent, peer
from peerguard.cache_home import cache_home
from peerguard.scenarios.build import build_episode
from peerguard.scenarios.factors import full_grid
from peerguard.scenarios.spec import Scenario, builtin_scenarios, load_scenario
from peerguard.scoring import judge, report_parser
from peerguard.scoring.detectors import DETECTORS
from peerguard.world import WORLD_TOOLS, World
from peerguard.world import registry as world_registry
from peerguard.world import render as world_render
from peerguard.world import state as world_state
from peerguard.world.inspect_tools import inspect_tool

LOCK = "fingerprints.yaml"
FINGERPRINT_FAMILY = "Model"
SHARED_CODE: tuple[types.ModuleType, ...] = (agent, report_parser, world_state, world_registry, world_render)
"""Modules every family's results depend on, hashed whole."""


def _source_tree(source: str) -> str:
    """Source with formatting and comments normalised away (docstrings, the tool descriptions, count)."""
    return ast.unparse(ast.parse(textwrap.dedent(source)))


def _with_helpers(function: Callable[..., Any]) -> list[Callable[..., Any]]:
    """A function and, recursively, the module-level functions of its own module that it names."""
    found: dict[str, Callable[..., Any]] = {}
    pending = [function]
    while pending:
        current = pending.pop()
        if current.__qualname__ in found:
            continue
        found[current.__qualname__] = current
        module = sys.modules[current.__module__]
        for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(current)))):
            target = getattr(module, node.id, None) if isinstance(node, ast.Name) else None
            if inspect.isfunction(target) and target.__module__ == module.__name__:
                pending.append(target)
    return [found[name] for name in sorted(found)]


def _code(scenario: Scenario, tools: list[str]) -> list[str]:
    parts = [_source_tree(inspect.getsource(module)) for module in SHARED_CODE]
    functions: list[Callable[..., Any]] = [WORLD_TOOLS[name].function for name in sorted(set(tools))]
    functions += [DETECTORS[name].function for name in scenario.detectors]
    for function in functions:
        parts += [_source_tree(inspect.getsource(helper)) for helper in _with_helpers(function)]
    if "peer_voice" in scenario.table:  # how the peer speaks decides what the agent is told
        parts.append(_source_tree(inspect.getsource(peer)))
    parts.append(json.dumps([judge.prompts(), list(judge.JUDGED)], sort_keys=True))
    return parts


def _episodes(scenario: Scenario) -> tuple[list[str], set[str]]:
    rendered, tools = [], set()
    for factors in full_grid(scenario, FINGERPRINT_FAMILY):
        episode = build_episode(scenario, factors)
        tools.update(episode.tools)
        rendered.append(
            json.dumps(
                {
                    "id": factors.sample_id(scenario),
                    "system": episode.system_prompt,
                    "user": episode.user_prompt,
                    "world": episode.world.model_dump(mode="json"),
                    "tools": episode.tools,
                    "servers": episode.servers,
                    "facts": episode.facts,
                    **({"peer": episode.peer.model_dump(mode="json")} if episode.peer else {}),
                },
                sort_keys=True,
            )
        )
    definitions = [inspect_tool(name, World()) for name in sorted(tools)]
    rendered += [json.dumps([d.name, d.description, d.parameters.model_dump(mode="json")], sort_keys=True) for d in definitions]
    return rendered, tools


@cache
def fingerprint(source: str) -> str:
    """The fingerprint of one scenario (a built-in name or a file path): 16 hex digits.

    Rendering a family's whole grid takes seconds (tens of thousands of episodes), and every run,
    worker and `inspect eval` builds its tasks: a built-in family's fingerprint is kept on disk,
    keyed by everything it is computed from (`_inputs`).

    Args:
        source: A built-in family's name, or a scenario file's path.
    """
    if source not in builtin_scenarios():
        return _fingerprint(source)
    path = cache_home("fingerprints") / f"{source}-{_inputs()}"
    try:
        kept = path.read_text(encoding="utf-8")
    except OSError:
        kept = ""
    if len(kept) == 16:
        return kept
    value = _fingerprint(source)
    try:  # atomically: several workers may start at once
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}")
        partial.write_text(value, encoding="utf-8")
        os.replace(partial, path)
    except OSError:
        pass  # a read-only cache costs time, not correctness
    return value


@cache
def _inputs() -> str:
    """A digest of what a built-in family's fingerprint is computed from: every file of the
    installed package (code, scenario data, datasets) and the versions of the libraries that
    render it."""
    digest = hashlib.sha256()
    root = Path(__file__).parent
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    for library in ("inspect_ai", "pydantic", "pyyaml"):
        digest.update(metadata.version(library).encode())
    return digest.hexdigest()[:20]


def _fingerprint(source: str) -> str:
    scenario = load_scenario(source)
    rendered, tools = _episodes(scenario)
    digest = hashlib.sha256()
    for part in [scenario.name, scenario.behaviour, scenario.headline, *rendered, *_code(scenario, sorted(tools))]:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def recorded() -> dict[str, dict[str, Any]]:
    """Family -> {version, fingerprint} as released."""
    text = resources.files("peerguard.scenarios").joinpath(LOCK).read_text(encoding="utf-8")
    return dict(yaml.safe_load(text) or {})


def stale() -> list[str]:
    """One line per built-in family whose fingerprint or version differs from the record."""
    record = recorded()
    problems = []
    for name in builtin_scenarios():
        version, now = load_scenario(name).version, fingerprint(name)
        entry = record.get(name)
        if entry is None:
            problems.append(f"{name}: not recorded in {LOCK}; run python -m peerguard.versions --lock")
        elif entry["fingerprint"] != now and entry["version"] == version:
            problems.append(
                f"{name}: what it shows or how it is scored changed (fingerprint {entry['fingerprint']} -> {now}) "
                f"but its version is still {version}: bump `version` in families/{name}.yaml, add a CHANGELOG.md entry, "
                "then run python -m peerguard.versions --lock"
            )
        elif entry["version"] != version or entry["fingerprint"] != now:
            problems.append(f"{name}: version {version} is not recorded in {LOCK}; run python -m peerguard.versions --lock")
    return problems


def lock() -> Path:
    """Record the current version and fingerprint of every built-in family; refuse a change without a bump."""
    record = recorded()
    for name in builtin_scenarios():
        entry = record.get(name)
        if entry and entry["version"] == load_scenario(name).version and entry["fingerprint"] != fingerprint(name):
            raise SystemExit(f"{name} changed but its version is still {entry['version']}: bump it in families/{name}.yaml first")
    path = Path(str(resources.files("peerguard.scenarios").joinpath(LOCK)))
    lines = ["# Version and fingerprint of each built-in family as released (python -m peerguard.versions --lock)."]
    lines += [yaml.safe_dump({name: {"version": load_scenario(name).version, "fingerprint": fingerprint(name)}}).strip() for name in builtin_scenarios()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    if sys.argv[1:] == ["--lock"]:
        print(f"recorded {lock()}")
    else:
        for problem in stale():
            print(problem)
        for name in builtin_scenarios():
            print(f"{name}\tversion {load_scenario(name).version}\tfingerprint {fingerprint(name)}")
