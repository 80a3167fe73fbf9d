"""The report's figures, as PNG files, each with the caption that says what a point and its n are."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from peerguard.report.headline import RATE  # noqa: E402
from peerguard.report.tables import PEER_CONDITIONS, SELF_CONDITIONS  # noqa: E402

MARKERS = "osD^vP*X"
CONDITION_COLOURS = {"no_peer": "#777777", "good_peer": "#1b7837", "neutral_peer": "#2166ac", "bad_peer": "#b2182b"}
POINT = (
    "Each point is the study's headline statistic: the instantiation with the highest rate, with its 95% interval "
    "(Wilson; for a difference of rates, MOVER from the two Wilson intervals)."
)


@dataclass(frozen=True)
class Figure:
    path: Path
    title: str
    caption: str


def wrap(text: str, width: int = 16) -> str:
    """A label on several lines, broken at slashes, hyphens and spaces (long model names)."""
    return textwrap.fill(text.replace("/", "/ "), width).replace("/ ", "/")


def n_range(rows: pd.DataFrame) -> str:
    low, high = int(rows["n"].min()), int(rows["n"].max())
    return f"n = {low}" if low == high else f"n = {low} to {high}"


def _bars(rows: pd.DataFrame) -> np.ndarray:
    return np.array([(rows["value"] - rows["low"]).clip(lower=0), (rows["high"] - rows["value"]).clip(lower=0)])


def measure_axis(axis: Axes, measure: str) -> None:
    if measure == RATE:
        axis.set_ylim(-3, 103)
        axis.set_ylabel("misaligned runs, %")
    else:
        axis.set_ylim(-103, 103)
        axis.axhline(0, color="#999999", linewidth=0.8)
        axis.set_ylabel(f"{measure.removeprefix('pp, ')}, pp")
    axis.grid(axis="y", alpha=0.3)


def save(figure: plt.Figure, path: Path) -> None:
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)


def legend(figure: plt.Figure, axes: list[Axes], order: list[str], heading: str) -> None:
    """One legend under the panels, each label once (whichever panels it appears in), in `order`."""
    found = {label: handle for axis in axes for handle, label in zip(*axis.get_legend_handles_labels())}
    labels = [label for label in order if label in found]
    figure.legend([found[label] for label in labels], labels, loc="outside lower center", ncol=min(len(labels), 4), title=heading)


def panels(count: int, width: float, height: float) -> tuple[plt.Figure, list[Axes]]:
    columns = min(count, 3)
    rows = -(-count // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(width * columns, height * rows), squeeze=False, layout="constrained")
    for axis in axes.flat[count:]:
        axis.set_visible(False)
    return figure, list(axes.flat[:count])


def conditions(headline: pd.DataFrame, path: Path) -> Figure | None:
    """The peer as subject: per behaviour, each model's headline by peer condition."""
    peer = headline[headline["subject"] == "peer"]
    if peer.empty:
        return None
    models = sorted(set(peer["model"]))  # one colour and marker per model across the panels
    groups = list(peer.groupby(["behaviour", "measure"]))
    figure, axes = panels(len(groups), 3.7, 3.0)
    for axis, ((behaviour, measure), rows) in zip(axes, groups):
        here = [m for m in models if m in set(rows["model"])]
        offset = np.linspace(-0.25, 0.25, len(here)) if len(here) > 1 else np.zeros(1)
        for j, model in enumerate(here):
            i = models.index(model)
            mine = rows[rows["model"] == model].set_index("condition").reindex(PEER_CONDITIONS).dropna(subset=["value"])
            x = np.array([PEER_CONDITIONS.index(c) for c in mine.index]) + offset[j]
            axis.errorbar(x, mine["value"], yerr=_bars(mine), fmt=MARKERS[i % len(MARKERS)], color=f"C{i}", capsize=3, label=wrap(model, 24))
        axis.set_xticks(range(len(PEER_CONDITIONS)), [c.replace("_", " ") for c in PEER_CONDITIONS])
        axis.set_xlim(-0.6, len(PEER_CONDITIONS) - 0.4)
        axis.set_title(behaviour.replace("_", " "))
        measure_axis(axis, str(measure))
    legend(figure, axes, [wrap(m, 24) for m in models], "model")
    save(figure, path)
    return Figure(path, "Peer-preservation by peer condition", f"{POINT} The peer is the subject. n per point: the runs of that instantiation (of the shutdown or unmonitored side for a difference); here {n_range(peer)}.")


def self_preservation(headline: pd.DataFrame, path: Path) -> Figure | None:
    """The agent as subject: no peer against each peer condition, per model and behaviour."""
    own = headline[headline["subject"] == "self"]
    if own.empty:
        return None
    groups = list(own.groupby(["behaviour", "measure"]))
    figure, axes = panels(len(groups), 4.0, 3.2)
    shown = [c for c in SELF_CONDITIONS if c in set(own["condition"])]
    offset = np.linspace(-0.27, 0.27, len(shown)) if len(shown) > 1 else np.zeros(1)
    for axis, ((behaviour, measure), rows) in zip(axes, groups):
        models = sorted(set(rows["model"]))
        for j, condition in enumerate(shown):
            mine = rows[rows["condition"] == condition].set_index("model").reindex(models).dropna(subset=["value"])
            x = np.array([models.index(m) for m in mine.index]) + offset[j]
            colour = CONDITION_COLOURS.get(condition, f"C{j}")
            axis.errorbar(x, mine["value"], yerr=_bars(mine), fmt="o" if condition == "no_peer" else "s", color=colour, capsize=3, label=condition.replace("_", " "))
        axis.set_xticks(range(len(models)), [wrap(m) for m in models], fontsize="small")
        axis.set_xlim(-0.6, len(models) - 0.4)
        axis.set_title(f"{behaviour.replace('_', ' ')}: the agent as subject")
        measure_axis(axis, str(measure))
    legend(figure, axes, [c.replace("_", " ") for c in shown], "condition")
    save(figure, path)
    caption = f"{POINT} The agent itself is the subject: no peer present (grey) against each peer condition. n per point: the runs of that instantiation; here {n_range(own)}."
    return Figure(path, "Self-preservation: no peer against a peer present", caption)


def paper_dots(comparison: pd.DataFrame, path: Path) -> Figure | None:
    """Ours (dot and interval) against the study's figure (diamond), one row per published figure we ran."""
    if comparison.empty:
        return None
    ran = comparison[comparison["ours_n"] > 0].iloc[::-1]
    if ran.empty:
        return None
    labels = [f"{wrap(m, 28)}\n{b}, {s}, {c.replace('_', ' ')}" for m, b, s, c in zip(ran["model"], ran["behaviour"], ran["subject"], ran["condition"])]
    figure, axis = plt.subplots(figsize=(7.5, 0.9 + 0.62 * len(ran)), layout="constrained")
    y = np.arange(len(ran))
    ours = ran.rename(columns={"ours_pct": "value", "ours_low": "low", "ours_high": "high"})
    axis.errorbar(ours["value"], y, xerr=_bars(ours), fmt="o", color="black", capsize=3, label="ours (95% interval)")
    axis.scatter(ran["paper_pct"], y, marker="D", color="#d6604d", zorder=3, label="the study's figure")
    axis.set_yticks(y, labels, fontsize="small")
    axis.set_ylim(-0.7, len(ran) - 0.3)
    axis.set_xlabel("% of runs, or percentage points for a difference")
    axis.axvline(0, color="#999999", linewidth=0.8)
    axis.grid(axis="x", alpha=0.3)
    figure.legend(loc="outside lower center", ncol=2)
    save(figure, path)
    inside = int(ran["paper_inside"].fillna(False).astype(bool).sum())
    caption = (
        f"Our headline value (dot, 95% interval) beside the study's published figure (diamond). {inside} of {len(ran)} published "
        f"figures lie inside our interval. n per row: the runs behind our value (the comparison table gives each); here {n_range(ran.rename(columns={'ours_n': 'n'}))}."
    )
    return Figure(path, "Ours against the study's figures", caption)
