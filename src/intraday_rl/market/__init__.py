"""Market mechanics: the cost model, portfolio accounting and the trading rules (action mapping,
sizing, the deadband, the fill-delay queue), one implementation each."""

from intraday_rl.market.accounting import (
    Portfolio,
    apply_fill,
    portfolio_state,
    realized_pnl,
    unrealized_pnl,
)
from intraday_rl.market.config import CostConfig
from intraday_rl.market.costs import fill_cost, trade_cost
from intraday_rl.market.rules import (
    ActionMap,
    clip_exposure,
    due_quantity,
    new_fill_queue,
    places_order,
    queue_order,
    target_shares,
)

__all__ = [
    "ActionMap",
    "CostConfig",
    "Portfolio",
    "apply_fill",
    "clip_exposure",
    "due_quantity",
    "fill_cost",
    "new_fill_queue",
    "places_order",
    "portfolio_state",
    "queue_order",
    "realized_pnl",
    "target_shares",
    "trade_cost",
    "unrealized_pnl",
]
