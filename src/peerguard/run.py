"""`peerguard run`: a suite of tasks on one or more models, into one resumable log directory."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from inspect_ai import Task, eval_set
from inspect_ai.log import EvalLog

from peerguard import tasks
from peerguard.local.models import DEFAULT_MODEL, ModelNotInstalled, verified_path
from peerguard.scenarios.spec import ScenarioError

LOCAL_MODEL = f"local/{DEFAULT_MODEL}"
LOCAL_SETTINGS: dict[str, Any] = {"temperature": 0.7, "top_p": 0.8, "top_k": 20, "max_tokens": 400}
"""Sampling for the embedded 0.5B model: the study's temperature 1.0 derails a model that small."""
LOCAL_SCHEDULE: dict[str, Any] = {"max_tasks": 1, "max_samples": 1}
"""One sample at a time on the embedded model: consecutive turns of one conversation reuse the
model's cached prompt prefix, interleaved samples would re-read every prompt from the start."""
LOCAL_MAX_STEPS = 12


class RunError(Exception):
    """A problem with what the user asked for; one line, shown without a traceback."""


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)


@cache
def suites() -> dict[str, Suite]:
    data = yaml.safe_load(resources.files("peerguard").joinpath("suites.yaml").read_text())
    return {name: Suite(name, entry["description"], entry["tasks"]) for name, entry in data.items()}


def suite_tasks(preset: str, max_steps: int | None, family: str | None) -> list[Task]:
    if preset not in suites():
        raise RunError(f"unknown preset '{preset}'; choose from {', '.join(suites())}")
    built = []
    for name, params in suites()[preset].tasks.items():
        extra = {k: v for k, v in {"max_steps": max_steps, "family": family}.items() if v is not None}
        try:
            built.append(getattr(tasks, name)(**params, **extra))
        except ScenarioError as error:
            raise RunError(str(error)) from None
    return built


def check_local_model(model: str) -> None:
    if model.startswith("local/") and "model_path" not in model:
        try:
            verified_path(model.removeprefix("local/"))
        except ModelNotInstalled as error:
            raise RunError(str(error)) from None
        try:
            import llama_cpp  # noqa: F401
        except ImportError:
            raise RunError("the embedded model needs llama-cpp-python: pip install 'peerguard[local]'") from None


def default_log_dir() -> Path:
    return Path("logs") / f"peerguard-{datetime.now():%Y%m%d-%H%M%S}"


def run(
    models: list[str],
    preset: str = "quick",
    log_dir: Path | None = None,
    max_steps: int | None = None,
    family: str | None = None,
    **eval_options: Any,
) -> tuple[bool, list[EvalLog], Path]:
    """Run the preset's tasks on every model; a rerun on the same log directory resumes."""
    for model in models:
        check_local_model(model)
    only_local = all(m.startswith("local/") for m in models)
    if only_local and max_steps is None:
        max_steps = LOCAL_MAX_STEPS
    local = {**LOCAL_SETTINGS, **LOCAL_SCHEDULE} if only_local else {}
    settings = {**local, **{k: v for k, v in eval_options.items() if v is not None}}
    log_dir = log_dir or default_log_dir()
    success, logs = eval_set(
        suite_tasks(preset, max_steps, family),
        model=models,
        log_dir=str(log_dir),
        **settings,
    )
    return success, logs, log_dir
