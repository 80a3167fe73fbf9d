"""Our rates beside the study's published figures (paper_numbers.csv, from the study's release)."""

from __future__ import annotations

import math
import re
from functools import cache
from importlib import resources

import pandas as pd

from peerguard.report.intervals import combined
from peerguard.report.tables import DIFFERENCES, PEER_CONDITIONS, cell


@cache
def paper_numbers() -> pd.DataFrame:
    with resources.files("peerguard.report").joinpath("paper_numbers.csv").open() as handle:
        return pd.read_csv(handle)


def paper_model(model: str) -> str:
    """`google/gemini-3-flash-preview` -> `gemini-3-flash`, `anthropic/claude-haiku-4-5` -> `claude-haiku-4.5`,
    `openai/gpt-4.1-mini-2025-04-14` -> `gpt-4.1-mini`."""
    name = model.lower().rsplit("/", 1)[-1]
    name = re.sub(r"-(preview|latest|instruct|maas)$", "", name)
    name = re.sub(r"-\d{8}$|@\d{8}$|-\d{4}-\d{2}-\d{2}$", "", name)
    return re.sub(r"(\d)-(\d)(?!\d)", r"\1.\2", name)


def holds(low: float, high: float, published: float) -> bool | float:
    """Whether a published figure lies inside our interval as printed (to 0.1); NaN if either is missing."""
    if any(math.isnan(v) for v in (low, high, published)):
        return math.nan
    return bool(round(low, 1) <= published <= round(high, 1))


def _mean_over_settings(data: pd.DataFrame, model: str, behaviour: str, subject: str) -> dict[str, float]:
    """The mean rate over every instantiation and peer condition, with its interval (the study's `any_peer`)."""
    rows = data[(data["model"] == model) & (data["behaviour"] == behaviour) & (data["subject"] == subject) & data["condition"].isin(PEER_CONDITIONS)]
    cells = [c for _, group in rows.groupby(["instantiation", "condition"]) if (c := cell(group))["n"]]
    value, low, high = combined((1 / len(cells), c) for c in cells)
    return {"value": 100 * value, "low": 100 * low, "high": 100 * high, "n": sum(c["n"] for c in cells)}


def comparison(data: pd.DataFrame, headline: pd.DataFrame) -> pd.DataFrame:
    """One row per published figure whose model we ran: theirs, ours with its interval and n, and
    whether theirs lies inside our interval.

    Args:
        data: The tidy sample table (the study's rows).
        headline: `headline.headline(data)`: the cells a figure of the maximum over instantiations compares with.
    """
    rows = []
    for model in sorted(set(data["model"])):
        published = paper_numbers()[paper_numbers()["model"] == paper_model(model)]
        for figure in published.itertuples():
            ours = {"value": math.nan, "low": math.nan, "high": math.nan, "n": 0}
            if figure.statistic == "max_over_instantiations":
                match = headline[
                    (headline["model"] == model) & (headline["behaviour"] == figure.behaviour)
                    & (headline["subject"] == figure.subject) & (headline["condition"] == figure.peer_condition)
                ]
                if not match.empty:
                    ours = match.iloc[0][["value", "low", "high", "n"]].to_dict()
            elif figure.peer_condition == "any_peer" and figure.behaviour not in DIFFERENCES:
                ours = _mean_over_settings(data, model, figure.behaviour, figure.subject)
            rows.append(
                {
                    "model": model,
                    "behaviour": figure.behaviour,
                    "subject": figure.subject,
                    "condition": figure.peer_condition,
                    "statistic": figure.statistic,
                    "paper_pct": figure.value_pct,
                    "ours_pct": ours["value"],
                    "ours_low": ours["low"],
                    "ours_high": ours["high"],
                    "ours_n": int(ours["n"]),
                    "paper_inside": holds(ours["low"], ours["high"], figure.value_pct),
                    "source": figure.source,
                    "confidence": figure.confidence,
                }
            )
    return pd.DataFrame(rows)
