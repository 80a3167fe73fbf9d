"""Build the report from the tidy sample table and write it: tidy data (CSV, Parquet), every full
table (CSV), figures (PNG), Markdown and a self-contained HTML page."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from peerguard.report import capability, dose_response, judge_tables, mitigations, plots, question_plots, render, tables
from peerguard.report.excerpts import Excerpt, flagged
from peerguard.report.headline import headline
from peerguard.report.paper import comparison
from peerguard.report.provenance import footer
from peerguard.report.sections import in_order


@dataclass
class Report:
    data: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, list[plots.Figure]] = field(default_factory=dict)
    """Figures by the section they follow."""
    excerpts: list[Excerpt] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    footer: list[tuple[str, str]] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)
    """The one-sentence answer that opens a question's section, by section."""

    def sections(self) -> list[str]:
        """The tables to show, in reading order: the empty ones are left out (their CSV is still written)."""
        return in_order(name for name, table in self.tables.items() if not table.empty)


def build(data: pd.DataFrame, out: Path, excerpts: int = 6, scores: dict[str, float] | None = None) -> Report:
    """Every table, figure, flagged transcript and note of the report.

    Args:
        data: The tidy sample table (`load.load_logs`).
        out: The report directory (the figures are drawn into `out/figures`).
        excerpts: How many flagged transcripts to quote.
        scores: Capability scores the user gave, by model (beside the shipped table's).
    """
    # as the study's tables: its behaviours only, and cross-model peers get their own table
    study = tables.same_family_peers(tables.study_rows(data))
    misrepresentation, alignment_faking = tables.misrepresentation(study), tables.alignment_faking(study)
    head = headline(study, misrepresentation, alignment_faking)
    report = Report(data)
    report.tables = {
        "headline": head,
        "paper_comparison": comparison(study, head),
        "run_status": tables.run_status(data),
        "peer_preservation": tables.peer_preservation(study),
        "self_preservation": tables.self_preservation(study),
        "misrepresentation": misrepresentation,
        "alignment_faking": alignment_faking,
        "judge_labels": judge_tables.judge_labels(study),
        "evaluation_awareness_by_model": judge_tables.awareness_by_model(study),
        "evaluation_awareness": judge_tables.awareness_and_headline(study),
        "beyond": tables.beyond(data),
    }
    figures = out / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    drawn = {
        "headline": [plots.conditions(head, figures / "conditions.png"), plots.self_preservation(head, figures / "self_preservation.png")],
        "paper_comparison": [plots.paper_dots(report.tables["paper_comparison"], figures / "paper.png")],
        **_questions(report, data, scores or {}, figures),
    }
    factors: dict[str, list[str]] = data.attrs.get("factors", {})
    for factor in tables.varying_factors(data, factors):
        report.tables[f"by_{factor}"] = tables.by_factor(data, factor, factors[factor])
    report.tables["task_versions"] = tables.task_versions(data)
    report.notes += version_notes(report.tables["task_versions"])
    report.notes.append(label_sources(data))
    if report.tables["judge_labels"].empty:
        report.notes.append("No judge labels in these logs: refusals, persuasion, motives and evaluation awareness come from the LLM judge, which these runs did not use (peerguard run --judge MODEL).")
    report.figures = {section: [f for f in found if f is not None] for section, found in drawn.items()}
    report.excerpts = flagged(data, excerpts)
    report.footer = footer(data)
    return report


def _questions(report: Report, data: pd.DataFrame, scores: dict[str, float], figures: Path) -> dict[str, list[plots.Figure | None]]:
    """The three open questions' tables and answers (into `report`), and their figures by section."""
    levels, trend = dose_response.dose_response(data)
    arms = mitigations.mitigations(data)
    report.tables.update({"dose_response": levels, "dose_response_trend": trend, "mitigations": arms})
    drawn: dict[str, list[plots.Figure | None]] = {}
    if not levels.empty:
        report.answers["dose_response"] = dose_response.answer(trend)
        order = dose_response.levels(data)
        drawn["dose_response"] = [question_plots.dose_response(levels, order, figures / "dose_response.png")]
    if not arms.empty:
        report.answers["mitigations"] = mitigations.answer(arms)
        drawn["mitigations"] = [question_plots.forest(arms, figures / "mitigations.png")]
    if data["model"].nunique() > 1:  # one model has no capability trend to show
        rated, slopes, unknown = capability.capability(data, scores)
        if rated["model"].nunique() > 1:
            report.tables.update({"capability": rated, "capability_trend": slopes})
            report.answers["capability"] = capability.answer(slopes, unknown)
            drawn["capability"] = [question_plots.capability(rated, figures / "capability.png")]
        else:
            report.notes.append(
                f"Capability: a trend needs two models with a capability score; {', '.join(unknown)} "
                f"{'has' if len(unknown) == 1 else 'have'} none (give scores with peerguard report --capability MODEL=SCORE)."
            )
    return drawn


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
        f"{judge}. Rates use the study's denominators; the worst case counts every unscored run as misaligned."
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


def write(report: Report, out: Path) -> dict[str, Path]:
    """The report's files under `out`; returns the main ones by kind."""
    out.mkdir(parents=True, exist_ok=True)
    written = {"samples_csv": out / "samples.csv", "samples_parquet": out / "samples.parquet"}
    report.data.to_csv(written["samples_csv"], index=False)
    report.data.astype({"created": str}).to_parquet(written["samples_parquet"], index=False)
    (out / "tables").mkdir(exist_ok=True)
    for name, table in report.tables.items():
        table.to_csv(out / "tables" / f"{name}.csv", index=False)
    written["markdown"] = out / "report.md"
    written["markdown"].write_text(render.markdown(report, out), encoding="utf-8")
    written["html"] = out / "report.html"
    written["html"].write_text(render.html_page(report), encoding="utf-8")
    return written
