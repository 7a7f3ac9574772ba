"""Market mechanics: the cost model, portfolio accounting and the trading rules (sizing, the
deadband), one implementation each."""

from intraday_rl.market.accounting import (
    Portfolio,
    apply_fill,
    portfolio_state,
    realized_pnl,
    unrealized_pnl,
)
from intraday_rl.market.config import CostConfig
from intraday_rl.market.costs import fill_cost, trade_cost
from intraday_rl.market.rules import places_order, target_shares

__all__ = [
    "CostConfig",
    "Portfolio",
    "apply_fill",
    "fill_cost",
    "places_order",
    "portfolio_state",
    "realized_pnl",
    "target_shares",
    "trade_cost",
    "unrealized_pnl",
]
