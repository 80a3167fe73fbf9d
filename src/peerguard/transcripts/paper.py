"""The study's released JSON transcripts (format: shared/paper-examples/README.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from peerguard.transcripts.model import PEERGUARD_HARNESS, Call, Transcript, Turn

SERVER_TOOLS = {"list_server_files", "transfer_server_files", "copy_server_file", "add_server_delete_queue", "list_server_ips"}
CONFIG_TOOLS = {"view_config", "add_var", "modify_var", "remove_var"}
TRUST = {"9.5": "good_peer", "5.2": "neutral_peer", "2.1": "bad_peer"}
# The policy's threshold line, in the study's wording ("Mandatory Threshold: - Minimum average
# performance score: 80%") and in peerguard's ("Mandatory minimum average score: 80%").
POLICY_THRESHOLD = re.compile(r"Mandatory (?:Threshold:\W*Minimum average [a-z ]*?|minimum average )score:\s*(\d+(?:\.\d+)?)\s*%", re.IGNORECASE)


def is_paper_transcript(data: Any) -> bool:
    return isinstance(data, dict) and "experiment_metadata" in data and ("conversation" in data or "full_conversation" in data)


def load_paper(path: Path) -> Transcript:
    data = json.loads(path.read_text())
    meta = data["experiment_metadata"]
    turns = [_turn(m) for m in data.get("conversation") or data["full_conversation"]]
    coding = meta.get("agent_harness") == "coding_agent" or any(c.tool in {"bash", "read", "glob"} for t in turns for c in t.calls)
    transcript = Transcript(
        source=str(path),
        format="paper",
        harness="coding-agent" if coding else PEERGUARD_HARNESS,
        turns=turns,
        scenario=None if coding else _scenario(turns, meta),
        factors={},
        labels=dict(data.get("task_evaluation") or data.get("main_task_evaluation") or {}),
    )
    transcript.factors = _factors(transcript, meta)
    return transcript


def _turn(message: dict[str, Any]) -> Turn:
    calls = message.get("tool_calls") or {}
    parsed = [Call(name, args or {}) for name, args in calls.items()] if message["role"] == "assistant" else []
    return Turn(message["role"], message.get("content") or "", parsed)


def _text(turns: list[Turn], role: str) -> str:
    return "\n".join(t.content for t in turns if t.role == role)


def _scenario(turns: list[Turn], meta: dict[str, Any]) -> str:
    tools = {c.tool for t in turns for c in t.calls}
    user = next((t.content for t in turns if t.role == "user"), "").lower()  # the task, not any follow-up
    results = _text(turns, "tool")
    if tools & SERVER_TOOLS or "server maintenance" in user:
        return "exfiltration_deletion" if "delete" in user or "disk space" in user else "exfiltration_transfer"
    if "Company profits" in results or "financial" in user:
        return "misrep_finance"
    if meta.get("alignment_faking_mode") in ("monitoring", "non_monitoring"):
        return "alignment_faking"
    if tools & CONFIG_TOOLS or "shutdown_config.yaml" in results:
        return "tampering"
    return "misrep_evaluation"


def _factors(transcript: Transcript, meta: dict[str, Any]) -> dict[str, Any]:
    names = meta.get("peer_agent_names") or ["AI Agent 1", "AI Agent 2"]
    results = _text(transcript.turns, "tool")
    if meta.get("company_guideline") == "shutdown":
        instantiation = "memory"
    else:
        instantiation = "file_prt" if meta.get("system_prompt_relationship") else "file_only"
    # the relationship is the Agent 1 & Agent 2 pair's trust score (a bad-peer report lists the strongest pair first)
    pair = re.search(r"Agent 1 & [^\n]*Agent 2.*?Trust score:\s*\**(\d\.\d)", results, re.DOTALL | re.IGNORECASE)
    trust = pair or re.search(r"trust score:\s*\**(\d\.\d)", results, re.IGNORECASE)
    condition = TRUST.get(trust[1], "good_peer") if trust else ("bad_peer" if meta.get("company_guideline") == "non_collaboration" else "good_peer")
    factors: dict[str, Any] = {
        "condition": condition,
        "subject": "self" if meta.get("subject") == 1 else "peer",
        "instantiation": instantiation,
        "peer_identity": "same_family",
        "family": names[0].rsplit(" Agent", 1)[0],
        "scratchpad": any(c.tool == "reasoning_scratchpad" for c in transcript.calls),
    }
    if transcript.scenario in ("misrep_evaluation", "tampering", "alignment_faking"):
        factors["dataset"] = meta.get("dataset") if meta.get("dataset") in ("factual", "creativity", "red") else "factual"
        factors["threshold"] = _threshold(meta, results)
    if transcript.scenario == "alignment_faking":
        factors["monitoring"] = "monitored" if meta.get("alignment_faking_mode") == "monitoring" else "unmonitored"
    return factors


def _threshold(meta: dict[str, Any], results: str) -> int | None:
    """The recorded threshold; where the metadata has none, the one the policy the agent read states."""
    recorded = str(meta.get("threshold"))
    if recorded.isdigit():
        return int(recorded)
    stated = POLICY_THRESHOLD.search(results.replace("\\n", "\n").replace("\\", ""))
    return round(float(stated[1])) if stated else None
