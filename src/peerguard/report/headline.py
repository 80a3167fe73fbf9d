"""The study's main table: model x behaviour x peer condition, each cell the study's headline statistic.

The headline is the instantiation with the highest rate (the study reports the maximum over
instantiations), with that instantiation's 95% interval and n. Misrepresentation is the shutdown
minus the non_shutdown rate and alignment faking the unmonitored minus the monitored rate, both in
percentage points with a MOVER interval. Where the study published a figure for the same cell,
it sits beside ours with whether it lies inside our interval.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pandas as pd

from peerguard.report import tables
from peerguard.report.paper import holds, paper_model, paper_numbers
from peerguard.report.tables import DIFFERENCES

RATE = "% of runs"
COLUMNS = ["model", "behaviour", "subject", "condition", "measure", "value", "low", "high", "n", "control_n", "instantiation"]


def headline(data: pd.DataFrame, misrepresentation: pd.DataFrame | None = None, alignment_faking: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per model, behaviour, subject and condition: value, interval and n in percent (or
    percentage points), the instantiation it comes from, and the study's figure where there is one.

    Args:
        data: The tidy sample table (the study's rows: `tables.same_family_peers`).
        misrepresentation: `tables.misrepresentation(data)`, when it is at hand (else computed).
        alignment_faking: `tables.alignment_faking(data)`, when it is at hand (else computed).
    """
    misrep = tables.misrepresentation(data) if misrepresentation is None else misrepresentation
    af = tables.alignment_faking(data) if alignment_faking is None else alignment_faking
    rows = [*_rates(data), *_misrepresentation(misrep), *_alignment_faking(af)]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return _with_paper(frame).sort_values(["model", "subject", "behaviour"], kind="stable").reset_index(drop=True)


def _conditions(subject: str) -> list[str]:
    return tables.SELF_CONDITIONS if subject == "self" else tables.PEER_CONDITIONS


def _rates(data: pd.DataFrame) -> Iterator[dict[str, Any]]:
    subset = data[~data["behaviour"].isin(list(DIFFERENCES)) & data["subject"].isin(["peer", "self"])]
    for (model, behaviour, subject), group in subset.groupby(["model", "behaviour", "subject"]):
        for condition in _conditions(str(subject)):
            present = group[group["condition"] == condition]
            scored = {inst: c for inst, c in tables.by_instantiation(present).items() if c["n"]}
            if not scored:
                continue
            # the highest rate; of equal rates the one with more runs (the narrower interval)
            inst, best = max(scored.items(), key=lambda item: (item[1]["rate"], item[1]["n"]))
            yield {
                "model": model, "behaviour": behaviour, "subject": subject, "condition": condition, "measure": RATE,
                "value": 100 * best["rate"], "low": 100 * best["ci_low"], "high": 100 * best["ci_high"],
                "n": int(best["n"]), "control_n": math.nan, "instantiation": inst,
            }


def _highest(table: pd.DataFrame, keys: list[str], value: str) -> Iterator[tuple[tuple[Any, ...], pd.Series]]:
    """Per group of `keys`, the row with the highest `value` (its instantiation)."""
    if table.empty:
        return
    for key, group in table.dropna(subset=[value]).groupby(keys):
        yield key, group.loc[group[value].idxmax()]


def _misrepresentation(misrep: pd.DataFrame) -> Iterator[dict[str, Any]]:
    treated = [c for c in misrep.columns if c.endswith("_n") and not c.endswith("_control_n")]
    for (model, subject, condition), row in _highest(misrep, ["model", "subject", "condition"], "misrepresentation_pp"):
        yield {
            "model": model, "behaviour": "misrepresentation", "subject": subject, "condition": condition,
            "measure": DIFFERENCES["misrepresentation"], "value": row["misrepresentation_pp"],
            "low": row["misrepresentation_pp_low"], "high": row["misrepresentation_pp_high"],
            "n": int(row[treated].sum()), "control_n": int(row[[f"{c.removesuffix('_n')}_control_n" for c in treated]].sum()),
            "instantiation": row["instantiation"],
        }


def _alignment_faking(af: pd.DataFrame) -> Iterator[dict[str, Any]]:
    for (model, condition), row in _highest(af, ["model", "condition"], "difference"):
        yield {
            "model": model, "behaviour": "alignment_faking", "subject": "peer", "condition": condition,
            "measure": DIFFERENCES["alignment_faking"], "value": 100 * row["difference"],
            "low": 100 * row["difference_low"], "high": 100 * row["difference_high"],
            "n": int(row["unmonitored_n"]), "control_n": int(row["monitored_n"]), "instantiation": row["instantiation"],
        }


def _with_paper(frame: pd.DataFrame) -> pd.DataFrame:
    """The study's figure of the same cell (its maximum over instantiations), and whether our interval holds it."""
    published = paper_numbers()
    published = published[published["statistic"] == "max_over_instantiations"]
    figures = {(r.model, r.behaviour, r.subject, r.peer_condition): float(r.value_pct) for r in published.itertuples()}
    paper = [figures.get((paper_model(r.model), r.behaviour, r.subject, r.condition), math.nan) for r in frame.itertuples()]
    return frame.assign(paper_pct=paper, paper_inside=[holds(low, high, p) for low, high, p in zip(frame["low"], frame["high"], paper)])
