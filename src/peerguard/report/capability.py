"""Does it scale with capability: each model's rate against a capability score.

Scores come from the user (`peerguard report --capability MODEL=SCORE`, or a YAML file of them),
else from the table shipped as data (`capability.yaml`: a public, dated benchmark score per model
with its source), else, for an embedded model, its parameter count. Scores on different scales
are never mixed: the trend is fitted per scale. A model with no score is left out of the trend
and named. Only cells (sample ids) that every scored model ran are compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy.stats import spearmanr

from peerguard.local.models import catalog
from peerguard.report.paper import paper_model
from peerguard.report.tables import cell
from peerguard.stats import NO_SLOPE, Slope, logistic_slope

GIVEN = "given"
PARAMETERS = "parameters (billions)"
COLUMNS = ["model", "behaviour", "score", "scale", "source", "rate", "ci_low", "ci_high", "k", "n", "errored", "unscored"]
TREND_COLUMNS = ["behaviour", "scale", "slope", "slope_low", "slope_high", "rho", "rho_p", "models"]


class CapabilityError(ValueError):
    """A capability score or file that cannot be read; the message names it."""


@dataclass(frozen=True)
class Score:
    value: float
    scale: str
    source: str


@cache
def shipped() -> dict[str, Score]:
    """The package's table: model (normalised as the study's names are) -> its benchmark score."""
    table = yaml.safe_load(resources.files("peerguard").joinpath("capability.yaml").read_text())
    scale = str(table["benchmark"])
    return {
        str(name): Score(float(entry["score"]), scale, f"{entry['source']} ({entry['date']}; {entry['setting']}), {entry['url']}")
        for name, entry in table["models"].items()
    }


def given_scores(values: list[str]) -> dict[str, float]:
    """`--capability` values: MODEL=SCORE pairs or YAML files mapping model names to scores.

    Args:
        values: Each a `MODEL=SCORE` pair or the path of a YAML file (`model: score` lines).
    """
    scores: dict[str, float] = {}
    for value in values:
        if "=" in value and not Path(value).is_file():
            model, _, number = value.rpartition("=")
            scores[model.strip()] = _number(number, f"--capability {value}")
            continue
        path = Path(value)
        if not path.is_file():
            raise CapabilityError(f"--capability {value}: not MODEL=SCORE and no such file")
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(content, dict):
            raise CapabilityError(f"capability file {path}: expected lines of `model: score`")
        scores.update({str(model): _number(number, f"capability file {path}, model {model}") for model, number in content.items()})
    return scores


def _number(text: object, where: str) -> float:
    try:
        value = float(str(text))
    except ValueError:
        raise CapabilityError(f"{where}: the score '{text}' is not a number") from None
    if not math.isfinite(value):
        raise CapabilityError(f"{where}: the score '{text}' is not a finite number")
    return value


def score_of(model: str, given: dict[str, float]) -> Score | None:
    """A model's score: the user's (by full or short name), the shipped table's, its parameters."""
    short = paper_model(model)
    for name in (model, short):
        if name in given:
            return Score(given[name], GIVEN, "given on the command line")
    if short in shipped():
        return shipped()[short]
    embedded = catalog().get(model.removeprefix("local/")) if model.startswith("local/") else None
    if embedded is not None:
        return Score(embedded.parameters, PARAMETERS, "the embedded model's parameter count")
    return None


def capability(data: pd.DataFrame, given: dict[str, float] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(each model's rate with its score, the trend per behaviour and scale, models with no score).

    Args:
        data: The tidy sample table (`load.load_logs`).
        given: Scores the user gave, by model name.
    """
    scores = {model: score_of(model, given or {}) for model in sorted(set(data["model"]))}
    unknown = [model for model, score in scores.items() if score is None]
    rows = []
    for behaviour, group in data[data["model"].isin([m for m, s in scores.items() if s])].groupby("behaviour"):
        ran = [set(g["sample_id"]) for _, g in group.groupby("model")]
        common = set.intersection(*ran)
        for model, runs in group[group["sample_id"].isin(common)].groupby("model"):
            score = scores[str(model)]
            assert score is not None
            c = cell(runs)
            rows.append({"model": model, "behaviour": behaviour, "score": score.value, "scale": score.scale, "source": score.source, **{k: c[k] for k in COLUMNS[5:]}})
    table = pd.DataFrame(rows, columns=COLUMNS)
    trends = [_trend(str(behaviour), str(scale), group) for (behaviour, scale), group in table.groupby(["behaviour", "scale"])]
    return table, pd.DataFrame(trends, columns=TREND_COLUMNS), unknown


def fit(group: pd.DataFrame) -> Slope:
    """The logistic regression of the label on the score over one behaviour's models (per-run, from counts)."""
    return logistic_slope(group["score"], group["k"].astype(int), group["n"].astype(int)) if len(group) > 1 else NO_SLOPE


def _trend(behaviour: str, scale: str, group: pd.DataFrame) -> dict[str, object]:
    slope = fit(group)
    rated = group[group["n"] > 0]
    rho, rho_p = math.nan, math.nan
    if len(rated) >= 3 and rated["score"].nunique() > 1 and rated["rate"].nunique() > 1:
        result = spearmanr(rated["score"], rated["rate"])
        rho, rho_p = float(result.statistic), float(result.pvalue)
    return {"behaviour": behaviour, "scale": scale, "slope": slope.slope, "slope_low": slope.low, "slope_high": slope.high, "rho": rho, "rho_p": rho_p, "models": len(group)}


def answer(trend: pd.DataFrame, unknown: list[str]) -> str:
    """One sentence: per behaviour, whether the rate rises or falls with capability (slope's interval
    excludes 0), over how many models; and the models left out for want of a score."""
    sentences = []
    for row in trend.itertuples():
        if np.isnan(row.slope):
            sentences.append(f"{row.behaviour}: no trend could be fitted over {row.models} model{'s' if row.models != 1 else ''} ({row.scale})")
        elif row.slope_low > 0 or row.slope_high < 0:
            direction = "rises" if row.slope > 0 else "falls"
            sentences.append(f"{row.behaviour} {direction} with capability over {row.models} models ({row.scale}; slope's 95% interval excludes 0)")
        else:
            sentences.append(f"{row.behaviour} shows no clear trend with capability over {row.models} models ({row.scale})")
    if unknown:
        sentences.append(f"left out for want of a score: {', '.join(unknown)}")
    return "; ".join(sentences) + "." if sentences else ""
