"""Trading rules as scalar functions: how a target exposure becomes shares, and when it trades.

One implementation for every place that turns a decision into an order: the scalar env calls
them as plain Python, the vectorized env's numba kernel compiles the same function objects, and
the execution engine will call them per bar, so a policy meets the same rules everywhere.
"""

from __future__ import annotations

import math


def target_shares(exposure: float, equity: float, price: float, lot: float) -> float:
    """Shares for a target exposure (fraction of equity) at ``price``, truncated to whole lots."""
    return float(math.trunc(exposure * max(equity, 0.0) / price / lot)) * lot


def places_order(
    target: float, intended: float, price: float, equity: float, deadband: float
) -> bool:
    """Whether a new target differs enough from the last one to become an order.

    Going flat always trades; otherwise the change must be worth at least ``deadband`` of equity.
    """
    if target == intended:
        return False
    return target == 0.0 or abs(target - intended) * price >= deadband * equity
