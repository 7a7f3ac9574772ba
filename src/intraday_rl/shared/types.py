"""Small immutable value types passed between contexts (env, risk, execution)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PortfolioState:
    """A portfolio snapshot at one bar: what the risk engine and the observation see.

    Money in account currency; ``position`` in shares (signed); ``exposure`` is
    ``position * price / equity``; ``drawdown`` is the fraction below the session's peak equity.
    """

    ts_ns: int
    symbol: str
    price: float
    cash: float
    position: float
    equity: float
    initial_capital: float
    peak_equity: float
    realized_pnl: float
    unrealized_pnl: float
    costs_paid: float
    time_left: float

    @property
    def exposure(self) -> float:
        return self.position * self.price / self.equity if self.equity > 0 else 0.0

    @property
    def drawdown(self) -> float:
        return 1.0 - self.equity / self.peak_equity if self.peak_equity > 0 else 0.0


@dataclass(frozen=True, slots=True)
class TradeRequest:
    """An order intent before risk checks: buy (quantity > 0) or sell (quantity < 0) shares."""

    ts_ns: int
    symbol: str
    quantity: float
    reference_price: float
    order_type: str = "market"
    limit_price: float | None = None
