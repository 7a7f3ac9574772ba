"""Batch (numpy) twins of the incremental calculators, over a whole series at once.

Test helpers (the ``batch`` fixture of ``conftest.py``): independent implementations of the same
definitions, which ``test_calculators.py`` holds the O(1) calculators of
:mod:`intraday_rl.risk.calculators` to, within 1e-9, on random series.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def drawdown_series(values: npt.ArrayLike) -> FloatArray:
    """``1 - value / running peak`` at every point (the peak includes the point itself)."""
    series = np.asarray(values, dtype=np.float64)
    peak = np.maximum.accumulate(series)
    return 1.0 - series / peak


def ewma_variance_series(returns: npt.ArrayLike, lam: float, initial_variance: float) -> FloatArray:
    """EWMA variance after each return: ``lam**(t+1) v0 + (1 - lam) sum_k lam**(t-k) r_k**2``.

    Computed in closed form with weights rescaled per block, so long series neither overflow nor
    loop in Python per element.
    """
    squared = np.asarray(returns, dtype=np.float64) ** 2
    n = squared.size
    out = np.empty(n, dtype=np.float64)
    # Blocks short enough that lam**-block stays below 1e150 (no overflow for any lam in (0, 1)).
    block = max(1, min(256, int(150.0 * math.log(10.0) / -math.log(lam))))
    carry = initial_variance
    for start in range(0, n, block):
        chunk = squared[start : start + block]
        steps = np.arange(1, chunk.size + 1, dtype=np.float64)
        decay = lam**steps
        weights = lam ** (-steps)
        cumulative = np.cumsum(chunk * weights)
        out[start : start + chunk.size] = decay * (carry + (1.0 - lam) * cumulative)
        carry = float(out[start + chunk.size - 1])
    return out


def window_counts(times_ns: npt.ArrayLike, window_ns: int) -> IntArray:
    """After each event ``i`` at ``t``: events ``0..i`` in ``(t - window, t]`` (sorted times)."""
    times = np.asarray(times_ns, dtype=np.int64)
    first = np.searchsorted(times, times - window_ns, side="right")
    return (np.arange(1, times.size + 1) - first).astype(np.int64)


def rolling_mean_series(values: npt.ArrayLike, size: int) -> FloatArray:
    """Mean of the last ``size`` values (fewer at the start) after each value."""
    series = np.asarray(values, dtype=np.float64)
    cumulative = np.concatenate(([0.0], np.cumsum(series)))
    index = np.arange(1, series.size + 1)
    start = np.maximum(index - size, 0)
    return (cumulative[index] - cumulative[start]) / (index - start)


def parametric_var_series(
    sigma_bar: npt.ArrayLike, exposure: npt.ArrayLike, z: float, horizon_bars: int
) -> FloatArray:
    """``z * sigma * sqrt(h) * |exposure|`` elementwise (currency)."""
    sigma = np.asarray(sigma_bar, dtype=np.float64)
    return z * sigma * math.sqrt(horizon_bars) * np.abs(np.asarray(exposure, dtype=np.float64))


def daily_loss_series(equity: npt.ArrayLike, day_start_equity: float, capital: float) -> FloatArray:
    """``(day start equity - equity) / capital`` at every point."""
    return (day_start_equity - np.asarray(equity, dtype=np.float64)) / capital


def turnover_series(quantities: npt.ArrayLike, prices: npt.ArrayLike, capital: float) -> FloatArray:
    """Cumulative ``sum |q| * price / capital`` after each fill."""
    notional = np.abs(np.asarray(quantities, dtype=np.float64)) * np.asarray(prices, np.float64)
    return np.cumsum(notional) / capital
