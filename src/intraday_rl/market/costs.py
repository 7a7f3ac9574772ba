"""The one cost model: what a fill costs.

:func:`fill_cost` is plain scalar arithmetic on floats, so the same function runs in the scalar env,
the paper broker and, compiled by numba, inside the vectorized env's kernel: one implementation and
bit-identical results everywhere (``math.sqrt`` is correctly rounded in both).
"""

from __future__ import annotations

import math

from intraday_rl.market.config import CostConfig


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


def fill_cost_parts(
    quantity: float,
    price: float,
    bar_volume: float,
    commission_rate: float,
    half_spread_rate: float,
    per_share: float,
    impact_rate: float,
) -> tuple[float, float, float]:
    """Split :func:`fill_cost` into (commission, spread, impact), each >= 0, account currency.

    The parts add up to :func:`fill_cost` with ``proportional_rate = commission_rate +
    half_spread_rate`` (as :attr:`CostConfig.rates` combines them) to within float rounding
    (~1e-16 relative); :func:`fill_cost` stays the one figure used for accounting, the parts are for
    reporting costs by kind.

    Args:
        quantity: Signed shares (the sign does not matter for cost).
        price: Fill price (> 0).
        bar_volume: Volume of the fill bar, at least 1 (as for :func:`fill_cost`).
        commission_rate: Commission as a fraction of notional (``commission_bps * 1e-4``).
        half_spread_rate: Half the bid-ask spread as a fraction of notional.
        per_share: Commission per share (counted in the commission part).
        impact_rate: Square-root impact at 100% participation, as a fraction of notional.

    Returns:
        ``(commission, spread, impact)``: commission = ``|q|·p·commission_rate + |q|·per_share``,
        spread = ``|q|·p·half_spread_rate``, impact = ``|q|·p·impact_rate·sqrt(|q| / V)``.
    """
    size = abs(quantity)
    notional = size * price
    commission = notional * commission_rate + size * per_share
    spread = notional * half_spread_rate
    impact = notional * impact_rate * math.sqrt(size / bar_volume)
    return commission, spread, impact
