"""Small statistics: percentiles and the min/median/max of several rounds."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` in 0..1) of ``values``; nan when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class Spread:
    """min / median / max of one figure over the measured rounds."""

    low: float
    median: float
    high: float
    rounds: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        clean = [value for value in values if not math.isnan(value)]
        if not clean:
            return cls(math.nan, math.nan, math.nan, 0)
        return cls(min(clean), statistics.median(clean), max(clean), len(clean))

    def format(self, digits: int = 2, unit: str = "") -> str:
        if self.rounds == 0:
            return "n/a"
        return (
            f"{self.median:.{digits}f}{unit} "
            f"({self.low:.{digits}f}–{self.high:.{digits}f}, n={self.rounds})"
        )


def ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """Round-by-round ratios of two interleaved series (a round with a zero baseline is skipped)."""
    return [a / b for a, b in zip(numerators, denominators, strict=False) if b]
