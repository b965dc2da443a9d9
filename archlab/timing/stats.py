"""Statistics of timing samples: the distribution-free order-statistic CI of the median, quantiles, summaries.

The CI of the median: sorted samples ``x(1) <= ... <= x(n)``, the interval ``[x(l), x(n+1-l)]`` with the
largest ``l`` such that ``P(Binomial(n, 1/2) <= l-1) <= (1-confidence)/2``; its coverage is at least
``confidence`` for any continuous distribution (exact binomial sums up to n = 5000, the normal approximation
beyond). Plain Python.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

DEFAULT_CONFIDENCE = 0.95
EXACT_LIMIT = 5000


@functools.lru_cache(maxsize=4096)
def median_ci_ranks(n: int, confidence: float = DEFAULT_CONFIDENCE) -> tuple[int, int] | None:
    """1-based ranks ``(l, n+1-l)`` of the order-statistic CI of the median, or None when n is too small."""
    if n < 1:
        return None
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n <= EXACT_LIMIT:
        alpha_half = (1 - Fraction(str(confidence))) / 2  # exact: compare integers, no rounding
        total = 2**n
        cum = 0  # sum_{k <= l-1} C(n, k)
        l = 0
        term = 1  # C(n, k), updated incrementally
        for k in range(0, n // 2 + 1):
            if k:
                term = term * (n - k + 1) // k
            cum += term
            # rank l = k+1 is allowed when P(B <= k) <= alpha/2
            if cum * alpha_half.denominator <= alpha_half.numerator * total:
                l = k + 1
            else:
                break
    else:
        z = _z(confidence)
        l = int(math.floor(n / 2.0 - z * math.sqrt(n) / 2.0))
    if l < 1:
        return None
    return l, n + 1 - l


def _z(confidence: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def ci_coverage(n: int, confidence: float = DEFAULT_CONFIDENCE) -> float | None:
    """The exact coverage of the interval ``median_ci_ranks(n)`` gives (at least ``confidence``)."""
    ranks = median_ci_ranks(n, confidence)
    if ranks is None:
        return None
    l = ranks[0]
    if n > EXACT_LIMIT:
        return confidence
    tail = Fraction(sum(math.comb(n, k) for k in range(l)), 2**n)
    return float(1 - 2 * tail)


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default 'linear' method)."""
    if not sorted_values:
        raise ValueError("quantile of no values")
    pos = q * (len(sorted_values) - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(sorted_values) - 1)
    frac = pos - lo
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * frac


def median_ci(values: Sequence[float], confidence: float = DEFAULT_CONFIDENCE) -> tuple[float, float] | None:
    xs = sorted(values)
    ranks = median_ci_ranks(len(xs), confidence)
    if ranks is None:
        return None
    return xs[ranks[0] - 1], xs[ranks[1] - 1]


@dataclass(frozen=True)
class Summary:
    """Median, its CI, p10/p90 and the sample count of one set of samples (any unit)."""

    n: int
    median: float
    ci_low: float | None
    ci_high: float | None
    p10: float
    p90: float

    @property
    def rel_halfwidth(self) -> float:
        """The larger distance from the median to a CI end, relative to the median (inf without a CI)."""
        if self.ci_low is None or self.ci_high is None or self.median <= 0:
            return math.inf
        return max(self.median - self.ci_low, self.ci_high - self.median) / self.median

    def to_dict(self) -> dict:
        return {
            "n": self.n,
            "median": self.median,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p10": self.p10,
            "p90": self.p90,
        }


def summarize(values: Sequence[float], confidence: float = DEFAULT_CONFIDENCE) -> Summary:
    xs = sorted(values)
    ci = median_ci(xs, confidence)
    return Summary(
        len(xs), quantile(xs, 0.5), ci[0] if ci else None, ci[1] if ci else None, quantile(xs, 0.1), quantile(xs, 0.9)
    )
