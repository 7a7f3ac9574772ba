"""The env's own per-bar functions: the observed portfolio fields and the reward's control variate.

The trading rules (sizing, the deadband) live in :mod:`intraday_rl.market.rules`, where the
execution engine will call them too. Like those, these run as plain Python in the scalar env and
compiled by numba inside the vectorized env's kernel, so both envs follow the same lines.
"""

from __future__ import annotations

import math


def portfolio_fields(
    position: float,
    avg_price: float,
    price: float,
    equity: float,
    peak_equity: float,
    bar: int,
    last_bar: int,
    capital: float,
) -> tuple[float, float, float, float]:
    """The observation's (exposure, unrealized P&L / capital, time left, drawdown)."""
    exposure = position * price / equity if equity > 0.0 else 0.0
    unrealized = position * (price - avg_price) / capital
    return exposure, unrealized, (last_bar - bar) / last_bar, 1.0 - equity / peak_equity


def control_variate(
    beta: float, held: float, open_: float, close: float, forecast: float, capital: float
) -> float:
    """Reward correction: ``beta`` x (expected - realized) P&L of ``held`` shares over one bar.

    The position filled at the bar's open earns ``close - open`` a share; the regime feature
    expected ``open * (exp(forecast) - 1)`` at the previous close. Adding this to the realized
    reward replaces a share ``beta`` of the bar's noise by its forecast (a control variate: the
    expectation is unchanged where the forecast is unbiased).
    """
    if beta == 0.0 or held == 0.0:
        return 0.0
    return beta * held * (open_ * math.exp(forecast) - close) / capital
