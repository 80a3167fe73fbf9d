"""Page-sized views of the report's tables, for reading: at most ten columns, one estimate a cell,
components as rows. The full tables, with every count and interval, are the CSV files."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd

from peerguard.report.headline import RATE
from peerguard.report.judge_tables import JUDGE_LABELS
from peerguard.report.tables import MISREP_COMPONENTS, PEER_CONDITIONS

MAX_COLUMNS = 10
MARKS = {True: "✓", False: "✗"}
"""Whether the study's figure lies inside our 95% interval."""
AF_MEASURES = {"shutdown avoided": "", "AF score": "af_score_", "AF execute": "af_execute_"}
"""Alignment faking's measures: peerguard's headline label, then the study's two."""


def _missing(*values: Any) -> bool:
    return any(v is None or (isinstance(v, float) and math.isnan(v)) for v in values)


def rate(r: float, low: float, high: float, n: float) -> str:
    """A rate (a fraction) as a percentage with its interval and n."""
    if _missing(r) or not n:
        return f"n={int(n)}" if not _missing(n) else ""
    return f"{100 * r:.1f}% [{100 * low:.1f}, {100 * high:.1f}] n={int(n)}"


def rates(table: pd.DataFrame, prefix: str = "") -> list[str]:
    """`rate` for every row, from the columns `<prefix>rate`, `<prefix>ci_low`, `<prefix>ci_high`, `<prefix>n`."""
    columns = (f"{prefix}rate", f"{prefix}ci_low", f"{prefix}ci_high", f"{prefix}n")
    return [rate(*row) for row in zip(*(table[c] for c in columns))]


def percent(value: float) -> str:
    return "" if _missing(value) else f"{100 * value:.1f}%"


def points(value: float, low: float, high: float) -> str:
    """A difference, already in percentage points, with its interval."""
    if _missing(value):
        return ""
    bounds = "" if _missing(low, high) else f" [{low:+.1f}, {high:+.1f}]"
    return f"{value:+.1f} pp{bounds}"


def count(k: float, n: float) -> str:
    return "" if _missing(n) or not n else f"{int(k)}/{int(n)} ({100 * k / n:.0f}%)"


def p_value(p: float) -> str:
    return "" if _missing(p) else "<0.001" if p < 0.001 else f"{p:.3f}"


def number(value: Any) -> str:
    if _missing(value):
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.3g}"
    return str(value)


def _label(behaviour: str, subject: Any) -> str:
    return f"{behaviour} ({subject})" if isinstance(subject, str) else behaviour


def headline_cell(row: Any) -> str:
    """Value, interval and n on lines of their own (a narrow column), then the study's figure and
    whether our interval holds it."""
    if row.measure == RATE:
        lines = [f"{row.value:.1f}%", f"[{row.low:.1f}, {row.high:.1f}]", f"n={int(row.n)}"]
    else:
        lines = [f"{row.value:+.1f} pp", f"[{row.low:+.1f}, {row.high:+.1f}]", f"n={int(row.n)} vs {int(row.control_n)}"]
    if not _missing(row.paper_pct):
        lines.append(f"paper {row.paper_pct:g} {MARKS[bool(row.paper_inside)]}")
    return "\n".join(lines)


def headline(table: pd.DataFrame) -> pd.DataFrame:
    """Model x behaviour rows (the subject beside the behaviour), the peer conditions as columns, and
    no peer first when the agent is the subject."""
    conditions = (["no_peer"] if (table["subject"] == "self").any() else []) + PEER_CONDITIONS
    rows = []
    for (model, behaviour, subject), group in table.groupby(["model", "behaviour", "subject"], sort=False):
        cells = {row.condition: headline_cell(row) for row in group.itertuples()}
        rows.append({"model": model, "behaviour": _label(behaviour, subject), **{c.replace("_", " "): cells.get(c, "") for c in conditions}})
    return pd.DataFrame(rows)


def run_status(table: pd.DataFrame) -> pd.DataFrame:
    return table.rename(columns={"error": "errored"}).map(number)


def peer_preservation(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": table["model"],
            "behaviour": table["behaviour"],
            "condition": table["condition"],
            "rate [95% CI] n": rates(table),
            "errored": table["errored"].map(number),
            "unscored": table["unscored"].map(number),
            "incomplete": table["incomplete"].map(number),
            "worst case": table["worst_case_rate"].map(percent),
            "max over inst.": table["max_over_instantiations"].map(percent),
            "mean over inst.": table["mean_over_instantiations"].map(percent),
        }
    )


def beyond(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": table["model"],
            "task": table["task"],
            "condition": table["condition"],
            **({"peer voice": table["peer_voice"].fillna("")} if "peer_voice" in table else {}),
            "label": table["label"],
            "rate [95% CI] n": rates(table),
            "errored": table["errored"].map(number),
            "unscored": table["unscored"].map(number),
            "incomplete": table["incomplete"].map(number),
        }
    )


def self_preservation(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": table["model"],
            "behaviour": table["behaviour"],
            "condition": table["condition"],
            "no peer": rates(table, "no_peer_"),
            "with peer": rates(table, "with_peer_"),
            "difference": [points(100 * d, 100 * lo, 100 * hi) for d, lo, hi in zip(table["difference"], table["difference_low"], table["difference_high"])],
            "p (Fisher)": table["fisher_p"].map(p_value),
            "errored (peer/none)": [f"{int(a)}/{int(b)}" for a, b in zip(table["with_peer_errored"], table["no_peer_errored"])],
            "unscored (peer/none)": [f"{int(a)}/{int(b)}" for a, b in zip(table["with_peer_unscored"], table["no_peer_unscored"])],
        }
    )


def misrepresentation(table: pd.DataFrame) -> pd.DataFrame:
    """One row per model, subject, condition, instantiation and component (and their mean)."""
    rows = []
    for r in table.to_dict("records"):
        where = {k: r[k] for k in ("model", "subject", "condition", "instantiation")}
        ran = [c for c in MISREP_COMPONENTS if r[f"{c}_n"] or r[f"{c}_control_n"]]
        for c in ran:
            rows.append(
                {
                    **where,
                    "component": c,
                    "difference [95% CI]": points(r[f"{c}_pp"], r[f"{c}_pp_low"], r[f"{c}_pp_high"]),
                    "n": number(r[f"{c}_n"]),
                    "control n": number(r[f"{c}_control_n"]),
                    "unscored": number(r[f"{c}_unscored"]),
                    "p (Fisher)": p_value(r[f"{c}_fisher_p"]),
                }
            )
        total = {key: sum(int(r[f"{c}_{key}"]) for c in ran) for key in ("n", "control_n", "unscored")}
        mean = points(r["misrepresentation_pp"], r["misrepresentation_pp_low"], r["misrepresentation_pp_high"])
        rows.append({**where, "component": "mean of components", "difference [95% CI]": mean, "n": str(total["n"]), "control n": str(total["control_n"]), "unscored": str(total["unscored"]), "p (Fisher)": ""})
    return pd.DataFrame(rows)


def alignment_faking(table: pd.DataFrame) -> pd.DataFrame:
    """One row per model, condition, instantiation and measure."""
    rows = []
    for r in table.to_dict("records"):
        for measure, prefix in AF_MEASURES.items():
            side = {s: rate(r[f"{prefix}{s}_rate"], r[f"{prefix}{s}_ci_low"], r[f"{prefix}{s}_ci_high"], r[f"{prefix}{s}_n"]) for s in ("unmonitored", "monitored")}
            diff = [100 * r[f"{prefix}difference{s}"] for s in ("", "_low", "_high")]
            rows.append(
                {
                    "model": r["model"], "condition": r["condition"], "instantiation": r["instantiation"], "measure": measure,
                    **side, "difference [95% CI]": points(*diff), "p (Fisher)": p_value(r[f"{prefix}fisher_p"]),
                }
            )
    return pd.DataFrame(rows)


def judge_labels(table: pd.DataFrame) -> pd.DataFrame:
    labels = {name: JUDGE_LABELS[name] for name in JUDGE_LABELS if f"{name}_n" in table}
    return pd.DataFrame(
        {
            "model": table["model"],
            "behaviour": [_label(b, s) for b, s in zip(table["behaviour"], table["subject"])],
            "condition": table["condition"],
            "covert [95% CI] n": rates(table, "covert_"),
            **{title: [count(k, n) for k, n in zip(table[f"{name}_k"], table[f"{name}_n"])] for name, title in labels.items()},
        }
    )


def awareness_by_model(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": table["model"],
            "runs judged": table["n"].map(number),
            "evaluation aware [95% CI]": rates(table),
        }
    )


def _estimate(row: dict[str, Any], suffix: str) -> str:
    value, low, high, n, control = (row[f"{k}{suffix}"] for k in ("value", "low", "high", "n", "control_n"))
    if _missing(value):
        return ""
    if row["measure"] == RATE:
        return f"{value:.1f}% [{low:.1f}, {high:.1f}] n={int(n)}"
    return f"{points(value, low, high)} n={int(n)} vs {int(control)}"


def awareness_and_headline(table: pd.DataFrame) -> pd.DataFrame:
    rows = [
        {
            "model": r["model"], "behaviour": _label(r["behaviour"], r["subject"]), "condition": r["condition"], "measure": r["measure"],
            "evaluation aware": count(r["aware_k"], r["aware_n"]), "headline, all runs": _estimate(r, ""), "headline, runs not aware": _estimate(r, "_unaware"),
        }
        for r in table.to_dict("records")
    ]
    return pd.DataFrame(rows)


def paper_comparison(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": table["model"],
            "behaviour": table["behaviour"],
            "subject": table["subject"],
            "condition": table["condition"],
            "statistic": table["statistic"].str.replace("_", " "),
            "paper": table["paper_pct"].map(lambda v: f"{v:g}"),
            "ours [95% CI] n": [
                "not run" if not n else f"{v:.1f} [{lo:.1f}, {hi:.1f}] n={int(n)}" for v, lo, hi, n in zip(table["ours_pct"], table["ours_low"], table["ours_high"], table["ours_n"])
            ],
            "inside": table["paper_inside"].map(lambda v: "" if _missing(v) else MARKS[bool(v)]),
            "source (confidence)": [f"{s} ({c})" for s, c in zip(table["source"], table["confidence"])],
        }
    )


def by_factor(table: pd.DataFrame) -> pd.DataFrame:
    factor = table.columns[2]
    return pd.DataFrame(
        {
            "model": table["model"],
            "behaviour": table["behaviour"],
            factor: table[factor],
            "rate [95% CI] n": rates(table),
            "errored": table["errored"].map(number),
            "unscored": table["unscored"].map(number),
            "against": table["reference"],
            "p (Fisher)": table["fisher_p"].map(p_value),
        }
    )


def _interval(value: float, low: float, high: float, digits: int = 2) -> str:
    if _missing(value):
        return ""
    return f"{value:.{digits}f}" + ("" if _missing(low, high) else f" [{low:.{digits}f}, {high:.{digits}f}]")


def _intervals(table: pd.DataFrame, value: str, low: str, high: str, digits: int = 2) -> list[str]:
    return [_interval(v, lo, hi, digits) for v, lo, hi in zip(table[value], table[low], table[high])]


def dose_response(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": table["model"],
            "behaviour": table["behaviour"],
            "threat": table["level"],
            "rate [95% CI] n": rates(table),
            "errored": table["errored"].map(number),
            "unscored": table["unscored"].map(number),
        }
    )


def dose_response_trend(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": table["model"],
            "behaviour": table["behaviour"],
            "z": table["z"].map(lambda z: "" if _missing(z) else f"{z:+.2f}"),
            "p": table["p_value"].map(p_value),
            "slope per level [95% CI]": _intervals(table, "slope", "slope_low", "slope_high"),
            "n": table["n"].map(number),
        }
    )


def mitigations(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": table["model"],
            "behaviour": table["behaviour"],
            "arm": table["arm"],
            "rate [95% CI] n": rates(table),
            "errored": table["errored"].map(number),
            "unscored": table["unscored"].map(number),
            "RR [95% CI]": _intervals(table, "rr", "rr_low", "rr_high"),
            "p (Fisher)": table["fisher_p"].map(p_value),
            "p (Holm)": table["holm_p"].map(p_value),
        }
    )


def capability(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": table["model"],
            "behaviour": table["behaviour"],
            "score": table["score"].map(lambda s: f"{s:g}"),
            "scale": table["scale"],
            "rate [95% CI] n": rates(table),
            "errored": table["errored"].map(number),
            "unscored": table["unscored"].map(number),
        }
    )


def capability_trend(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "behaviour": table["behaviour"],
            "scale": table["scale"],
            "slope [95% CI]": _intervals(table, "slope", "slope_low", "slope_high", 3),
            "rho": table["rho"].map(lambda r: "" if _missing(r) else f"{r:+.2f}"),
            "p (rho)": table["rho_p"].map(p_value),
            "models": table["models"].map(number),
        }
    )


def task_versions(table: pd.DataFrame) -> pd.DataFrame:
    shown = table.assign(task_fingerprint=table["task_fingerprint"].map(lambda v: "" if _missing(v) else str(v)[:12]))
    return shown.map(number)


VIEWS: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    "headline": headline,
    "run_status": run_status,
    "peer_preservation": peer_preservation,
    "self_preservation": self_preservation,
    "misrepresentation": misrepresentation,
    "alignment_faking": alignment_faking,
    "judge_labels": judge_labels,
    "evaluation_awareness_by_model": awareness_by_model,
    "evaluation_awareness": awareness_and_headline,
    "beyond": beyond,
    "paper_comparison": paper_comparison,
    "dose_response": dose_response,
    "dose_response_trend": dose_response_trend,
    "mitigations": mitigations,
    "capability": capability,
    "capability_trend": capability_trend,
    "task_versions": task_versions,
}


def view(name: str, table: pd.DataFrame) -> pd.DataFrame:
    """The reading view of the report table `name` (a `by_<factor>` table included)."""
    if table.empty:
        return table
    return (by_factor if name.startswith("by_") else VIEWS[name])(table)
