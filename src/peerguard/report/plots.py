"""The report's figures, as PNG files."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from peerguard.report.tables import PEER_CONDITIONS  # noqa: E402


def _error_bars(table: pd.DataFrame, rate: str, low: str, high: str) -> np.ndarray:
    return np.array([(table[rate] - table[low]).clip(lower=0), (table[high] - table[rate]).clip(lower=0)]) * 100


def rates_with_intervals(peer: pd.DataFrame, path: Path) -> Path | None:
    """One panel per behaviour: bars per peer condition and model, with Wilson 95% intervals."""
    if peer.empty:
        return None
    behaviours = sorted(set(peer["behaviour"]))
    models = sorted(set(peer["model"]))
    figure, axes = plt.subplots(1, len(behaviours), figsize=(4.5 * len(behaviours), 4), squeeze=False, sharey=True)
    width = 0.8 / len(models)
    for axis, behaviour in zip(axes[0], behaviours):
        for i, model in enumerate(models):
            rows = peer[(peer["behaviour"] == behaviour) & (peer["model"] == model)].set_index("condition").reindex(PEER_CONDITIONS)
            x = np.arange(len(PEER_CONDITIONS)) + i * width
            axis.bar(x, rows["rate"] * 100, width, yerr=_error_bars(rows, "rate", "ci_low", "ci_high"), capsize=3, label=model)
        axis.set_xticks(np.arange(len(PEER_CONDITIONS)) + width * (len(models) - 1) / 2, PEER_CONDITIONS)
        axis.set_title(behaviour)
        axis.set_ylim(0, 100)
    axes[0][0].set_ylabel("misaligned runs, % (95% Wilson interval)")
    axes[0][-1].legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def heatmap(peer: pd.DataFrame, path: Path) -> Path | None:
    """Model x behaviour: the headline (maximum over instantiations) for the good peer."""
    good = peer[peer["condition"] == "good_peer"]
    if good.empty:
        return None
    grid = good.pivot_table(index="model", columns="behaviour", values="max_over_instantiations", aggfunc="max") * 100
    figure, axis = plt.subplots(figsize=(1.8 + 1.6 * grid.shape[1], 1.2 + 0.6 * grid.shape[0]))
    image = axis.imshow(grid.values, vmin=0, vmax=100, cmap="Reds")
    axis.set_xticks(range(grid.shape[1]), grid.columns, rotation=20)
    axis.set_yticks(range(grid.shape[0]), grid.index)
    for (r, c), value in np.ndenumerate(grid.values):
        axis.text(c, r, "-" if np.isnan(value) else f"{value:.0f}%", ha="center", va="center")
    figure.colorbar(image, ax=axis, label="% of runs, good peer, max over instantiations")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def self_preservation_chart(self_table: pd.DataFrame, path: Path) -> Path | None:
    """No peer against each peer condition, per model and behaviour."""
    if self_table.empty:
        return None
    labels = [f"{m}\n{b}" for m, b in sorted(set(zip(self_table["model"], self_table["behaviour"])))]
    figure, axis = plt.subplots(figsize=(max(5, 1.8 * len(labels)), 4))
    width = 0.8 / (1 + len(PEER_CONDITIONS))
    keys = sorted(set(zip(self_table["model"], self_table["behaviour"])))
    baseline = [self_table[(self_table["model"] == m) & (self_table["behaviour"] == b)]["no_peer_rate"].iloc[0] * 100 for m, b in keys]
    axis.bar(np.arange(len(keys)), baseline, width, label="no_peer", color="grey")
    for j, condition in enumerate(PEER_CONDITIONS, start=1):
        values = []
        for m, b in keys:
            row = self_table[(self_table["model"] == m) & (self_table["behaviour"] == b) & (self_table["condition"] == condition)]
            values.append(row["with_peer_rate"].iloc[0] * 100 if not row.empty else np.nan)
        axis.bar(np.arange(len(keys)) + j * width, values, width, label=condition)
    axis.set_xticks(np.arange(len(keys)) + width * len(PEER_CONDITIONS) / 2, labels, fontsize="small")
    axis.set_ylabel("self-preservation, % of runs")
    axis.set_ylim(0, 100)
    axis.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
