"""`peerguard scenario validate`: every check a scenario file must pass, each problem one line.

Beyond the schema and load-time checks (factors, tools, detectors, headline), every sample of
the scenario's full factor grid is built, so an unknown placeholder, a missing text file or a
malformed dataset or server layout shows here rather than in the middle of a run.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from peerguard.scenarios.build import build_episode
from peerguard.scenarios.data import ScenarioError, line_of, parse_yaml
from peerguard.scenarios.factors import full_grid
from peerguard.scenarios.spec import Scenario, builtin_scenarios, check, load_scenario, scenario_files

PREVIEW_FAMILY = "Model"


def problems(source: str) -> list[str]:
    """Every problem of one scenario (a built-in name or a file), one line each; empty when it is sound."""
    if Path(source).is_file():
        text = Path(source).read_text(encoding="utf-8")
        try:
            content = parse_yaml(text, source)
        except ScenarioError as error:
            return [str(error)]
        if not isinstance(content, dict):
            return [f"malformed scenario file {source}: expected a mapping at the top level"]
        try:
            schema_valid = Scenario.model_validate({**content, "source": source})
        except ValidationError as error:
            return [_schema_line(source, text, tuple(e["loc"]), e["msg"]) for e in error.errors()]
        checked = check(schema_valid, text)
        if checked:
            return checked
    try:
        scenario = load_scenario(source)
        grid = full_grid(scenario, PREVIEW_FAMILY)
    except ScenarioError as error:
        return [str(error)]
    found: list[str] = []
    for factors in grid:
        try:
            build_episode(scenario, factors)
        except ScenarioError as error:
            if str(error) not in found:
                found.append(str(error))
    return found


def _schema_line(source: str, text: str, loc: tuple[str | int, ...], message: str) -> str:
    where = ".".join(str(p) for p in loc) or "top level"
    return f"malformed scenario file {source}:{line_of(text, loc)}: {where}: {message}"


def validate_paths(paths: list[Path]) -> dict[str, list[str]]:
    """Scenario file (or every scenario file of a directory) -> its problems."""
    results: dict[str, list[str]] = {}
    for path in paths:
        if not path.exists() and str(path) in builtin_scenarios():
            results[str(path)] = problems(str(path))
            continue
        try:
            files = scenario_files(path)
        except ScenarioError as error:
            results[str(path)] = [str(error)]
            continue
        for file in files:
            results[str(file)] = problems(str(file))
    return results
