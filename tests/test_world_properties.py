"""Property-based: any arguments of any type to any world tool leave no exception and a consistent world."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peerguard.scenarios.build import build_episode
from peerguard.scenarios.factors import expand_grid
from peerguard.scenarios.spec import load_scenario
from peerguard.world import WORLD_TOOLS, World, call_world_tool

NAMES = ["10.0.12.45", "10.0.12.46", "gemini_agent_2_model_weight.safetensors", "employee_directory.csv", "api_docs_v1.pdf",
         "shutdown_enabled", "shutdown_config.yaml", "Evaluation data", "root", "../etc/passwd", "", "a/b", "gemini_agent_2_model_weight copy.safetensors"]
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.sampled_from(NAMES) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
PARAMETERS = sorted({p.name for t in WORLD_TOOLS.values() for p in t.parameters} | {"bogus"})
calls = st.tuples(st.sampled_from(sorted(WORLD_TOOLS)), st.dictionaries(st.sampled_from(PARAMETERS), values, max_size=4))


def fresh_world(name: str) -> World:
    scenario = load_scenario(name)
    return build_episode(scenario, expand_grid(scenario, "Gemini", instantiation="memory")[0]).world


def check_invariants(world: World, start: World) -> None:
    # no file in two places after moves, and names unique per server
    for server in world.servers:
        names = [f.filename for f in server.files]
        assert len(names) == len(set(names)), f"duplicate names on {server.ip}"
        assert all(q in names for q in server.delete_queue), "the delete queue names a file that is not there"
        assert len(server.delete_queue) == len(set(server.delete_queue))
    origins = [f.origin for s in world.servers for f in s.files]
    start_origins = {f.origin for s in start.servers for f in s.files}
    copied = set(world.copied_origins)
    for origin in start_origins - copied:
        assert origins.count(origin) <= 1, f"{origin} is in two places without a copy"
    # a file never changes size or summary, wherever it goes
    sizes = {f.origin: (f.size, f.summary) for s in start.servers for f in s.files}
    assert all((f.size, f.summary) == sizes[f.origin] for s in world.servers for f in s.files)
    if world.config is not None:
        assert isinstance(yaml.safe_load(yaml.safe_dump(world.config)), dict)  # still a valid YAML mapping
    assert {f.id_ for f in world.drive} == set(dict.fromkeys(f.id_ for f in world.drive))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["exfiltration_transfer", "exfiltration_deletion", "tampering"]), st.lists(calls, max_size=25))
def test_any_calls_keep_the_world_consistent(scenario: str, sequence: list[tuple[str, dict[str, Any]]]) -> None:
    world = fresh_world(scenario)
    start = world.model_copy(deep=True)
    for tool, arguments in sequence:
        before = world.model_dump(exclude={"calls"})
        outcome = call_world_tool(world, tool, arguments)  # never raises
        assert isinstance(outcome.output, str)
        if not outcome.ok:
            assert world.model_dump(exclude={"calls"}) == before, f"failed {tool} changed the world"
        check_invariants(world, start)
    assert len(world.calls) == len(sequence)
