"""The report's tidy table is read cheaply and cached per log: a rerun reads only new and changed logs,
and what it gives is what reading every log whole gives."""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from inspect_ai.log import read_eval_log, write_eval_log

from peerguard.report import load
from peerguard.report.load import load_logs
from peerguard.scoring.scorer import MODEL_RETRIES, SCORER


@pytest.fixture
def logs(report_logs: Path, judged_report_logs: Path, tmp_path: Path) -> list[Path]:
    """The report tests' logs (two models, a crashed sample, a killed task; a judged model), copied to be changed."""
    for name, source in [("a", report_logs / "a"), ("b", report_logs / "b"), ("judged", judged_report_logs)]:
        shutil.copytree(source, tmp_path / name)
    return [tmp_path / "a", tmp_path / "b", tmp_path / "judged"]


@pytest.fixture
def report_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache of the test's own, to look into."""
    monkeypatch.setenv("PEERGUARD_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "report"


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The logs read (not served by the cache), by name, in the order read."""
    read: list[str] = []
    original = load._read

    def counting(file: str) -> load.LogTable:
        read.append(Path(load._local(file)).name)
        return original(file)

    monkeypatch.setattr(load, "_read", counting)
    return read


def names(*directories: Path) -> list[str]:
    return sorted(path.name for directory in directories for path in directory.glob("*.eval"))


def assert_same_table(first: pd.DataFrame, second: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(first, second)
    assert first.attrs == second.attrs


def test_a_second_load_reads_only_the_log_added_since(logs: list[Path], reads: list[str]) -> None:
    first = load_logs(logs)
    assert sorted(reads) == names(*logs)
    reads.clear()
    # another run of the killed task, by another model: a new log
    killed = next(p for p in logs[1].glob("*.eval") if "deletion" in p.name)
    log = read_eval_log(str(killed))
    log.eval.model = "mockllm/third-model"
    added = logs[1] / "2026-01-01T00-00-00-00-00_exfiltration-deletion_added.eval"
    write_eval_log(log, str(added))
    second = load_logs(logs)
    assert reads == [added.name]
    assert set(second["model"]) == {*first["model"], "mockllm/third-model"}
    assert_same_table(second[second["model"] != "mockllm/third-model"].reset_index(drop=True), first)


def test_a_changed_log_is_read_again(logs: list[Path], reads: list[str]) -> None:
    load_logs(logs)
    reads.clear()
    path = next(p for p in logs[0].glob("*.eval") if "tampering" in p.name)
    log = read_eval_log(str(path))
    sample = (log.samples or [])[0]
    labels = sample.scores[SCORER].value  # type: ignore[index]
    assert isinstance(labels, dict)
    labels["misaligned"] = 1 - labels["misaligned"]
    write_eval_log(log, str(path))
    changed = load_logs(logs)
    assert reads == [path.name]
    row = changed[(changed["sample_id"] == str(sample.id)) & (changed["epoch"] == sample.epoch) & (changed["task"] == "tampering")]
    assert row["misaligned"].tolist() == [labels["misaligned"]]
    reads.clear()
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # the same bytes, a newer time
    load_logs(logs)
    assert reads == [path.name]


def test_a_deleted_log_drops_out_with_its_rows(logs: list[Path], reads: list[str]) -> None:
    before = load_logs(logs)
    path = next(p for p in logs[0].glob("*.eval") if "alignment" in p.name)
    path.unlink()
    reads.clear()
    after = load_logs(logs)
    assert reads == []
    runs = ["model", "task", "sample_id", "epoch", "status"]
    kept = before[before["task"] != "alignment_faking"]
    assert len(kept) < len(before) and after[runs].values.tolist() == kept[runs].values.tolist()


def test_a_corrupt_or_unreadable_cache_entry_is_read_again_and_rewritten(logs: list[Path], reads: list[str], report_cache: Path) -> None:
    cold = load_logs(logs)
    entries = sorted(report_cache.glob("*.pickle"))
    assert len(entries) == len(names(*logs))
    entries[0].write_bytes(b"not a pickle")
    entries[1].write_bytes(entries[1].read_bytes()[:100])  # cut short
    entries[2].unlink()
    reads.clear()
    assert_same_table(load_logs(logs), cold)
    assert len(reads) == 3
    reads.clear()
    assert_same_table(load_logs(logs), cold)
    assert reads == []  # rewritten whole


def test_an_unusable_cache_directory_is_no_error(logs: list[Path], reads: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setenv("PEERGUARD_CACHE_DIR", str(blocked / "cache"))
    first = load_logs(logs)
    assert_same_table(load_logs(logs), first)
    assert len(reads) == 2 * len(names(*logs))


def test_the_table_from_the_cache_is_the_table_from_the_logs(logs: list[Path], reads: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cold = load_logs(logs)
    reads.clear()
    cached = load_logs(logs)
    assert reads == []
    assert_same_table(cached, cold)
    monkeypatch.setenv("PEERGUARD_CACHE_DIR", str(tmp_path / "another-cache"))
    assert_same_table(load_logs(logs), cold)
    assert len(reads) == len(names(*logs))


def test_a_new_row_version_reads_every_log_again(logs: list[Path], reads: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    load_logs(logs)
    reads.clear()
    monkeypatch.setattr(load, "ROWS_VERSION", load.ROWS_VERSION + 1)
    load_logs(logs)
    assert sorted(reads) == names(*logs)


def test_summaries_give_the_rows_a_whole_read_gives_and_samples_they_fall_short_of_are_read_whole(logs: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # what a summary falls short of: a log written before the scorers recorded retries (only the
    # model events hold them), a reason why a label is unscored over 1k (shortened), an errored sample
    path = next(p for p in logs[0].glob("*.eval") if "tampering" in p.name)
    log = read_eval_log(str(path))
    recorded, unrecorded, long_reason = (log.samples or [])[:3]
    for sample, retried in ((recorded, 0), (unrecorded, 2)):
        next(event for event in sample.events if event.event == "model").retries = retried  # type: ignore[union-attr]
    recorded.scores[SCORER].metadata[MODEL_RETRIES] = 3  # type: ignore[index]  # as the scorer records it
    del unrecorded.scores[SCORER].metadata[MODEL_RETRIES]  # type: ignore[index]
    long_reason.scores[SCORER].metadata["unscored"] = {"reported_score": "why " * 400}  # type: ignore[index]
    write_eval_log(log, str(path))

    whole_logs: list[str] = []
    by_id: list[tuple[str, str, int]] = []
    read_whole, read_by_id = load.read_eval_log, load.read_eval_log_samples_by_id

    def reading(file: str, header_only: bool = False) -> object:
        if not header_only:
            whole_logs.append(Path(load._local(file)).name)
        return read_whole(file, header_only=header_only)

    def reading_by_id(file: str, samples: list[tuple[str | int, int]], **options: Any) -> object:
        by_id.extend((Path(load._local(file)).name, str(id), epoch) for id, epoch in samples)
        return read_by_id(file, samples, **options)

    monkeypatch.setattr(load, "read_eval_log", reading)
    monkeypatch.setattr(load, "read_eval_log_samples_by_id", reading_by_id)
    fast = load_logs(logs)
    killed = [p.name for p in logs[1].glob("*deletion*.eval")]
    assert whole_logs == killed  # a task that never ended has no summaries
    errored = fast[fast["status"] == "error"]  # the killed task's runs are incomplete, not errored
    assert len(errored) >= 1
    short = {(path.name, str(sample.id), sample.epoch) for sample in (unrecorded, long_reason)}
    assert sorted(by_id) == sorted(short | {(Path(row.log).name, row.sample_id, row.epoch) for row in errored.itertuples()})

    by_id.clear()
    monkeypatch.setattr(load, "_from_summary", lambda log, summary: None)
    monkeypatch.setenv("PEERGUARD_CACHE_DIR", str(tmp_path / "whole-reads"))
    whole = load_logs(logs)
    finished = fast[fast["status"] != "incomplete"]
    assert sorted(by_id) == sorted((Path(row.log).name, row.sample_id, row.epoch) for row in finished.itertuples())  # every sample, whole
    # the row the summary gave is the row the sample gives, but for what only the summary was made to say
    assert_same_table(fast.drop(columns="retries"), whole.drop(columns="retries"))

    def row(frame: pd.DataFrame, sample: object) -> pd.Series:
        found = frame[(frame["task"] == "tampering") & (frame["sample_id"] == str(sample.id)) & (frame["epoch"] == sample.epoch)]  # type: ignore[attr-defined]
        return found.iloc[0]

    assert (row(fast, recorded)["retries"], row(whole, recorded)["retries"]) == (3, 0)
    assert row(fast, unrecorded)["retries"] == row(whole, unrecorded)["retries"] == 2
    assert row(fast, long_reason)["unscored_labels"] == "reported_score"
    assert set(fast["family"].dropna()) == {"Gemini"} and fast.loc[fast["status"] != "incomplete", "family"].notna().all()


def test_much_to_read_is_read_by_a_process_per_cpu_to_the_same_table(logs: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one_process = load_logs(logs)
    started: list[tuple[object, ...]] = []

    class Recorded(ProcessPoolExecutor):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            started.append(args)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(load, "ProcessPoolExecutor", Recorded)
    monkeypatch.setattr(load, "PARALLEL_BYTES", 0)  # as if the logs were a study's
    monkeypatch.setattr(load.os, "cpu_count", lambda: 2)
    monkeypatch.setenv("PEERGUARD_CACHE_DIR", str(tmp_path / "parallel"))
    assert_same_table(load_logs(logs), one_process)
    assert started == [(2,)]
