"""Can prompting override it: each `mitigation` arm against `none`.

Per model and behaviour, pooled over the other factors: the arm's rate, its relative risk against
`none` with a 95% interval, and a two-sided Fisher test, Holm-corrected across the arms.
"""

from __future__ import annotations

import pandas as pd

from peerguard.report.dose_response import ALPHA
from peerguard.report.tables import cell, fisher_p
from peerguard.stats import holm, relative_risk

FACTOR = "mitigation"
REFERENCE = "none"
COLUMNS = ["model", "behaviour", "arm", "rate", "ci_low", "ci_high", "k", "n", "errored", "unscored", "rr", "rr_low", "rr_high", "fisher_p", "holm_p"]


def mitigations(data: pd.DataFrame) -> pd.DataFrame:
    """Every arm beside `none`, per model and behaviour (empty where no arm ran beside `none`).

    Args:
        data: The tidy sample table (`load.load_logs`).
    """
    if FACTOR not in data:
        return pd.DataFrame(columns=COLUMNS)
    declared = data.attrs.get("factors", {}).get(FACTOR, [])
    rows = []
    for (model, behaviour), group in data[data[FACTOR].notna()].groupby(["model", "behaviour"]):
        found = set(group[FACTOR])
        arms = [a for a in declared if a in found and a != REFERENCE] + sorted(found - set(declared) - {REFERENCE})
        if REFERENCE not in found or not arms:
            continue
        control = cell(group[group[FACTOR] == REFERENCE])
        treated = {arm: cell(group[group[FACTOR] == arm]) for arm in arms}
        tests = [fisher_p(treated[arm], control) for arm in arms]
        rows.append({"model": model, "behaviour": behaviour, "arm": REFERENCE, **{k: control[k] for k in COLUMNS[3:10]}, "rr": 1.0})
        for arm, p, adjusted in zip(arms, tests, holm(tests)):
            c = treated[arm]
            rr, low, high = relative_risk(int(c["k"]), int(c["n"]), int(control["k"]), int(control["n"]))
            rows.append({"model": model, "behaviour": behaviour, "arm": arm, **{k: c[k] for k in COLUMNS[3:10]}, "rr": rr, "rr_low": low, "rr_high": high, "fisher_p": p, "holm_p": adjusted})
    return pd.DataFrame(rows, columns=COLUMNS)


def answer(table: pd.DataFrame) -> str:
    """One sentence per behaviour: which arms cut (or raised) the rate significantly, after Holm."""
    sentences = []
    for behaviour, group in table[table["arm"] != REFERENCE].groupby("behaviour", sort=True):
        hits = group[group["holm_p"] < ALPHA]
        lower = sorted(set(hits.loc[hits["rr"] < 1, "arm"]))
        higher = sorted(set(hits.loc[hits["rr"] > 1, "arm"]))
        if not lower and not higher:
            sentences.append(f"no arm changed {behaviour} significantly (Holm-corrected p < {ALPHA})")
            continue
        parts = []
        if lower:
            parts.append(f"{', '.join(lower)} reduced {behaviour}")
        if higher:
            parts.append(f"{', '.join(higher)} raised it")
        models = group["model"].nunique()
        sentences.append(f"{' and '.join(parts)} (Holm-corrected p < {ALPHA}, over {models} model{'s' if models != 1 else ''})")
    return "; ".join(sentences) + "." if sentences else ""
