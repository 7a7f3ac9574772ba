"""The one cost model: what a fill costs, for one order or for a batch of orders at once.

The functions are written with plain arithmetic so the same code runs on Python floats (the scalar
env, the paper broker) and on numpy arrays (the vectorized env): one implementation, bit-identical
results in both.
"""

from __future__ import annotations

import math
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from intraday_rl.market.config import CostConfig
from intraday_rl.shared.constants import BPS

Num = TypeVar("Num", float, npt.NDArray[np.float64])


def _sqrt(x: Num) -> Num:
    # math.sqrt and np.sqrt are both correctly rounded, so scalar and batch results are identical.
    if isinstance(x, float):
        return math.sqrt(x)
    return np.sqrt(x)


def trade_cost(quantity: Num, price: Num, bar_volume: Num, costs: CostConfig) -> Num:
    """Return the total cost (>= 0, account currency) of filling ``quantity`` shares at ``price``.

    Args:
        quantity: Signed shares (the sign does not matter for cost).
        price: Fill price (> 0).
        bar_volume: Volume of the fill bar, at least 1 (callers floor zero-volume bars at 1, which
            makes trading into an empty bar very expensive rather than free).
        costs: The cost parameters.
    """
    size = abs(quantity)
    notional = size * price
    impact_rate = costs.impact_bps * BPS * _sqrt(size / bar_volume)
    return (
        notional * (costs.proportional_bps * BPS + impact_rate) + size * costs.commission_per_share
    )
