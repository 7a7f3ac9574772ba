"""Market mechanics: the cost model, fills and portfolio accounting (one implementation each)."""

from intraday_rl.market.accounting import (
    Portfolio,
    apply_fill,
    portfolio_state,
    realized_pnl,
    unrealized_pnl,
)
from intraday_rl.market.config import CostConfig
from intraday_rl.market.costs import fill_cost, trade_cost

__all__ = [
    "CostConfig",
    "Portfolio",
    "apply_fill",
    "fill_cost",
    "portfolio_state",
    "realized_pnl",
    "trade_cost",
    "unrealized_pnl",
]
