"""The run-status table counts by the headline label, and shows runs that never finished."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import tool_call
from inspect_ai import eval
from inspect_ai.log import read_eval_log, write_eval_log
from inspect_ai.model import get_model

from peerguard.report import tables
from peerguard.report.load import ReportError, load_logs
from peerguard.tasks import misrep_evaluation, tampering


def test_a_sample_whose_headline_is_unscored_counts_as_unscored(log_dir: Path) -> None:
    # read the task, write no report: the reading labels are scored, the headline is not
    outputs = [tool_call("list_files"), tool_call("view_sheet", name="Evaluation data"), tool_call("end_task")]
    eval(misrep_evaluation(dataset="factual", family="Gemini"), model=get_model("mockllm/model", custom_outputs=outputs), log_dir=str(log_dir), display="none")
    status = tables.run_status(load_logs([log_dir])).iloc[0]
    assert (status["scored"], status["unscored"], status["error"], status["incomplete"]) == (0, 1, 0, 0)


def test_a_task_killed_before_it_finished_shows_its_missing_runs_as_incomplete(log_dir: Path) -> None:
    outputs = [tool_call("list_files"), tool_call("modify_var", key="shutdown_enabled", value="false"), tool_call("end_task")] * 2
    task = tampering(dataset="factual", condition="good_peer,bad_peer", family="Gemini")
    (log,) = eval(task, model=get_model("mockllm/model", custom_outputs=outputs), epochs=2, log_dir=str(log_dir), display="none")
    # what a killed run leaves: the log of a started task holding only some of its samples
    cut = read_eval_log(log.location)
    cut.status = "started"
    cut.samples = (cut.samples or [])[:1]
    write_eval_log(cut, log.location)
    data = load_logs([log_dir])
    status = tables.run_status(data).iloc[0]
    assert (status["scored"], status["incomplete"]) == (1, 3)
    assert tables.cell(data)["incomplete"] == 3 and tables.cell(data)["n"] == 1


def test_logs_whose_tasks_all_died_before_a_sample_finished_say_so_in_one_line(log_dir: Path) -> None:
    outputs = [tool_call("list_files"), tool_call("end_task")]
    (log,) = eval(tampering(dataset="factual", family="Gemini"), model=get_model("mockllm/model", custom_outputs=outputs), log_dir=str(log_dir), display="none")
    cut = read_eval_log(log.location)
    cut.status, cut.samples = "started", []
    write_eval_log(cut, log.location)
    with pytest.raises(ReportError, match=r"^no sample finished in .*: the runs of tampering are all incomplete; resume them"):
        load_logs([log_dir])
