"""The env's own per-bar function: the reward's control variate.

The trading rules (action mapping, sizing, the deadband, the fill-delay queue) live in
:mod:`intraday_rl.market.rules` and the observation's portfolio fields in
:mod:`intraday_rl.features.portfolio`, where the execution engine calls them too. Like those, this
runs as plain Python in the scalar env and compiled by numba inside the vectorized env's kernel,
so both envs follow the same lines.
"""

from __future__ import annotations

import math


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
