"""The one portfolio accounting: cash, position, average entry price, equity and P&L.

Like the cost model, every function works elementwise on Python floats or numpy arrays, so the
scalar env, the vectorized env and the paper broker share each line.

Identities (tested): ``equity = cash + position * price`` and
``equity - initial_capital = realized_pnl + unrealized_pnl - costs_paid``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from intraday_rl.shared.types import PortfolioState

Num = TypeVar("Num", float, npt.NDArray[np.float64])


def apply_fill(
    cash: Num, position: Num, avg_price: Num, quantity: Num, price: Num, cost: Num
) -> tuple[Num, Num, Num]:
    """Return ``(cash, position, avg_price)`` after buying ``quantity`` shares (< 0 sells).

    The average entry price follows the position: it is the fill price when a position opens or
    flips side, the volume-weighted price when it grows, unchanged when it shrinks, 0 when flat.
    """
    new_position = position + quantity
    adds = position * quantity > 0.0
    opens = position * new_position <= 0.0
    flat = new_position == 0.0
    # Division guard: the value is discarded whenever new_position is 0 (opens is then true).
    grown_avg = (position * avg_price + quantity * price) / (new_position + flat)
    kept_avg = adds * grown_avg + (adds ^ True) * avg_price
    new_avg = (flat ^ True) * (opens * price + (opens ^ True) * kept_avg)
    return cash - quantity * price - cost, new_position, new_avg


def unrealized_pnl(position: Num, avg_price: Num, price: Num) -> Num:
    """P&L of the open position marked at ``price``, before costs."""
    return position * (price - avg_price)


def realized_pnl(equity: Num, initial_capital: float, unrealized: Num, costs_paid: Num) -> Num:
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
        equity = self.equity(price)
        unrealized = unrealized_pnl(self.position, self.avg_price, price)
        return PortfolioState(
            ts_ns=ts_ns,
            symbol=symbol,
            price=price,
            cash=self.cash,
            position=self.position,
            equity=equity,
            initial_capital=self.initial_capital,
            peak_equity=max(self.peak_equity, equity),
            realized_pnl=realized_pnl(equity, self.initial_capital, unrealized, self.costs_paid),
            unrealized_pnl=unrealized,
            costs_paid=self.costs_paid,
            time_left=time_left,
        )
