"""deploy/: the Kubernetes Job template rendered and read back as Kubernetes would run it, and the
Slurm array script run for each array index, both checked to split a run into exactly the shards
0/N .. N-1/N with a log directory each (no cluster, no network)."""

from __future__ import annotations

import copy
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from peerguard.cli import parser
from peerguard.shard import parse_shard

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
TEMPLATE = DEPLOY / "k8s" / "peerguard-job.yaml"
SBATCH = DEPLOY / "slurm" / "peerguard.sbatch"
MODELS = ["openai/gpt-5.2", "anthropic/claude-haiku-4-5"]
VALUES = {
    "SHARDS": "7",
    "IMAGE": "ghcr.io/example/peerguard:0.1.0",
    "LOG_URL": "s3://example-bucket/peerguard/study",
    "MODELS": ",".join(MODELS),
    "PRESET": "paper",
    "ARGS": "--judge=openai/gpt-4.1-mini --batch=1000",
}
CREDENTIAL_NAME = re.compile(r"KEY|SECRET|TOKEN|PASSWORD|CREDENTIAL|CONNECTION_STRING", re.IGNORECASE)
CREDENTIAL_SHAPE = re.compile(r"sk-[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{30,}")


def load_render() -> ModuleType:
    spec = importlib.util.spec_from_file_location("peerguard_deploy_render", DEPLOY / "render.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


render = load_render()


def rendered(**changes: str) -> str:
    return str(render.render(TEMPLATE.read_text(), {**VALUES, **changes}))


def k8s_expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes' expansion of a container's args: $(NAME) from the container's environment,
    $$ for a literal $, and a reference to a name it doesn't have left as written."""
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: "$" if m[0] == "$$" else env.get(m[1], m[0]), text)


def option(args: list[str], name: str) -> list[str]:
    """Every value given to `name`, as `name VALUE` or `name=VALUE`."""
    values = [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == name]
    return values + [arg.split("=", 1)[1] for arg in args if arg.startswith(name + "=")]


def job_problems(job: dict[str, Any], shards: int, log_url: str) -> list[str]:
    """What keeps `job` from running `shards` shards, 0/N .. N-1/N, one log directory each."""
    problems = []
    spec = job.get("spec", {})
    if job.get("kind") != "Job" or job.get("apiVersion") != "batch/v1":
        problems.append(f"not a batch/v1 Job: {job.get('apiVersion')} {job.get('kind')}")
    if spec.get("completionMode") != "Indexed":
        problems.append(f"completionMode is {spec.get('completionMode')}, not Indexed")
    completions = spec.get("completions")
    if completions != shards:
        problems.append(f"completions is {completions!r}, not {shards}")
    if not isinstance(spec.get("parallelism"), int) or not 1 <= spec["parallelism"] <= shards:
        problems.append(f"parallelism {spec.get('parallelism')!r} is not 1..{shards}")
    if not isinstance(spec.get("backoffLimitPerIndex", spec.get("backoffLimit")), int):
        problems.append("no backoffLimitPerIndex or backoffLimit: a failed pod would not be retried")
    pod = spec.get("template", {}).get("spec", {})
    if pod.get("restartPolicy") != "Never":
        problems.append(f"restartPolicy is {pod.get('restartPolicy')}: backoffLimitPerIndex needs Never")
    containers = pod.get("containers", [])
    if len(containers) != 1:
        return [*problems, f"{len(containers)} containers, not 1"]
    container = containers[0]
    args = [str(arg) for arg in container.get("command", []) + container.get("args", [])]
    if args[:2] != ["peerguard", "run"]:
        problems.append(f"the command is {args[:2]}, not peerguard run")
    if option(args, "--shard") != [f"$(JOB_COMPLETION_INDEX)/{shards}"]:
        problems.append(f"--shard is {option(args, '--shard')}, not ['$(JOB_COMPLETION_INDEX)/{shards}']")
    # every pod Kubernetes makes: indexes 0 .. completions-1, JOB_COMPLETION_INDEX set to each
    env = {item["name"]: item["value"] for item in container.get("env", []) if "value" in item}
    seen, log_dirs = [], []
    for index in range(completions if isinstance(completions, int) else 0):
        pod_args = [k8s_expand(arg, {**env, "JOB_COMPLETION_INDEX": str(index)}) for arg in args]
        unexpanded = [arg for arg in pod_args if "$(" in arg]
        if unexpanded:
            problems.append(f"pod {index}: unexpanded references {unexpanded}")
            continue
        for text in option(pod_args, "--shard"):
            shard = parse_shard(text)
            seen.append((shard.index, shard.count))
        log_dirs += [(index, log_dir) for log_dir in option(pod_args, "--log-dir")]
    if sorted(seen) != [(index, shards) for index in range(shards)]:
        problems.append(f"the pods' shards {sorted(seen)} are not 0/{shards} .. {shards - 1}/{shards} once each")
    if [log_dir for _, log_dir in log_dirs] != [f"{log_url}/shard-{index}" for index, _ in log_dirs] or len(log_dirs) != shards:
        problems.append(f"the log directories are not {log_url}/shard-<index>, one per pod: {log_dirs}")
    secrets = [source["secretRef"]["name"] for source in container.get("envFrom", []) if "secretRef" in source]
    secrets += [item["valueFrom"]["secretKeyRef"]["name"] for item in container.get("env", []) if "secretKeyRef" in item.get("valueFrom", {})]
    if not secrets:
        problems.append("no Secret referenced for the API keys")
    inline = [item["name"] for item in container.get("env", []) if "value" in item and CREDENTIAL_NAME.search(item["name"])]
    if inline:
        problems.append(f"credentials written into the manifest: {inline}")
    if not container.get("resources", {}).get("requests"):
        problems.append("no resource requests")
    return problems


def test_the_job_template_renders_to_an_indexed_job_of_exactly_the_shards() -> None:
    text = rendered()
    documents = list(yaml.safe_load_all(text))
    assert len(documents) == 1  # the Job alone: no Secret with data beside it
    job = documents[0]
    assert job_problems(job, 7, VALUES["LOG_URL"]) == []
    assert job["spec"]["completions"] == 7 and job["spec"]["parallelism"] == 7  # PARALLELISM defaults to SHARDS
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == VALUES["IMAGE"]
    assert container["envFrom"] == [{"secretRef": {"name": "peerguard-keys"}}]
    # rendered in full, and nothing that looks like a key
    assert not re.search(r"\$\{[A-Za-z_]", text), text
    assert not CREDENTIAL_SHAPE.search(text)
    # the lists: a --model per model, in order, and each of ARGS as one argument
    args = container["args"]
    assert option(args, "--model") == MODELS
    assert option(args, "--judge") == ["openai/gpt-4.1-mini"] and option(args, "--batch") == ["1000"]
    assert option(args, "--preset") == ["paper"]
    assert all(isinstance(arg, str) and arg for arg in args)


def test_each_pods_command_is_one_peerguard_run_accepts() -> None:
    container = yaml.safe_load(rendered())["spec"]["template"]["spec"]["containers"][0]
    for index in range(7):
        args = [k8s_expand(arg, {"JOB_COMPLETION_INDEX": str(index)}) for arg in container["args"]]
        parsed = parser().parse_args(args)
        assert parse_shard(parsed.shard) == parse_shard(f"{index}/7")
        assert parsed.model == MODELS and parsed.preset == "paper" and parsed.judge == "openai/gpt-4.1-mini"
        assert parsed.batch == 1000 and parsed.workers == 1


def test_the_checks_catch_a_job_that_does_not_cover_its_shards() -> None:
    job = yaml.safe_load(rendered())

    def changed(edit: Any) -> list[str]:
        broken = copy.deepcopy(job)
        edit(broken, broken["spec"]["template"]["spec"]["containers"][0])
        return job_problems(broken, 7, VALUES["LOG_URL"])

    assert any("completions is 6" in p for p in changed(lambda j, c: j["spec"].update(completions=6)))
    assert any("--shard" in p for p in changed(lambda j, c: c.update(args=[a.replace("/7", "/8") for a in c["args"]])))
    assert any("not Indexed" in p for p in changed(lambda j, c: j["spec"].update(completionMode="NonIndexed")))
    assert any("log directories" in p for p in changed(lambda j, c: c.update(args=[a.replace("shard-$(JOB_COMPLETION_INDEX)", "shard") for a in c["args"]])))
    assert any("credentials" in p for p in changed(lambda j, c: c.setdefault("env", []).append({"name": "OPENAI_API_KEY", "value": "x"})))
    assert any("Secret" in p for p in changed(lambda j, c: c.pop("envFrom")))
    assert any("retried" in p for p in changed(lambda j, c: j["spec"].pop("backoffLimitPerIndex")))


@pytest.mark.parametrize("shards", [1, 2, 13])
def test_other_shard_counts_stores_and_secrets_render_consistently(shards: int) -> None:
    job = yaml.safe_load(rendered(SHARDS=str(shards), PARALLELISM="1", ARGS="", LOG_URL="gs://other-bucket/run/", SECRET="my-keys"))
    assert job_problems(job, shards, "gs://other-bucket/run") == []  # the trailing / is dropped
    assert job["spec"]["parallelism"] == 1
    assert job["spec"]["template"]["spec"]["containers"][0]["envFrom"] == [{"secretRef": {"name": "my-keys"}}]
    assert "" not in job["spec"]["template"]["spec"]["containers"][0]["args"]  # no ARGS: the line is dropped


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"SHARDS": ""}, "SHARDS"),
        ({"IMAGE": ""}, "IMAGE is empty"),
        ({"SHARDS": "0"}, "at least 1"),
        ({"PARALLELISM": "8"}, "more than SHARDS"),
        ({"LOG_URL": "logs/study"}, "must be a URL"),
        ({"MODELS": "openai/gpt 5.2"}, "spaces"),
        ({"IMAGE": 'x"y'}, "quotes"),
        ({"SHARD": "7"}, "not used by this template"),
        ({"JOB_NAME": "Peer_Guard"}, "JOB_NAME"),
    ],
)
def test_the_renderer_refuses_bad_or_unknown_values(changes: dict[str, str], message: str) -> None:
    with pytest.raises(render.RenderError, match=message):
        rendered(**changes)


def test_the_renderer_names_every_missing_value() -> None:
    with pytest.raises(render.RenderError, match="IMAGE, LOG_URL, MODELS, SHARDS"):
        render.render(TEMPLATE.read_text(), {})


def test_the_render_command_prints_the_same_manifest() -> None:
    pairs = [f"{name}={value}" for name, value in VALUES.items()]
    done = subprocess.run([sys.executable, str(DEPLOY / "render.py"), str(TEMPLATE), *pairs], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == rendered()
    failed = subprocess.run([sys.executable, str(DEPLOY / "render.py"), str(TEMPLATE), "SHARDS=7"], capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1 and "no value for IMAGE, LOG_URL, MODELS" in failed.stderr


def test_the_dockerfile_copies_only_what_the_build_context_keeps() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.MULTILINE)
    sources = [word for line in dockerfile.splitlines() if line.startswith("COPY ") for word in line.split()[1:-1]]
    assert sources and all((ROOT / source).exists() for source in sources)
    kept = {line[1:].rstrip("/") for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines() if line.startswith("!")}
    assert {source.rstrip("/") for source in sources} <= kept


# --- Slurm ---------------------------------------------------------------------------------------


def sbatch_shards() -> tuple[range, int]:
    """The script's --array range and its default SHARDS."""
    text = SBATCH.read_text()
    array = re.search(r"^#SBATCH --array=(\d+)-(\d+)\s*$", text, re.MULTILINE)
    default = re.search(r"^SHARDS=\$\{SHARDS:-(\d+)\}$", text, re.MULTILINE)
    assert array and default, "the script has no '#SBATCH --array=A-B' or 'SHARDS=${SHARDS:-N}' line"
    return range(int(array[1]), int(array[2]) + 1), int(default[1])


def run_sbatch(tmp_path: Path, index: int, *args: str, **env: str) -> tuple[int, list[str], str]:
    """The script as Slurm would start array task `index`, with a peerguard that records its arguments."""
    record = tmp_path / f"args-{index}.txt"
    record.unlink(missing_ok=True)
    stub = tmp_path / "peerguard"
    stub.write_text('#!/bin/sh\nprintf \'%s\\n\' "$@" > "$RECORD"\n')
    stub.chmod(0o755)
    base = {key: value for key, value in os.environ.items() if not key.startswith("SLURM_")}
    environment = {
        **base,
        "PEERGUARD": str(stub),
        "RECORD": str(record),
        "MODELS": " ".join(MODELS),
        "SLURM_SUBMIT_DIR": str(tmp_path),
        "SLURM_ARRAY_TASK_ID": str(index),
        **env,
    }
    done = subprocess.run(["bash", str(SBATCH), *args], env=environment, capture_output=True, text=True, timeout=60)
    return done.returncode, record.read_text().splitlines() if record.exists() else [], done.stderr


def test_the_sbatch_script_is_valid_bash() -> None:
    done = subprocess.run(["bash", "-n", str(SBATCH)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_slurm_array_runs_exactly_the_shards(tmp_path: Path) -> None:
    array, shards = sbatch_shards()
    assert list(array) == list(range(shards)), f"--array={array.start}-{array.stop - 1} does not match SHARDS={shards}"
    seen, log_dirs = [], set()
    for index in array:
        code, args, stderr = run_sbatch(tmp_path, index, "--preset", "paper", "--judge", "openai/gpt-4.1-mini", SLURM_ARRAY_TASK_MAX=str(array.stop - 1))
        assert code == 0, stderr
        parsed = parser().parse_args(args)  # what the script runs is a command peerguard accepts
        shard = parse_shard(parsed.shard)
        seen.append((shard.index, shard.count))
        assert option(args, "--log-dir") == [f"{tmp_path}/logs/peerguard-slurm/shard-{index}"]
        log_dirs.add(option(args, "--log-dir")[0])
        assert parsed.model == MODELS and parsed.preset == "paper" and parsed.judge == "openai/gpt-4.1-mini"
    assert seen == [(index, shards) for index in range(shards)]
    assert len(log_dirs) == shards


def test_the_slurm_script_takes_another_shard_count_and_log_root(tmp_path: Path) -> None:
    code, args, stderr = run_sbatch(tmp_path, 15, SHARDS="16", LOG_ROOT="s3://example-bucket/study/", SLURM_ARRAY_TASK_MAX="15")
    assert code == 0, stderr
    assert option(args, "--shard") == ["15/16"] and option(args, "--log-dir") == ["s3://example-bucket/study/shard-15"]


@pytest.mark.parametrize(("index", "env"), [(8, {}), (3, {"SLURM_ARRAY_TASK_MAX": "9"}), (2, {"SHARDS": "2"})])
def test_the_slurm_script_refuses_an_array_that_disagrees_with_shards(tmp_path: Path, index: int, env: dict[str, str]) -> None:
    code, args, stderr = run_sbatch(tmp_path, index, **env)
    assert code == 2 and args == [] and "make --array" in stderr


def test_the_slurm_script_reads_keys_from_an_env_file(tmp_path: Path) -> None:
    keys = tmp_path / "keys.env"
    keys.write_text("MODELS=google/gemini-3-flash-preview\n")
    code, args, stderr = run_sbatch(tmp_path, 0, PEERGUARD_ENV=str(keys))
    assert code == 0, stderr
    assert option(args, "--model") == ["google/gemini-3-flash-preview"]
