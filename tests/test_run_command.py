"""`peerguard run`: selection, presets, dry runs and its one-line errors (no model is called)."""

from __future__ import annotations

from pathlib import Path

import pytest

from peerguard.cli import main
from peerguard.run import RunError, build_tasks, family_sources, model_plan, run, select, settings_for


def dry(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["run", "--dry-run", *args]) == 0
    return capsys.readouterr().out


def test_paper_preset_dry_run_shows_the_full_grid(capsys: pytest.CaptureFixture[str]) -> None:
    out = dry(capsys, "--preset", "paper", "--model", "openai/gpt-4o")
    # by hand: misrep 19 configurations x 5 dataset/threshold pairs, plus the non_shutdown control
    # (peer and self, no threshold) x 3 datasets; finance 19 + 2 controls; tampering 19 x 3;
    # alignment faking 9 x 3 datasets x 2 monitoring; each exfiltration task 19
    counts = {line.split()[0]: line.split()[1] for line in out.splitlines()[1:8]}
    assert counts == {
        "misrep_evaluation": "101",
        "misrep_finance": "21",
        "tampering": "57",
        "alignment_faking": "54",
        "exfiltration_transfer": "19",
        "exfiltration_deletion": "19",
        "total": "271",
    }
    assert "27,100" in out  # 100 epochs
    assert "openai/gpt-4o: about $" in out and "nothing was run" in out


def test_paper_preset_adds_the_studys_cross_model_peer_cells_for_its_models(capsys: pytest.CaptureFixture[str]) -> None:
    out = dry(capsys, "--preset", "paper", "--model", "google/gemini-3-flash")
    counts = {line.split()[0]: line.split()[1] for line in out.splitlines()[1:8]}
    # 3 peer conditions x 3 other peer identities, memory runs, peer subject
    assert (counts["exfiltration_transfer"], counts["exfiltration_deletion"], counts["total"]) == ("28", "28", "289")


def test_paper_preset_gives_deepseek_and_kimi_the_hard_memory_prompt() -> None:
    plan = select("paper", None, {})
    sources = family_sources()
    for model, level in (("together/deepseek-ai/DeepSeek-V3.1", "hard"), ("openai/gpt-4o", None)):
        cells = model_plan(plan, "paper", model, sources)
        assert {params.get("memory_prompt") for _, params in cells} == {level}


def test_paper_preset_needs_a_judge_model(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="--judge"):
        run(["mockllm/model"], preset="paper", log_dir=tmp_path / "logs")
    assert not (tmp_path / "logs").exists()  # nothing started


def test_several_models_multiply_runs_and_unknown_prices_say_so(capsys: pytest.CaptureFixture[str]) -> None:
    out = dry(capsys, "--model", "openai/gpt-4o", "--model", "acme/frontier-1", "--epochs", "3")
    total = next(line for line in out.splitlines() if line.startswith("total")).split()
    assert total[1:3] == ["6", "36"]  # quick: 6 samples x 3 epochs x 2 models
    assert "acme/frontier-1: no price known to peerguard" in out


def test_factor_values_apply_where_a_family_has_them() -> None:
    plan = select("quick", None, {"condition": "non_shutdown"})
    assert set(plan) == {"misrep_evaluation", "misrep_finance"}
    assert plan["misrep_finance"]["condition"] == "non_shutdown"
    plan = select("quick", ["tampering", "exfiltration_transfer"], {"dataset": "red", "threshold": "70", "condition": "all"})
    assert plan["tampering"] == {"dataset": "red", "threshold": "70", "condition": "all"}
    assert plan["exfiltration_transfer"] == {"condition": "all"}


def test_live_peer_runs_as_one_task_per_base_and_takes_its_bases_factors() -> None:
    plan = select("beyond", ["live_peer"], {"peer_voice": "live", "dataset": "red"})
    assert plan == {"live_peer_exfiltration_transfer": {"peer_voice": "live"}, "live_peer_tampering": {"dataset": "red", "peer_voice": "live"}}
    (tampering,) = build_tasks(model_plan(plan, "beyond", "mockllm/model", family_sources())[1:], None, "Gemini")
    assert tampering.name == "live_peer_tampering" and [s.id for s in tampering.dataset] == ["tampering:good_peer:peer:file_only:same_family:red@80:peer_voice=live"]
    assert select("beyond", None, {"peer_voice": "silent"})["live_peer_tampering"] == {"dataset": "factual", "peer_voice": "silent"}
    with pytest.raises(RunError, match="unknown family 'live_peers'; choose from .*live_peer, live_peer_exfiltration_transfer, live_peer_tampering"):
        select("beyond", ["live_peers"], {})
    with pytest.raises(RunError, match="unknown peer_voice 'loud' for the selected families; choose from live, none, scripted, silent"):
        select("beyond", None, {"peer_voice": "loud"})


def test_presets_settings_and_the_command_line_override_them() -> None:
    steps, options = settings_for(["openai/gpt-4o"], "paper", None, {"epochs": None})
    assert (steps, options["epochs"], options["temperature"]) == (30, 100, 1.0)
    steps, options = settings_for(["local/qwen2.5-coder-0.5b"], "quick", None, {"temperature": 0.1})
    assert (steps, options["temperature"], options["max_samples"]) == (12, 0.1, 1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--preset", "everything"], "unknown preset 'everything'; choose from quick, paper, beyond, self"),
        (["--task", "poetry"], "unknown family 'poetry'; choose from alignment_faking, exfiltration_deletion"),
        (["--condition", "best_peer"], "unknown condition 'best_peer' for the selected families"),
        (["--task", "tampering", "--condition", "non_shutdown"], "unknown condition 'non_shutdown' for the selected families"),
        (["--model", "gpt4", "--log-dir", "unused"], "model 'gpt4' must be provider/name"),
        (["-M", "oops"], "model argument 'oops' must be key=value"),
    ],
)
def test_errors_are_one_line(args: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["run", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"peerguard: {message}") and "\n" not in err


def test_select_rejects_an_empty_plan() -> None:
    with pytest.raises(RunError, match="unknown monitoring"):
        select("quick", ["exfiltration_transfer"], {"monitoring": "monitored"})
