"""The one portfolio accounting: cash, position, average entry price, equity and P&L.

The functions are scalar arithmetic on floats, so the scalar env, the paper broker and (compiled
by numba) the vectorized env's kernel share each line.

Identities (tested): ``equity = cash + position * price`` and
``equity - initial_capital = realized_pnl + unrealized_pnl - costs_paid``.
"""

from __future__ import annotations

from dataclasses import dataclass

from intraday_rl.shared.types import PortfolioState


def apply_fill(
    cash: float, position: float, avg_price: float, quantity: float, price: float, cost: float
) -> tuple[float, float, float]:
    """Return ``(cash, position, avg_price)`` after buying ``quantity`` shares (< 0 sells).

    The average entry price follows the position: the fill price when a position opens or flips
    side, the volume-weighted price when it grows, unchanged when it shrinks, 0 when flat.
    """
    new_position = position + quantity
    if new_position == 0.0:
        new_avg = 0.0
    elif position * new_position <= 0.0:
        new_avg = price
    elif position * quantity > 0.0:
        new_avg = (position * avg_price + quantity * price) / new_position
    else:
        new_avg = avg_price
    return cash - quantity * price - cost, new_position, new_avg


def unrealized_pnl(position: float, avg_price: float, price: float) -> float:
    """P&L of the open position marked at ``price``, before costs."""
    return position * (price - avg_price)


def realized_pnl(
    equity: float, initial_capital: float, unrealized: float, costs_paid: float
) -> float:
    """P&L of closed quantity before costs, derived from the equity identity."""
    return equity - initial_capital - unrealized + costs_paid


@dataclass(slots=True)
class Portfolio:
    """A single-symbol portfolio in account currency (the scalar accounting state)."""

    initial_capital: float
    cash: float = 0.0
    position: float = 0.0
    avg_price: float = 0.0
    costs_paid: float = 0.0
    peak_equity: float = 0.0

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Return to all cash, flat, no costs."""
        self.cash = self.initial_capital
        self.position = 0.0
        self.avg_price = 0.0
        self.costs_paid = 0.0
        self.peak_equity = self.initial_capital

    def fill(self, quantity: float, price: float, cost: float) -> None:
        """Book a fill of ``quantity`` shares at ``price`` paying ``cost``."""
        self.cash, self.position, self.avg_price = apply_fill(
            self.cash, self.position, self.avg_price, quantity, price, cost
        )
        self.costs_paid += cost

    def equity(self, price: float) -> float:
        """Cash plus the position marked at ``price``."""
        return self.cash + self.position * price

    def mark(self, price: float) -> float:
        """Mark to ``price``: update the peak equity and return the equity."""
        equity = self.cash + self.position * price
        if equity > self.peak_equity:
            self.peak_equity = equity
        return equity

    def snapshot(self, ts_ns: int, symbol: str, price: float, time_left: float) -> PortfolioState:
        """Return an immutable :class:`PortfolioState` marked at ``price``."""
        return portfolio_state(
            ts_ns,
            symbol,
            price,
            self.cash,
            self.position,
            self.avg_price,
            self.costs_paid,
            self.peak_equity,
            self.initial_capital,
            time_left,
        )


def portfolio_state(
    ts_ns: int,
    symbol: str,
    price: float,
    cash: float,
    position: float,
    avg_price: float,
    costs_paid: float,
    peak_equity: float,
    initial_capital: float,
    time_left: float,
) -> PortfolioState:
    """Build the :class:`PortfolioState` of an accounting state marked at ``price``."""
    equity = cash + position * price
    unrealized = unrealized_pnl(position, avg_price, price)
    return PortfolioState(
        ts_ns=ts_ns,
        symbol=symbol,
        price=price,
        cash=cash,
        position=position,
        equity=equity,
        initial_capital=initial_capital,
        peak_equity=max(peak_equity, equity),
        realized_pnl=realized_pnl(equity, initial_capital, unrealized, costs_paid),
        unrealized_pnl=unrealized,
        costs_paid=costs_paid,
        time_left=time_left,
    )
