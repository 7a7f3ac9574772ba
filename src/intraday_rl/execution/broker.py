"""The ``Broker`` protocol and ``PaperBroker``: orders in, fills out, with the env's fill rules.

A live adapter would implement :class:`Broker`; none ships. :class:`PaperBroker` simulates one with
the project's one cost model (:func:`~intraday_rl.market.costs.fill_cost`) and one accounting
(:class:`~intraday_rl.market.accounting.Portfolio`): a market order sent after the close of bar
``t`` fills at the open of bar ``t + fill_delay_bars`` on that bar's volume (floored at 1 share,
as the env does), a market-on-close order fills at once at the close of the bar just seen, and
with a participation cap an order larger than ``cap x bar volume`` fills in parts over later bars.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

from intraday_rl.execution.orders import Order, OrderStatus
from intraday_rl.market.accounting import Portfolio
from intraday_rl.market.config import CostConfig
from intraday_rl.market.costs import fill_cost
from intraday_rl.shared.errors import ExecutionError
from intraday_rl.shared.types import Fill, PortfolioState


class Broker(Protocol):
    """What the engine needs from a broker: send, cancel, list orders, report the account."""

    def submit(self, order: Order) -> Order:
        """Accept or reject ``order``; a ``client_order_id`` seen before returns that order."""
        ...

    def cancel(self, client_order_id: str) -> Order | None:
        """Cancel a working order; return it (None when the id is unknown)."""
        ...

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """Working orders, of one symbol or all."""
        ...

    def portfolio_state(
        self, symbol: str, ts_ns: int, price: float, time_left: float
    ) -> PortfolioState:
        """The symbol's account marked at ``price`` (the engine's source of truth)."""
        ...

    def drain_fills(self) -> list[Fill]:
        """Fills since the last call, oldest first (each is returned once)."""
        ...


@dataclass(slots=True)
class _Account:
    # One symbol's sub-account, its bar clock and its working orders.
    portfolio: Portfolio
    lot_size: float
    bar_index: int = -1
    bar_ts_ns: int = 0
    close: float = math.nan
    volume: float = 1.0
    working: list[tuple[int, Order]] = field(default_factory=list)  # (due bar, order)


class PaperBroker:
    """A simulated broker: the env's fills, costs and accounting, plus order states.

    Args:
        costs: The cost model's rates; the default :class:`CostConfig` when None.
        fill_delay_bars: Bars between an order and its fill (default ``costs.fill_delay_bars``).
        participation_cap: Largest fill per bar as a fraction of the bar's volume (whole lots);
            None fills every order in full, as the env does.

    Raises:
        ExecutionError: ``fill_delay_bars < 1`` or a cap that is not in (0, 1].
    """

    def __init__(
        self,
        costs: CostConfig | None = None,
        *,
        fill_delay_bars: int | None = None,
        participation_cap: float | None = None,
    ) -> None:
        self.costs = costs if costs is not None else CostConfig()
        delay = self.costs.fill_delay_bars if fill_delay_bars is None else fill_delay_bars
        if int(delay) != delay or delay < 1:
            raise ExecutionError(f"fill_delay_bars: expected an int >= 1, was {delay}")
        if participation_cap is not None and not 0.0 < participation_cap <= 1.0:
            raise ExecutionError(
                f"participation_cap: expected a fraction in (0, 1] or None, was {participation_cap}"
            )
        self.fill_delay_bars = int(delay)
        self.participation_cap = participation_cap
        self._rates = self.costs.rates
        self._accounts: dict[str, _Account] = {}
        self._orders: dict[str, Order] = {}
        self._new_fills: list[Fill] = []

    # -- accounts -------------------------------------------------------------------------
    def open_account(self, symbol: str, capital: float, lot_size: float = 1.0) -> None:
        """Open ``symbol``'s sub-account with ``capital`` in cash (fills are whole lots).

        Raises:
            ExecutionError: the account exists, or capital / lot size not finite and > 0.
        """
        if symbol in self._accounts:
            raise ExecutionError(f"open_account: symbol {symbol!r} already has an account")
        for name, value in (("capital", capital), ("lot_size", lot_size)):
            if not (math.isfinite(value) and value > 0.0):
                raise ExecutionError(f"open_account {symbol}: {name}: expected > 0, was {value}")
        self._accounts[symbol] = _Account(Portfolio(float(capital)), float(lot_size))

    def reset_account(self, symbol: str) -> None:
        """Return ``symbol``'s account to its capital, flat (the env's per-session reset)."""
        self._account(symbol).portfolio.reset()

    def _account(self, symbol: str) -> _Account:
        account = self._accounts.get(symbol)
        if account is None:
            raise ExecutionError(
                f"paper broker: symbol {symbol!r} has no account (call open_account first); "
                f"accounts: {sorted(self._accounts)}"
            )
        return account

    def portfolio(self, symbol: str) -> Portfolio:
        """The symbol's accounting state (read it, do not change it)."""
        return self._account(symbol).portfolio

    def portfolio_state(
        self, symbol: str, ts_ns: int, price: float, time_left: float
    ) -> PortfolioState:
        """Mark ``symbol``'s account at ``price`` (raising its peak) and return the state."""
        portfolio = self._account(symbol).portfolio
        portfolio.mark(price)
        return portfolio.snapshot(ts_ns, symbol, price, time_left)

    # -- orders ---------------------------------------------------------------------------
    def submit(self, order: Order) -> Order:
        """Accept ``order`` (or reject it, with a reason); an id seen before is not sent again.

        A ``"close"`` order fills at once at the close of the symbol's last bar; a
        ``"next_open"`` order waits ``fill_delay_bars`` bars.
        """
        known = self._orders.get(order.client_order_id)
        if known is not None:
            return known
        self._orders[order.client_order_id] = order
        account = self._accounts.get(order.symbol)
        if account is None:
            return _reject(order, "UNKNOWN_SYMBOL")
        lots = order.quantity / account.lot_size
        if abs(lots - round(lots)) > 1e-9 * max(1.0, abs(lots)):
            return _reject(order, "NOT_WHOLE_LOTS")
        order.status = OrderStatus.ACCEPTED
        if order.timing == "close":
            if not math.isfinite(account.close):
                return _reject(order, "NO_CLOSE_PRICE")
            self._fill(account, order, order.quantity, account.close, account.bar_ts_ns)
        else:
            account.working.append((account.bar_index + self.fill_delay_bars, order))
        return order

    def cancel(self, client_order_id: str) -> Order | None:
        """Cancel a working order; an ended order is returned unchanged."""
        order = self._orders.get(client_order_id)
        if order is None or not order.is_open:
            return order
        order.status = OrderStatus.CANCELLED
        account = self._accounts[order.symbol]
        account.working = [(due, o) for due, o in account.working if o is not order]
        return order

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """Working orders, oldest first."""
        accounts = self._accounts.values() if symbol is None else [self._account(symbol)]
        return [order for account in accounts for _, order in account.working]

    def drain_fills(self) -> list[Fill]:
        """Fills since the last call, oldest first (each is returned once)."""
        fills, self._new_fills = self._new_fills, []
        return fills

    def order(self, client_order_id: str) -> Order | None:
        """The order with this id (None when never submitted)."""
        return self._orders.get(client_order_id)

    # -- the simulation -------------------------------------------------------------------
    def start_session(self, symbol: str) -> None:
        """Restart ``symbol``'s bar count (bar indices are per session)."""
        account = self._account(symbol)
        account.bar_index = -1
        account.close = math.nan

    def on_bar(
        self,
        symbol: str,
        ts_ns: int,
        open_: float,
        close: float,
        volume: float,
        close_ts_ns: int | None = None,
    ) -> list[Fill]:
        """Advance ``symbol`` one bar: fill what is due at its open; return the fills.

        A bar with a non-finite open or volume fills nothing (its orders wait for the next bar).
        ``close_ts_ns`` stamps market-on-close fills on this bar (default ``ts_ns``).
        """
        account = self._account(symbol)
        account.bar_index += 1
        account.bar_ts_ns = ts_ns if close_ts_ns is None else close_ts_ns
        account.close = close if math.isfinite(close) and close > 0.0 else math.nan
        account.volume = max(volume, 1.0) if math.isfinite(volume) else math.nan
        if not account.working or not (math.isfinite(open_) and open_ > 0.0):
            return []
        if math.isnan(account.volume):
            return []
        fills: list[Fill] = []
        waiting: list[tuple[int, Order]] = []
        for due, order in account.working:
            if due > account.bar_index:
                waiting.append((due, order))
                continue
            quantity = self._fillable(account, order.remaining)
            if quantity != 0.0:
                fills.append(self._fill(account, order, quantity, open_, ts_ns))
            if order.is_open:
                waiting.append((due, order))
        account.working = waiting
        return fills

    def end_session(self, symbol: str) -> list[Order]:
        """Cancel ``symbol``'s working orders (the env drops orders due after the close)."""
        account = self._account(symbol)
        cancelled = [order for _, order in account.working]
        for order in cancelled:
            order.status = OrderStatus.CANCELLED
        account.working = []
        return cancelled

    def _fillable(self, account: _Account, remaining: float) -> float:
        # The order's remainder, capped at the participation cap in whole lots.
        cap = self.participation_cap
        if cap is None:
            return remaining
        lots = math.floor(cap * account.volume / account.lot_size)
        return math.copysign(min(abs(remaining), lots * account.lot_size), remaining)

    def _fill(
        self, account: _Account, order: Order, quantity: float, price: float, ts: int
    ) -> Fill:
        cost = fill_cost(quantity, price, account.volume, *self._rates)
        account.portfolio.fill(quantity, price, cost)
        order.filled_quantity += quantity
        done = abs(order.quantity - order.filled_quantity) <= 1e-9 * abs(order.quantity)
        order.status = OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED
        fill = Fill(ts, order.symbol, quantity, price, cost, order.client_order_id)
        self._new_fills.append(fill)
        return fill


def _reject(order: Order, reason: str) -> Order:
    order.status = OrderStatus.REJECTED
    order.reject_reason = reason
    return order
