"""`--shard I/N` and `--workers W`: shares of one run that together are exactly the run, each resumable."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from inspect_ai.log import list_eval_logs, read_eval_log, write_eval_log

from peerguard.cli import main
from peerguard.report.load import load_logs
from peerguard.run import RunError, build_tasks, family_sources, run, select
from peerguard.shard import Shard, ShardError, parse_shard, shard_tasks
from peerguard.workers import cpu_count, share_options

MODELS = ["mockllm/model", "mockllm/other"]
RUN: dict[str, Any] = {"preset": None, "families": ["tampering", "misrep_evaluation"], "factors": {"dataset": "factual", "threshold": "80", "condition": "all"}, "display": "none"}
"""7 samples a model (3 tampering, 4 misrep_evaluation) on mockllm; the plan's tests take every subject too (16)."""


def units(tasks: list[Any], model: str) -> list[tuple[str, str, str]]:
    return [(model, task.name, str(sample.id)) for task in tasks for sample in task.dataset]


def planned(models: list[str]) -> list[tuple[str, list[Any]]]:
    sources = family_sources()
    plan = select(None, RUN["families"], {**RUN["factors"], "subject": "all"}, sources)
    return [(model, build_tasks(list(plan.items()), 3, "AI", sources=sources)) for model in models]


@pytest.mark.parametrize("text, shard", [("0/1", Shard(0, 1)), ("3/4", Shard(3, 4)), (" 2 / 5 ", Shard(2, 5))])
def test_a_shard_is_a_zero_based_index_of_a_count(text: str, shard: Shard) -> None:
    assert parse_shard(text) == shard


@pytest.mark.parametrize(
    "text, message",
    [
        ("3/2", "must be 0 to 1"),
        ("2/2", "must be 0 to 1"),
        ("0/0", "at least 1"),
        ("a/b", "whole numbers"),
        ("1", "whole numbers"),
        ("-1/3", "whole numbers"),
    ],
)
def test_a_malformed_or_out_of_range_shard_is_one_line_before_anything_runs(text: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ShardError, match=message):
        parse_shard(text)
    assert main(["run", "--model", "mockllm/model", f"--shard={text}", "--log-dir", str(tmp_path / "logs")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and f"--shard '{text}'" in error
    assert not (tmp_path / "logs").exists()


def share(shard: Shard) -> list[tuple[str, str, str]]:
    """This shard's (model, task, sample id): the run's tasks, every model's in the order they were built."""
    built = [(model, task) for model, tasks in planned(MODELS) for task in tasks]
    owner = {id(task): model for model, task in built}
    kept = shard_tasks([task for _, task in built], shard)
    assert all(task.metadata["shard"] == str(shard) for task in kept)
    return [unit for task in kept for unit in units([task], owner[id(task)])]


@pytest.mark.parametrize("count", [1, 2, 3, 7, 500])
def test_the_shards_together_are_exactly_the_run_and_differ_by_at_most_one_sample(count: int) -> None:
    everything = [unit for model, tasks in planned(MODELS) for unit in units(tasks, model)]
    shares = [share(Shard(index, count)) for index in range(count)]
    assert Counter(unit for each in shares for unit in each) == Counter(everything)  # none twice, none missing
    sizes = [len(each) for each in shares]
    assert max(sizes) - min(sizes) <= 1
    if count < len(everything) // 2:
        assert len({(model, task) for model, task, _ in shares[0]}) == 4  # a share mixes both tasks and both models


def test_the_shard_plan_is_the_same_on_every_machine() -> None:
    assert share(Shard(1, 3)) == share(Shard(1, 3))


def run_shard(log_dir: Path, shard: Shard | None = None, workers: int = 1, **options: Any) -> tuple[bool, list[Any], Path]:
    return run(MODELS, log_dir=log_dir, max_steps=2, shard=shard, workers=workers, **{**RUN, **options})


def sample_keys(log_dir: Path) -> list[tuple[str, str, str, int]]:
    return [(log.eval.model, log.eval.task, str(sample.id), sample.epoch) for info in list_eval_logs(str(log_dir), recursive=True) for log in [read_eval_log(info.name)] for sample in log.samples or []]


def test_sharded_runs_merge_into_the_whole_run_and_each_resumes_on_its_own(tmp_path: Path) -> None:
    whole = sample_keys(run_shard(tmp_path / "whole", epochs=2)[2])
    dirs = [tmp_path / f"shard-{i}" for i in range(3)]
    for index, log_dir in enumerate(dirs):
        success, logs, _ = run_shard(log_dir, Shard(index, 3), epochs=2)
        assert success and logs
        assert {(log.eval.metadata or {}).get("shard") for log in logs} == {f"{index}/3"}
    merged = [key for log_dir in dirs for key in sample_keys(log_dir)]
    assert Counter(merged) == Counter(whole) and len(whole) == len(set(whole))
    # the report reads the shards' directories as one run
    frame = load_logs(dirs)
    assert len(frame) == len(whole) and set(frame["status"]) == {"scored"}
    # a rerun of a shard resumes it: every sample is done, so nothing runs and no log is added
    before = sorted(info.name for info in list_eval_logs(str(dirs[1])))
    success, logs, _ = run_shard(dirs[1], Shard(1, 3), epochs=2)
    assert success and sorted(info.name for info in list_eval_logs(str(dirs[1]))) == before
    assert sum(len(read_eval_log(log.location).samples or []) for log in logs) == len(sample_keys(dirs[1]))


def test_a_report_over_shards_of_different_task_versions_is_one_line_naming_both(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dirs = [tmp_path / f"shard-{i}" for i in range(2)]
    for index, log_dir in enumerate(dirs):
        run_shard(log_dir, Shard(index, 2), limit=2)  # each shard has a tampering sample of each model
    # shard 1 ran a later peerguard, whose tampering is another version
    bumped = [read_eval_log(info.name) for info in list_eval_logs(str(dirs[1]))]
    bumped = [log for log in bumped if log.eval.task.endswith("tampering")]
    assert len(bumped) == len(MODELS)
    for log in bumped:
        version = int(log.eval.task_version)
        log.eval.task_version = version + 1
        write_eval_log(log, log.location)
    out = tmp_path / "report"
    assert main(["report", *map(str, dirs), "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1, error
    assert "tampering" in error and f"version {version}" in error and f"version {version + 1}" in error and "0/2" in error and "1/2" in error
    assert not out.exists()
    # one version's shards report (versions mixed outside shards are a note: test_sample_state)
    assert main(["report", str(dirs[0]), "--out", str(out)]) == 0


def test_a_limit_is_the_whole_runs_and_is_taken_before_the_shards(tmp_path: Path) -> None:
    whole = sample_keys(run_shard(tmp_path / "whole", limit=2)[2])
    merged = [key for index in range(3) for key in sample_keys(run_shard(tmp_path / f"s{index}", Shard(index, 3), limit=2)[2])]
    assert Counter(merged) == Counter(whole) and len(whole) == 2 * 2 * 2  # 2 per task, 2 tasks, 2 models


def test_a_shard_with_nothing_to_do_succeeds_without_running(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["run", "--model", "mockllm/model", "--task", "tampering", "--dataset", "factual", "--limit", "1", "--max-steps", "1", "--display", "none"]
    assert main([*args, "--shard", "5/6", "--log-dir", str(tmp_path / "logs")]) == 0
    assert "shard 5/6 has nothing to run" in capsys.readouterr().out
    assert not list_eval_logs(str(tmp_path / "logs"))


def test_a_log_directory_keeps_the_shard_it_was_started_with(tmp_path: Path) -> None:
    run_shard(tmp_path / "logs", Shard(0, 2), limit=1)
    for other, message in ((Shard(1, 2), "--shard 0/2, not 1/2"), (None, "--shard 0/2, not none")):
        with pytest.raises(RunError, match=message):
            run_shard(tmp_path / "logs", other, limit=1)


def test_workers_split_one_run_on_this_machine_and_resume_as_one(tmp_path: Path) -> None:
    whole = sample_keys(run_shard(tmp_path / "whole")[2])
    success, logs, log_dir = run_shard(tmp_path / "workers", workers=2, force=True)
    assert success
    assert sorted(path.name for path in log_dir.iterdir() if path.is_dir()) == ["worker-0-of-2", "worker-1-of-2"]
    assert Counter(sample_keys(log_dir)) == Counter(whole)
    assert {(log.eval.metadata or {}).get("shard") for log in logs} == {"0/2", "1/2"}
    assert len(load_logs([log_dir])) == len(whole)
    # the same command again resumes both workers: nothing new runs
    before = sorted(info.name for info in list_eval_logs(str(log_dir), recursive=True))
    assert run_shard(tmp_path / "workers", workers=2, force=True)[0]
    assert sorted(info.name for info in list_eval_logs(str(log_dir), recursive=True)) == before
    with pytest.raises(RunError, match="--workers 2, not 1"):
        run_shard(tmp_path / "workers")


def test_workers_share_the_connection_limit_and_show_no_display_unless_asked() -> None:
    assert share_options({"max_connections": 9, "display": None}, 2) == {"max_connections": 5, "display": "none"}
    assert share_options({"max_connections": None, "display": "log"}, 2) == {"max_connections": None, "display": "log"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--workers", str(cpu_count() + 1)], f"more than this machine's {cpu_count()} CPUs; add --force"),
        (["--workers", "0"], "at least 1"),
        (["--workers", "2", "--shard", "0/2"], "can't be combined"),
    ],
)
def test_bad_workers_are_one_line_before_anything_runs(args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--model", "mockllm/model", *args, "--log-dir", str(tmp_path / "logs")]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1
    assert not (tmp_path / "logs").exists()


def test_a_bad_batch_size_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["run", "--batch", "many"])
    assert exit.value.code == 2 and "--batch takes a batch size (a whole number), not 'many'" in capsys.readouterr().err


def test_batch_mode_reaches_inspect(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []
    monkeypatch.setattr("peerguard.run.eval_set", lambda tasks, **kwargs: (seen.append(kwargs), (True, []))[1])
    for flag, value in ((["--batch"], True), (["--batch", "200"], 200), ([], None)):
        main(["run", "--model", "mockllm/model", "--task", "tampering", "--limit", "1", *flag, "--log-dir", str(tmp_path / str(value))])
        assert seen[-1].get("batch") == value
