"""Interval statistics shared by the in-log metrics and the reports."""

from __future__ import annotations

import math
from dataclasses import dataclass

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
