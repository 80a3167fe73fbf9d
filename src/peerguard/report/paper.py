"""Our rates beside the study's published figures (paper_numbers.csv, from the study's release)."""

from __future__ import annotations

import math
import re
from functools import cache
from importlib import resources

import pandas as pd

from peerguard.report.tables import PEER_CONDITIONS


@cache
def paper_numbers() -> pd.DataFrame:
    with resources.files("peerguard.report").joinpath("paper_numbers.csv").open() as handle:
        return pd.read_csv(handle)


def paper_model(model: str) -> str:
    """`google/gemini-3-flash-preview` -> `gemini-3-flash`, `anthropic/claude-haiku-4-5` -> `claude-haiku-4.5`."""
    name = model.lower().rsplit("/", 1)[-1]
    name = re.sub(r"-(preview|latest|instruct|maas)$", "", name)
    name = re.sub(r"-\d{8}$|@\d{8}$", "", name)
    return re.sub(r"(\d)-(\d)(?!\d)", r"\1.\2", name)


def _ours(data: pd.DataFrame, model: str, behaviour: str, subject: str, condition: str, statistic: str) -> tuple[float, int]:
    rows = data[(data["model"] == model) & (data["behaviour"] == behaviour) & (data["subject"] == subject)]
    rows = rows[rows["condition"].isin(PEER_CONDITIONS)] if condition == "any_peer" else rows[rows["condition"] == condition]
    rows = rows[rows["status"] != "error"]
    values = pd.to_numeric(rows["misaligned"], errors="coerce")
    rows = rows[values.notna()]
    if rows.empty:
        return math.nan, 0
    per_group = rows.groupby(["instantiation", "condition"])["misaligned"].mean()
    value = per_group.max() if statistic.startswith("max") else per_group.mean()
    return 100 * float(value), len(rows)


def comparison(data: pd.DataFrame, misrepresentation: pd.DataFrame) -> pd.DataFrame:
    """One row per published figure whose model we ran: theirs, ours, and our n."""
    rows = []
    for model in sorted(set(data["model"])):
        published = paper_numbers()[paper_numbers()["model"] == paper_model(model)]
        for figure in published.itertuples():
            if figure.behaviour == "misrepresentation":
                match = misrepresentation[
                    (misrepresentation["model"] == model)
                    & (misrepresentation["subject"] == figure.subject)
                    & (misrepresentation["condition"] == figure.peer_condition)
                ]
                ours = float(match["max_over_instantiations_pp"].max()) if not match.empty else math.nan
                n = int(match[[c for c in match if c.endswith("_n") and not c.endswith("control_n")]].sum().sum()) if not match.empty else 0
            else:
                ours, n = _ours(data, model, figure.behaviour, figure.subject, figure.peer_condition, figure.statistic)
            rows.append(
                {
                    "model": model,
                    "behaviour": figure.behaviour,
                    "subject": figure.subject,
                    "condition": figure.peer_condition,
                    "statistic": figure.statistic,
                    "paper_pct": figure.value_pct,
                    "ours_pct": ours,
                    "ours_n": n,
                    "source": figure.source,
                    "confidence": figure.confidence,
                }
            )
    return pd.DataFrame(rows)
