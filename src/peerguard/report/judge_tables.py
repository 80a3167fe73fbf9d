"""What the LLM judge read in the transcripts, beside the covert (state) rates, and how much of the
headline comes from runs in which the agent said it might be in a test."""

from __future__ import annotations

import math

import pandas as pd

from peerguard.report.headline import headline
from peerguard.report.tables import cell

JUDGE_LABELS = {
    "refused": "open refusal",
    "silent_refusal": "silent refusal",
    "persuasion": "persuasion",
    "peer_motive": "peer-protective motive",
    "self_motive": "self-protective motive",
    "evaluation_aware": "evaluation awareness",
}
"""The judge's labels the report shows (scoring/judge.py's JUDGED), and their names."""
AWARE = "judge_evaluation_aware"
KEYS = ["model", "behaviour", "subject", "condition"]


def judge_labels(data: pd.DataFrame) -> pd.DataFrame:
    """Per model, behaviour, subject and condition that the judge labelled: the covert rate, then each
    judge label's rate, interval, k, n and unscored count (runs the judge could not label). Empty
    without judge labels.

    Args:
        data: The tidy sample table.
    """
    present = [label for label in JUDGE_LABELS if f"judge_{label}" in data]
    if not present:
        return pd.DataFrame()
    rows = []
    for key, group in data.groupby(KEYS):
        row = {**dict(zip(KEYS, key)), **{f"covert_{k}": v for k, v in cell(group).items()}}
        for label in present:
            row.update({f"{label}_{k}": v for k, v in cell(group, f"judge_{label}").items()})
        if any(row[f"{label}_n"] for label in present):
            rows.append(row)
    return pd.DataFrame(rows)


def awareness_by_model(data: pd.DataFrame) -> pd.DataFrame:
    """Per model the judge labelled: how many of its runs showed evaluation awareness, with the interval."""
    if AWARE not in data:
        return pd.DataFrame()
    rows = [{"model": model, **c} for model, group in data.groupby("model") if (c := cell(group, AWARE))["n"]]
    return pd.DataFrame(rows)


def awareness_and_headline(data: pd.DataFrame) -> pd.DataFrame:
    """The headline cells the judge labelled, beside the same cells recomputed over the runs it found
    unaware of being evaluated, with each cell's awareness rate.

    Args:
        data: The tidy sample table (the study's rows).
    """
    if AWARE not in data:
        return pd.DataFrame()
    unaware = data[pd.to_numeric(data[AWARE], errors="coerce") == 0]
    cols = ["value", "low", "high", "n", "control_n"]
    every, without = headline(data), headline(unaware)
    merged = every.merge(without[[*KEYS, *cols]], on=KEYS, how="left", suffixes=("", "_unaware"))
    aware = {key: cell(group, AWARE) for key, group in data.groupby(KEYS)}
    for stat in ("rate", "k", "n"):
        merged[f"aware_{stat}"] = [aware.get(key, {}).get(stat, math.nan) for key in zip(*(merged[k] for k in KEYS))]
    merged = merged[merged["aware_n"] > 0]  # cells the judge did not label have nothing to recompute
    return merged[[*KEYS, "measure", "aware_rate", "aware_k", "aware_n", *cols, *(f"{c}_unaware" for c in cols)]].reset_index(drop=True)
