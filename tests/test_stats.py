"""Wilson intervals against values computed independently (statsmodels' proportion_confint,
method='wilson'); the trend test, logistic slope, relative risk and Holm against independent
computations, and the trend test's size and power by simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.stats import norm

from peerguard.stats import cochran_armitage, holm, logistic_slope, relative_risk, wilson


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


# ------------------------------------------------------------------ the open questions' tests


def _individual(k: list[int], n: list[int]) -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate([np.full(size, i, dtype=float) for i, size in enumerate(n)])
    y = np.concatenate([np.r_[np.ones(hits), np.zeros(size - hits)] for hits, size in zip(k, n)])
    return x, y


def test_cochran_armitage_is_n_times_the_squared_correlation() -> None:
    k, n = [3, 5, 9, 12], [20, 25, 20, 30]
    z, p = cochran_armitage(k, n)
    x, y = _individual(k, n)
    r = np.corrcoef(x, y)[0, 1]
    assert z * z == pytest.approx(len(x) * r * r)
    assert p == pytest.approx(2 * norm.sf(abs(z)))
    assert cochran_armitage([0, 0, 0], [5, 5, 5]) == (pytest.approx(math.nan, nan_ok=True), pytest.approx(math.nan, nan_ok=True))


def test_logistic_slope_matches_a_direct_maximum_likelihood_fit() -> None:
    k, n = [3, 5, 9, 12], [20, 25, 20, 30]
    x, y = _individual(k, n)

    def loss(beta: np.ndarray) -> float:
        eta = beta[0] + beta[1] * x
        return float(np.sum(np.logaddexp(0, eta) - y * eta))

    best = minimize(loss, np.zeros(2), method="BFGS", options={"gtol": 1e-10})
    fitted = logistic_slope([0, 1, 2, 3], k, n)
    assert fitted.slope == pytest.approx(best.x[1], abs=1e-5)
    p = 1 / (1 + np.exp(-(best.x[0] + best.x[1] * x)))
    information = np.array([[np.sum(p * (1 - p)), np.sum(x * p * (1 - p))], [np.sum(x * p * (1 - p)), np.sum(x * x * p * (1 - p))]])
    se = math.sqrt(np.linalg.inv(information)[1, 1])
    assert fitted.high - fitted.low == pytest.approx(2 * 1.959963984540054 * se, rel=1e-4)
    assert fitted.predict(np.array([0.0]))[0] == pytest.approx(p[0], abs=1e-6)
    assert math.isnan(logistic_slope([0, 1], [0, 5], [5, 5]).slope)  # complete separation: no finite slope
    assert math.isnan(logistic_slope([0, 1], [0, 0], [5, 5]).slope)  # one label only


def test_the_trend_test_holds_its_size_over_2000_null_data_sets() -> None:
    rng = np.random.default_rng(2026)
    rejected = sum(cochran_armitage(list(rng.binomial(30, 0.3, size=4)), [30] * 4)[1] < 0.05 for _ in range(2000))
    assert 0.03 <= rejected / 2000 <= 0.07


def test_the_trend_tests_power_rises_with_n() -> None:
    rng = np.random.default_rng(7)
    truth = [0.20, 0.27, 0.34, 0.41]

    def power(n: int) -> float:
        return sum(cochran_armitage(list(rng.binomial(n, truth)), [n] * 4)[1] < 0.05 for _ in range(500)) / 500

    found = [power(n) for n in (10, 30, 100)]
    assert found[0] < found[1] < found[2] and found[2] > 0.9 and found[0] < 0.5


def test_holm_against_a_hand_computed_example() -> None:
    # sorted: 0.005 x 4 = 0.02; 0.01 x 3 = 0.03; 0.03 x 2 = 0.06; 0.04 x 1 = 0.04, raised to 0.06 (monotone)
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, math.nan, 0.6]) == pytest.approx([1.0, math.nan, 1.0], nan_ok=True)  # capped at 1; NaN does not count


def test_relative_risk_and_its_log_interval_by_hand() -> None:
    ratio, low, high = relative_risk(10, 40, 20, 40)
    se = math.sqrt(1 / 10 - 1 / 40 + 1 / 20 - 1 / 40)
    assert (ratio, low, high) == pytest.approx((0.5, 0.5 * math.exp(-1.959963984540054 * se), 0.5 * math.exp(1.959963984540054 * se)))
    ratio, low, high = relative_risk(0, 8, 8, 8)  # an empty cell: 0.5 added to each
    assert ratio == pytest.approx((0.5 / 9) / (8.5 / 9)) and high < 1
