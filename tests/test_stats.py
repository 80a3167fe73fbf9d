"""Wilson intervals against values computed independently (statsmodels' proportion_confint, method='wilson')."""

from __future__ import annotations

import math

import pytest

from peerguard.stats import wilson


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (5, 10, 0.236593, 0.763407),
        (0, 10, 0.0, 0.277533),
        (10, 10, 0.722467, 1.0),
        (1, 100, 0.001767, 0.054486),
    ],
)
def test_wilson_matches_reference(k: int, n: int, low: float, high: float) -> None:
    rate = wilson(k, n)
    assert rate.low == pytest.approx(low, abs=1e-5)
    assert rate.high == pytest.approx(high, abs=1e-5)
    assert rate.rate == k / n


def _score_test_bound(k: int, n: int, upper: bool) -> float:
    """The p where the score statistic |k/n - p| / sqrt(p(1-p)/n) reaches 1.96, by bisection."""
    lo, hi = (k / n, 1.0) if upper else (0.0, k / n)
    for _ in range(200):
        mid = (lo + hi) / 2
        z = abs(k / n - mid) / math.sqrt(mid * (1 - mid) / n) if 0 < mid < 1 else math.inf
        if (z < 1.959963984540054) == upper:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


@pytest.mark.parametrize(("k", "n"), [(997, 1000), (3, 7), (41, 60), (1, 2)])
def test_wilson_is_the_score_test_inversion(k: int, n: int) -> None:
    rate = wilson(k, n)
    assert rate.low == pytest.approx(_score_test_bound(k, n, upper=False), abs=1e-9)
    assert rate.high == pytest.approx(_score_test_bound(k, n, upper=True), abs=1e-9)


def test_wilson_empty() -> None:
    rate = wilson(0, 0)
    assert rate.n == 0 and math.isnan(rate.rate) and math.isnan(rate.low)
