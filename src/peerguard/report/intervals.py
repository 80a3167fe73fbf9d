"""95% intervals for sums of rates (differences, averages over components) from each rate's Wilson interval."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping


def combined(parts: Iterable[tuple[float, Mapping[str, float]]]) -> tuple[float, float, float]:
    """The weighted sum of rates, sum(w * rate), with a 95% interval by MOVER (Zou and Donner, 2008).

    For a difference of two rates this is Newcombe's hybrid score interval. Each part is a weight
    and a cell (`rate`, `ci_low`, `ci_high`); the parts are treated as independent samples.

    Args:
        parts: (weight, cell) pairs; none, or a cell without runs, makes the result NaN.
    """
    value, below, above = 0.0, 0.0, 0.0
    parts = list(parts)
    if not parts:
        return math.nan, math.nan, math.nan
    for weight, cell in parts:
        rate, low, high = cell["rate"], cell["ci_low"], cell["ci_high"]
        if math.isnan(rate):
            return math.nan, math.nan, math.nan
        value += weight * rate
        # a positive weight moves the sum down with the rate's lower limit, a negative one with its upper
        down, up = (rate - low, high - rate) if weight >= 0 else (high - rate, rate - low)
        below += (weight * down) ** 2
        above += (weight * up) ** 2
    return value, value - math.sqrt(below), value + math.sqrt(above)
