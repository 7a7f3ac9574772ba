"""The one cost model: what a fill costs.

:func:`fill_cost` is plain scalar arithmetic on floats, so the same function runs in the scalar env,
the paper broker and, compiled by numba, inside the vectorized env's kernel: one implementation and
bit-identical results everywhere (``math.sqrt`` is correctly rounded in both).
"""

from __future__ import annotations

import math

from intraday_rl.market.config import CostConfig
from intraday_rl.shared.constants import BPS


def fill_cost(
    quantity: float,
    price: float,
    bar_volume: float,
    proportional_rate: float,
    per_share: float,
    impact_rate: float,
) -> float:
    """Return the cost (>= 0, account currency) of filling ``quantity`` shares at ``price``.

    Args:
        quantity: Signed shares (the sign does not matter for cost).
        price: Fill price (> 0).
        bar_volume: Volume of the fill bar, at least 1 (callers floor zero-volume bars at 1, which
            makes trading into an empty bar very expensive rather than free).
        proportional_rate: Commission plus half-spread, as a fraction of notional.
        per_share: Commission per share.
        impact_rate: Square-root impact at 100% participation, as a fraction of notional.
    """
    size = abs(quantity)
    rate = proportional_rate + impact_rate * math.sqrt(size / bar_volume)
    return size * price * rate + size * per_share


def trade_cost(quantity: float, price: float, bar_volume: float, costs: CostConfig) -> float:
    """Return :func:`fill_cost` with the rates of ``costs``."""
    proportional_rate, per_share, impact_rate = costs.rates
    return fill_cost(quantity, price, bar_volume, proportional_rate, per_share, impact_rate)


def split_costs(
    notional: float, shares: float, total: float, costs: CostConfig
) -> tuple[float, float, float]:
    """Split what :func:`fill_cost` charged into (commission, spread, impact), account currency.

    Commission (``notional·commission_bps + shares·commission_per_share``) and spread
    (``notional·half_spread_bps``) are linear, so they follow from the traded ``notional`` and
    ``shares`` summed over any number of fills; impact is the rest of ``total`` (the sum of the
    fills' :func:`fill_cost`), floored at 0 against rounding. :func:`fill_cost` stays the one
    figure used for accounting; the parts are for reporting costs by kind.
    """
    commission = notional * costs.commission_bps * BPS + shares * costs.commission_per_share
    spread = notional * costs.half_spread_bps * BPS
    return commission, spread, max(total - commission - spread, 0.0)
