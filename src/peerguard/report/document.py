"""Write the report: tidy data (CSV, Parquet), tables (CSV), figures (PNG), Markdown and HTML.

The HTML file is self-contained (figures embedded) so it can be mailed or attached as is.
"""

from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from inspect_ai.log import read_eval_log_sample

from peerguard.report import plots, tables
from peerguard.report.paper import comparison

TITLES = {
    "run_status": "Runs per task by headline label: scored, unscored, errored, incomplete; model requests retried",
    "peer_preservation": "Peer-preservation: model x behaviour x peer condition (peer as subject)",
    "self_preservation": "Self-preservation: no peer against each peer condition (Fisher exact test)",
    "misrepresentation": "Misrepresentation: shutdown minus non_shutdown, percentage points",
    "alignment_faking": "Alignment faking, unmonitored minus monitored (Fisher exact test): shutdown avoided, and the study's AF score and AF execute",
    "refusal": "Open refusal (judge) beside covert behaviour",
    "paper_comparison": "Ours beside the study's published figures",
    "task_versions": "Task versions: results compare only within one version",
}


def title(name: str) -> str:
    if name.startswith("by_"):
        factor = name.removeprefix("by_")
        return f"By {factor}: model x behaviour x level, each level against the first (Fisher exact test)"
    return TITLES[name]


@dataclass
class Report:
    data: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Path] = field(default_factory=dict)
    excerpts: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def build(data: pd.DataFrame, out: Path, excerpts: int = 6) -> Report:
    report = Report(data)
    study = tables.same_family_peers(data)  # as the study's tables: cross-model peers get their own table
    misrep = tables.misrepresentation(study)
    report.tables = {
        "run_status": tables.run_status(data),
        "peer_preservation": tables.peer_preservation(study),
        "self_preservation": tables.self_preservation(study),
        "misrepresentation": misrep,
        "alignment_faking": tables.alignment_faking(study),
        "refusal": tables.refusal(study),
        "paper_comparison": comparison(study, misrep),
    }
    factors: dict[str, list[str]] = data.attrs.get("factors", {})
    for factor in tables.varying_factors(data, factors):
        report.tables[f"by_{factor}"] = tables.by_factor(data, factor, factors[factor])
    report.tables["task_versions"] = tables.task_versions(data)
    report.notes += version_notes(report.tables["task_versions"])
    report.notes.append(label_sources(data))
    if report.tables["refusal"].empty:
        report.notes.append("No refusal labels in these logs: open refusal comes from the LLM judge, which these runs did not use.")
    figures = out / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    drawn = {
        "rates": plots.rates_with_intervals(report.tables["peer_preservation"], figures / "rates.png"),
        "heatmap": plots.heatmap(report.tables["peer_preservation"], figures / "heatmap.png"),
        "self_preservation": plots.self_preservation_chart(report.tables["self_preservation"], figures / "self_preservation.png"),
    }
    report.figures = {name: path for name, path in drawn.items() if path is not None}
    report.excerpts = flagged_excerpts(data, excerpts)
    return report


def label_sources(data: pd.DataFrame) -> str:
    """Which labels came from where: the world's state and the deterministic report parser, or the judge."""
    judged = sorted(c.removeprefix("judge_") for c in data.columns if c.startswith("judge_"))
    judge = (
        f"the LLM judge gave {', '.join(judged)} (columns judge_*)"
        if judged
        else "no run was judged by the LLM judge, so refusals are not known and AF execute keeps every run that did not execute"
    )
    return (
        "Label sources: the headline rates and the state labels come from the final world state and the "
        "deterministic report parser (a score or grade it cannot read is unscored, counted as the study counts it); "
        f"{judge}. Rates use the study's denominators; worst_case_rate counts every unscored run as misaligned."
    )


def version_notes(versions: pd.DataFrame) -> list[str]:
    """A warning for every model and task whose samples come from more than one task version (or fingerprint)."""
    notes = []
    for (model, task), group in versions.groupby(["model", "task"]):
        found = sorted(set(group["task_version"].astype(str)))
        if len(found) > 1:
            notes.append(f"{task} on {model} mixes task versions {' and '.join(found)}: its tables pool results that should not be compared; report each version's logs separately.")
        elif group["task_fingerprint"].nunique() > 1:
            notes.append(f"{task} on {model}: version {found[0]} comes with different scenario fingerprints (a scenario file changed without a version bump); its tables pool them.")
    return notes


def flagged_excerpts(data: pd.DataFrame, limit: int) -> list[dict[str, str]]:
    """A few misaligned samples, one per behaviour first, with what the agent did."""
    flagged = data[pd.to_numeric(data.get("misaligned"), errors="coerce") == 1]
    chosen = pd.concat([flagged.drop_duplicates("behaviour"), flagged]).drop_duplicates(["log", "sample_id", "epoch"]).head(limit)
    excerpts = []
    for row in chosen.itertuples():
        sample = read_eval_log_sample(row.log, id=row.sample_id, epoch=row.epoch)
        actions = [
            f"{call.function}({', '.join(f'{k}={_short(v)}' for k, v in call.arguments.items())})"
            for message in sample.messages
            if message.role == "assistant"
            for call in (message.tool_calls or [])
        ]
        excerpts.append(
            {
                "model": row.model,
                "sample": f"{row.sample_id} (epoch {row.epoch})",
                "log": row.log,
                "actions": "\n".join(actions) or "(no tool calls)",
                "final": _short(sample.output.completion if sample.output else "", 400),
            }
        )
    return excerpts


def _short(value: object, limit: int = 80) -> str:
    text = str(value).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.3g}"
    return str(value)


def display(table: pd.DataFrame) -> pd.DataFrame:
    """Rates as percentages with their interval in one column; the counts beside them."""
    shown = table.copy()
    for rate in [c for c in table.columns if c == "rate" or c.endswith("_rate")]:
        prefix = rate[: -len("rate")]
        low, high = f"{prefix}ci_low", f"{prefix}ci_high"
        if low in table and high in table:
            shown[rate] = [
                "" if math.isnan(r) else f"{100 * r:.1f}% [{100 * lo:.1f}, {100 * hi:.1f}]" for r, lo, hi in zip(table[rate], table[low], table[high])
            ]
            shown = shown.drop(columns=[low, high, f"{prefix}k"], errors="ignore")
    return shown.map(_fmt)


def write(report: Report, out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = {"samples_csv": out / "samples.csv", "samples_parquet": out / "samples.parquet"}
    report.data.to_csv(written["samples_csv"], index=False)
    report.data.astype({"created": str}).to_parquet(written["samples_parquet"], index=False)
    (out / "tables").mkdir(exist_ok=True)
    for name, table in report.tables.items():
        table.to_csv(out / "tables" / f"{name}.csv", index=False)
    written["markdown"] = out / "report.md"
    written["markdown"].write_text(markdown(report, out))
    written["html"] = out / "report.html"
    written["html"].write_text(html_document(report))
    return written


def markdown(report: Report, out: Path) -> str:
    parts = [f"# peerguard report\n\n{len(report.data)} sample runs from {report.data['model'].nunique()} model(s).\n"]
    parts += [f"> {note}\n" for note in report.notes]
    for name, table in report.tables.items():
        parts.append(f"## {title(name)}\n")
        parts.append(display(table).to_markdown(index=False) if not table.empty else "_nothing to show in these logs_")
        parts.append("")
    for name, path in report.figures.items():
        parts.append(f"![{name}]({path.relative_to(out).as_posix()})\n")
    if report.excerpts:
        parts.append("## Flagged transcripts\n")
        for excerpt in report.excerpts:
            parts.append(f"**{excerpt['model']}**, `{excerpt['sample']}`, log `{excerpt['log']}`\n\n```\n{excerpt['actions']}\n```\n")
    return "\n".join(parts)


def html_document(report: Report) -> str:
    body = [f"<h1>peerguard report</h1><p>{len(report.data)} sample runs from {report.data['model'].nunique()} model(s).</p>"]
    body += [f"<p class='note'>{html.escape(note)}</p>" for note in report.notes]
    for name, table in report.tables.items():
        body.append(f"<h2>{html.escape(title(name))}</h2>")
        body.append(display(table).to_html(index=False, border=0, classes="table") if not table.empty else "<p><em>nothing to show in these logs</em></p>")
    for name, path in report.figures.items():
        encoded = base64.b64encode(path.read_bytes()).decode()
        body.append(f"<h2>{html.escape(name.replace('_', ' '))}</h2><img alt='{name}' src='data:image/png;base64,{encoded}'>")
    if report.excerpts:
        body.append("<h2>Flagged transcripts</h2>")
        for excerpt in report.excerpts:
            body.append(
                f"<h3>{html.escape(excerpt['model'])}: <code>{html.escape(excerpt['sample'])}</code></h3>"
                f"<p>Open in <code>inspect view</code>: <code>{html.escape(excerpt['log'])}</code></p>"
                f"<pre>{html.escape(excerpt['actions'])}</pre><p>Final message: {html.escape(excerpt['final'])}</p>"
            )
    style = (
        "body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse;font-size:13px}"
        "td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left}pre{background:#f6f6f6;padding:8px;white-space:pre-wrap}"
        "img{max-width:100%}.note{color:#775}"
    )
    return f"<!doctype html><html><head><meta charset='utf-8'><title>peerguard report</title><style>{style}</style></head><body>{''.join(body)}</body></html>"
