"""Incremental risk calculators: each update is O(1) (amortized for the windowed ones).

Every calculator has a numpy batch twin in ``tests/risk/batch_twins.py``; tests check that they
agree to 1e-9 on random series. The calculators hold plain floats so the engine's hot path reads
them without conversions.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from statistics import NormalDist


class PeakTracker:
    """Running peak (high-water mark) of a series and the drawdown below it.

    >>> tracker = PeakTracker()
    >>> for equity in (100.0, 110.0, 99.0):
    ...     tracker.update(equity)
    >>> round(tracker.drawdown, 6)
    0.1
    """

    __slots__ = ("last", "peak")

    def __init__(self) -> None:
        self.peak = -math.inf
        self.last = math.nan

    def reset(self, value: float | None = None) -> None:
        """Forget the history; start from ``value`` when given."""
        self.peak = -math.inf
        self.last = math.nan
        if value is not None:
            self.update(value)

    def update(self, value: float) -> None:
        """Add one observation (NaN is stored as the last value and leaves the peak unchanged)."""
        self.last = value
        if value > self.peak:
            self.peak = value

    @property
    def drawdown(self) -> float:
        """``1 - last / peak`` (0 at a new peak, NaN before any observation or a peak <= 0)."""
        if not self.peak > 0.0:
            return math.nan
        return 1.0 - self.last / self.peak


class EwmaVariance:
    """EWMA of squared returns (RiskMetrics): ``var = lam * var + (1 - lam) * r**2``.

    Starts at ``initial_variance`` (a prior), so the VaR exists from the first bar.
    """

    __slots__ = ("initial_variance", "lam", "n_updates", "variance")

    def __init__(self, lam: float, initial_variance: float) -> None:
        self.lam = lam
        self.initial_variance = initial_variance
        self.variance = initial_variance
        self.n_updates = 0

    def reset(self) -> None:
        """Return to the prior."""
        self.variance = self.initial_variance
        self.n_updates = 0

    def update(self, ret: float) -> None:
        """Add one return (a simple return, not in percent)."""
        self.variance = self.lam * self.variance + (1.0 - self.lam) * ret * ret
        self.n_updates += 1

    @property
    def volatility(self) -> float:
        """Standard deviation of one bar's return."""
        return math.sqrt(self.variance)


class WindowCounter:
    """Events in a trailing time window ``(now - window, now]`` from a deque of timestamps.

    ``record`` is O(1); ``count`` is O(log n) and never mutates; ``evict`` drops what fell out
    (amortized O(1)).
    """

    __slots__ = ("times_ns", "window_ns")

    def __init__(self, window_ns: int) -> None:
        self.window_ns = window_ns
        self.times_ns: deque[int] = deque()

    def record(self, now_ns: int) -> None:
        """Add an event at ``now_ns`` and evict events older than the window."""
        self.times_ns.append(now_ns)
        self.evict(now_ns)

    def evict(self, now_ns: int) -> None:
        """Drop events at or before ``now_ns - window_ns``."""
        cutoff = now_ns - self.window_ns
        times = self.times_ns
        while times and times[0] <= cutoff:
            times.popleft()

    def trim(self) -> None:
        """Drop events already out of the window as of the newest one (none can count again).

        Lets an idle moment (an update) pay for the eviction instead of the next order.
        """
        times = self.times_ns
        if times and times[0] <= times[-1] - self.window_ns:
            self.evict(times[-1])

    def count(self, now_ns: int) -> int:
        """Events in ``(now_ns - window_ns, now_ns]`` (timestamps are non-decreasing)."""
        times = self.times_ns
        if not times or times[0] > now_ns - self.window_ns:
            return len(times)
        return len(times) - bisect_right(times, now_ns - self.window_ns)

    def clear(self) -> None:
        """Forget every event."""
        self.times_ns.clear()


class RollingMean:
    """Mean of the last ``size`` values: a ring buffer with a running sum (O(1) per value)."""

    __slots__ = ("_next", "_values", "size", "total")

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: list[float] = []
        self._next = 0
        self.total = 0.0

    def push(self, value: float) -> None:
        """Add ``value``, dropping the oldest once ``size`` values are held."""
        if len(self._values) < self.size:
            self._values.append(value)
            self.total += value
            return
        self.total += value - self._values[self._next]
        self._values[self._next] = value
        self._next = (self._next + 1) % self.size
        if self._next == 0:  # re-sum once per cycle so rounding never accumulates
            self.total = math.fsum(self._values)

    def resize(self, size: int) -> None:
        """Keep the most recent ``size`` values and hold at most that many from now on."""
        ordered = self._values[self._next :] + self._values[: self._next]
        self._values = ordered[-size:]
        self._next = 0  # oldest first: the next overwrite (when full) is index 0
        self.size = size
        self.total = math.fsum(self._values)

    @property
    def n_values(self) -> int:
        """How many values the mean is over (at most ``size``)."""
        return len(self._values)

    @property
    def mean(self) -> float:
        """The mean, NaN before any value."""
        return self.total / len(self._values) if self._values else math.nan


class RunningSum:
    """A sum of a stream with Neumaier compensation, so long sessions do not drift.

    ``value`` is a plain attribute (kept up to date by :meth:`add`), cheap to read on a hot path.
    """

    __slots__ = ("_compensation", "_sum", "value")

    def __init__(self) -> None:
        self._sum = 0.0
        self._compensation = 0.0
        self.value = 0.0

    def add(self, value: float) -> None:
        """Add ``value``."""
        total = self._sum + value
        if abs(self._sum) >= abs(value):
            self._compensation += (self._sum - total) + value
        else:
            self._compensation += (value - total) + self._sum
        self._sum = total
        self.value = total + self._compensation

    def reset(self) -> None:
        """Back to 0."""
        self._sum = 0.0
        self._compensation = 0.0
        self.value = 0.0


def normal_var_multiplier(confidence: float) -> float:
    """Return ``z``: the VaR of a N(0, sigma) loss is ``z * sigma``.

    >>> round(normal_var_multiplier(0.99), 4)
    2.3263
    """
    return NormalDist().inv_cdf(confidence)


def normal_cvar_multiplier(confidence: float) -> float:
    """Return ``phi(z) / (1 - c)``: the expected shortfall of a N(0, sigma) loss over sigma.

    >>> round(normal_cvar_multiplier(0.99), 4)
    2.6652
    """
    z = NormalDist().inv_cdf(confidence)
    return NormalDist().pdf(z) / (1.0 - confidence)


def parametric_var(
    sigma_bar: float, exposure: float, confidence: float, horizon_bars: int
) -> float:
    """Value at risk of ``exposure`` (currency) over ``horizon_bars``, normal returns, in currency.

    Exposures of several symbols add (perfect correlation: the conservative bound).
    """
    return normal_var_multiplier(confidence) * sigma_bar * math.sqrt(horizon_bars) * abs(exposure)


def parametric_cvar(
    sigma_bar: float, exposure: float, confidence: float, horizon_bars: int
) -> float:
    """Expected shortfall counterpart of :func:`parametric_var`, in currency."""
    multiplier = normal_cvar_multiplier(confidence)
    return multiplier * sigma_bar * math.sqrt(horizon_bars) * abs(exposure)
