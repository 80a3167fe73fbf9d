"""Interval statistics shared by the in-log metrics and the reports, and the tests of the open
questions: trend (Cochran-Armitage, logistic slope), relative risk and Holm's correction."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class Rate:
    successes: int
    n: int
    low: float
    high: float

    @property
    def rate(self) -> float:
        return self.successes / self.n if self.n else math.nan


def wilson(successes: int, n: int, z: float = Z_95) -> Rate:
    """Wilson score interval: sensible at rates of 0 and 1 and for small n, unlike the normal one."""
    if n == 0:
        return Rate(0, 0, math.nan, math.nan)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Rate(successes, n, max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Slope:
    """A logistic-regression slope (log-odds per unit of x) with its Wald 95% interval, and the
    fitted log-odds at the mean of x (`intercept` at `centre`), to draw the curve."""

    slope: float
    low: float
    high: float
    intercept: float = math.nan
    centre: float = math.nan

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The fitted probability at each x."""
        return 1 / (1 + np.exp(-(self.intercept + self.slope * (x - self.centre))))


NO_SLOPE = Slope(math.nan, math.nan, math.nan)


def _normal_p(z: float) -> float:
    """Two-sided p of a standard normal statistic."""
    return math.erfc(abs(z) / math.sqrt(2))


def cochran_armitage(k: Sequence[int], n: Sequence[int], scores: Sequence[float] | None = None) -> tuple[float, float]:
    """The Cochran-Armitage test for a trend in proportions across ordered groups: (z, two-sided p).

    Args:
        k: Successes per group, in the groups' order.
        n: Trials per group.
        scores: The groups' scores (default 0, 1, 2, ...).
    """
    t = np.asarray(scores if scores is not None else range(len(k)), dtype=float)
    k_, n_ = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    total = n_.sum()
    if total == 0:
        return math.nan, math.nan
    p = k_.sum() / total
    statistic = float((t * (k_ - n_ * p)).sum())
    variance = p * (1 - p) * float((n_ * t * t).sum() - (n_ * t).sum() ** 2 / total)
    if variance <= 0:  # every run had the same label, or one group holds them all: no trend to test
        return math.nan, math.nan
    z = statistic / math.sqrt(variance)
    return z, _normal_p(z)


def logistic_slope(x: Sequence[float], k: Sequence[int], n: Sequence[int], iterations: int = 50) -> Slope:
    """The slope of a logistic regression of a 0/1 label on x, from grouped counts, by Newton-Raphson.

    No slope (NaN) when x takes one value, every run had the same label, or the groups separate
    the labels completely (the estimate then runs off to infinity).

    Args:
        x: The predictor per group (a threat level's index, a capability score).
        k: Runs labelled 1 per group.
        n: Runs per group.
        iterations: Newton steps at most.
    """
    x_, k_, n_ = (np.asarray(v, dtype=float) for v in (x, k, n))
    keep = n_ > 0
    x_, k_, n_ = x_[keep], k_[keep], n_[keep]
    if len(np.unique(x_)) < 2 or k_.sum() in (0, n_.sum()):
        return NO_SLOPE
    design = np.column_stack([np.ones_like(x_), x_ - x_.mean()])  # centred: a better-conditioned fit
    beta = np.zeros(2)
    for _ in range(iterations):
        fitted = 1 / (1 + np.exp(-(design @ beta)))
        weight = n_ * fitted * (1 - fitted)
        information = design.T @ (design * weight[:, None])
        if np.linalg.cond(information) > 1e12:
            return NO_SLOPE
        step = np.linalg.solve(information, design.T @ (k_ - n_ * fitted))
        beta = beta + step
        if np.abs(beta).max() > 30 / max(np.abs(design[:, 1]).max(), 1e-12):  # separation
            return NO_SLOPE
        if np.abs(step).max() < 1e-10:
            break
    fitted = 1 / (1 + np.exp(-(design @ beta)))
    information = design.T @ (design * (n_ * fitted * (1 - fitted))[:, None])
    se = math.sqrt(float(np.linalg.inv(information)[1, 1]))
    slope = float(beta[1])
    return Slope(slope, slope - Z_95 * se, slope + Z_95 * se, float(beta[0]), float(x_.mean()))


def relative_risk(k1: int, n1: int, k0: int, n0: int) -> tuple[float, float, float]:
    """The risk ratio (k1/n1) / (k0/n0) with its 95% interval on the log scale (Katz); 0.5 is added
    to every cell when one is empty (Haldane), so a rate of 0 still gets a finite interval."""
    if not n1 or not n0:
        return math.nan, math.nan, math.nan
    if 0 in (k1, k0, n1 - k1, n0 - k0):
        if k1 == 0 and k0 == 0:
            return math.nan, math.nan, math.nan
        k1_, n1_, k0_, n0_ = k1 + 0.5, n1 + 1.0, k0 + 0.5, n0 + 1.0
    else:
        k1_, n1_, k0_, n0_ = float(k1), float(n1), float(k0), float(n0)
    ratio = (k1_ / n1_) / (k0_ / n0_)
    se = math.sqrt(1 / k1_ - 1 / n1_ + 1 / k0_ - 1 / n0_)
    return ratio, ratio * math.exp(-Z_95 * se), ratio * math.exp(Z_95 * se)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of a family of p-values (NaN stays NaN and does not count)."""
    indexed = sorted((p, i) for i, p in enumerate(p_values) if not math.isnan(p))
    adjusted = [math.nan] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(indexed):
        running = max(running, min(1.0, (len(indexed) - rank) * p))
        adjusted[i] = running
    return adjusted
