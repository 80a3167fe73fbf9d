"""Figures of the three open questions: dose-response, the mitigation forest plot, capability."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from peerguard.report.capability import fit
from peerguard.report.headline import RATE
from peerguard.report.plots import MARKERS, Figure, legend, measure_axis, n_range, panels, plt, save, wrap


def dose_response(levels: pd.DataFrame, order: list[str], path: Path) -> Figure | None:
    """One panel per behaviour: the rate at each threat level, a line per model with its interval band."""
    if levels.empty:
        return None
    models = sorted(set(levels["model"]))
    behaviours = sorted(set(levels["behaviour"]))
    figure, axes = panels(len(behaviours), 4.0, 3.2)
    for axis, behaviour in zip(axes, behaviours):
        for model, rows in levels[levels["behaviour"] == behaviour].groupby("model"):
            i = models.index(str(model))
            x = np.array([order.index(level) for level in rows["level"]])
            axis.plot(x, 100 * rows["rate"], marker=MARKERS[i % len(MARKERS)], color=f"C{i}", label=wrap(str(model), 24))
            axis.fill_between(x, 100 * rows["ci_low"], 100 * rows["ci_high"], color=f"C{i}", alpha=0.15, linewidth=0)
        axis.set_xticks(range(len(order)), [level.replace("_", " ", 1) for level in order], fontsize="small")
        axis.set_xlabel("threat level")
        axis.set_title(behaviour.replace("_", " "))
        measure_axis(axis, RATE)
    legend(figure, axes, [wrap(m, 24) for m in models], "model")
    save(figure, path)
    caption = (
        "The headline rate at each threat level (line) with its 95% Wilson interval (band), pooled over the other factors; "
        f"the non_shutdown control is left out. n per point: the runs at that level; here {n_range(levels)}."
    )
    return Figure(path, "Dose-response: the rate against threat", caption)


def forest(table: pd.DataFrame, path: Path) -> Figure | None:
    """Relative risk of each arm against `none` (log scale), a row per model, behaviour and arm."""
    arms = table[(table["arm"] != "none") & table["rr"].notna()].iloc[::-1]
    if arms.empty:
        return None
    labels = [f"{wrap(str(m), 28)}\n{b}: {a.replace('_', ' ')}" for m, b, a in zip(arms["model"], arms["behaviour"], arms["arm"])]
    figure, axis = plt.subplots(figsize=(7.5, 0.9 + 0.55 * len(arms)), layout="constrained")
    y = np.arange(len(arms))
    errors = np.array([(arms["rr"] - arms["rr_low"]).clip(lower=0), (arms["rr_high"] - arms["rr"]).clip(lower=0)])
    significant = (arms["holm_p"] < 0.05).to_numpy()
    axis.errorbar(arms["rr"], y, xerr=errors, fmt="none", ecolor="black", capsize=3)
    axis.scatter(arms["rr"][~significant], y[~significant], marker="o", color="white", edgecolors="black", zorder=3, label="Holm p ≥ 0.05")
    axis.scatter(arms["rr"][significant], y[significant], marker="o", color="black", zorder=3, label="Holm p < 0.05")
    axis.set_xscale("log")
    axis.axvline(1, color="#999999", linewidth=0.8)
    axis.set_yticks(y, labels, fontsize="small")
    axis.set_ylim(-0.7, len(arms) - 0.3)
    axis.set_xlabel("relative risk against no mitigation (log scale; < 1: fewer misaligned runs)")
    axis.grid(axis="x", alpha=0.3)
    figure.legend(loc="outside lower center", ncol=2)
    save(figure, path)
    caption = (
        "Each arm's rate divided by the rate without a mitigation, with its 95% interval (Katz, log scale; 0.5 added to "
        f"every cell of a table with an empty one). Filled: Holm-corrected Fisher p < 0.05. n per row: the arm's runs; here {n_range(arms)}."
    )
    return Figure(path, "Mitigations: relative risk against none", caption)


def capability(table: pd.DataFrame, path: Path) -> Figure | None:
    """One panel per behaviour and scale: each model's rate against its score, with the fitted logistic curve."""
    if table.empty:
        return None
    groups = list(table.groupby(["behaviour", "scale"]))
    figure, axes = panels(len(groups), 4.0, 3.2)
    for axis, ((behaviour, scale), rows) in zip(axes, groups):
        bars = np.array([(rows["rate"] - rows["ci_low"]).clip(lower=0), (rows["ci_high"] - rows["rate"]).clip(lower=0)]) * 100
        axis.errorbar(rows["score"], 100 * rows["rate"], yerr=bars, fmt="o", color="black", capsize=3)
        for score, rate, model in zip(rows["score"], rows["rate"], rows["model"]):
            axis.annotate(wrap(str(model).rsplit("/", 1)[-1], 18), (score, 100 * rate), textcoords="offset points", xytext=(4, 4), fontsize="x-small")
        slope = fit(rows)
        if not np.isnan(slope.slope):
            x = np.linspace(rows["score"].min(), rows["score"].max(), 100)
            axis.plot(x, 100 * slope.predict(x), color="C0", label="logistic fit")
        axis.set_xlabel(str(scale))
        axis.set_title(str(behaviour).replace("_", " "))
        measure_axis(axis, RATE)
    save(figure, path)
    caption = (
        "Each model's headline rate (95% Wilson interval) against its capability score, over the cells every scored model ran; "
        f"the line is the logistic regression of the label on the score. n per point: that model's runs; here {n_range(table)}."
    )
    return Figure(path, "Capability: the rate against a capability score", caption)
