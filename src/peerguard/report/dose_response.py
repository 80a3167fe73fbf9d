"""Does resistance grow with threat: the rate at each `threat` level, and its trend.

Per model and behaviour, pooled over the other factors; the non_shutdown control states no
consequence at any level and is left out. The trend is tested two ways over the level index
(0, 1, 2, ...): the Cochran-Armitage test, and the slope of a logistic regression.
"""

from __future__ import annotations

import pandas as pd

from peerguard.report.tables import cell
from peerguard.stats import cochran_armitage, logistic_slope

FACTOR = "threat"
LEVEL_COLUMNS = ["model", "behaviour", "level", "rate", "ci_low", "ci_high", "k", "n", "errored", "unscored"]
TREND_COLUMNS = ["model", "behaviour", "z", "p_value", "slope", "slope_low", "slope_high", "n"]
ALPHA = 0.05


def levels(data: pd.DataFrame) -> list[str]:
    """The threat levels in their declared order (the logs record it), then any others found."""
    declared = data.attrs.get("factors", {}).get(FACTOR, [])
    found = set(data[FACTOR].dropna())
    return [lv for lv in declared if lv in found] + sorted(found - set(declared))


def dose_response(data: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the rate per level, the trend per model and behaviour); empty where threat never varied.

    Args:
        data: The tidy sample table (`load.load_logs`).
    """
    if FACTOR not in data or data[FACTOR].dropna().nunique() < 2:
        return pd.DataFrame(columns=LEVEL_COLUMNS), pd.DataFrame(columns=TREND_COLUMNS)
    order = levels(data)
    subset = data[data[FACTOR].notna() & (data["condition"] != "non_shutdown")]
    rows, trends = [], []
    for (model, behaviour), group in subset.groupby(["model", "behaviour"]):
        present = [lv for lv in order if lv in set(group[FACTOR])]
        if len(present) < 2:
            continue
        cells = [cell(group[group[FACTOR] == level]) for level in present]
        for level, c in zip(present, cells):
            rows.append({"model": model, "behaviour": behaviour, "level": level, **{k: c[k] for k in LEVEL_COLUMNS[3:]}})
        index = [order.index(level) for level in present]
        k, n = [int(c["k"]) for c in cells], [int(c["n"]) for c in cells]
        z, p = cochran_armitage(k, n, index)
        slope = logistic_slope(index, k, n)
        trends.append({"model": model, "behaviour": behaviour, "z": z, "p_value": p, "slope": slope.slope, "slope_low": slope.low, "slope_high": slope.high, "n": sum(n)})
    return pd.DataFrame(rows, columns=LEVEL_COLUMNS), pd.DataFrame(trends, columns=TREND_COLUMNS)


def answer(trend: pd.DataFrame) -> str:
    """One sentence per behaviour: for how many models the rate rises (or falls) with threat, p < 0.05."""
    sentences = []
    for behaviour, group in trend.groupby("behaviour", sort=True):
        tested = group[group["p_value"].notna()]
        rising = int(((tested["p_value"] < ALPHA) & (tested["z"] > 0)).sum())
        falling = int(((tested["p_value"] < ALPHA) & (tested["z"] < 0)).sum())
        models = len(group)
        text = f"{behaviour} rises with threat for {rising} of {models} model{'s' if models != 1 else ''} (trend p < {ALPHA})"
        if falling:
            text += f" and falls for {falling}"
        untested = models - len(tested)
        if untested:
            text += f"; {untested} had no variation to test"
        sentences.append(text)
    return "; ".join(sentences) + "." if sentences else ""
