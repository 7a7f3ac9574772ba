"""How market data, fills, order events and snapshots reach the engine (a mixin of the engine).

``update`` folds one event into the books in O(1) (see :mod:`.events`), starts a new session when
the data jumps by the policy's session gap, and fails the engine closed when an event is bad or
a calculator breaks.
"""

from __future__ import annotations

import logging

import intraday_rl.risk.events as events
from intraday_rl.risk.book import AccountBook, SymbolBook
from intraday_rl.risk.limits import CompiledLimits
from intraday_rl.shared.types import Bar, Fill, OrderEvent, PortfolioState

logger = logging.getLogger(__name__)

RiskEvent = Bar | Fill | OrderEvent | PortfolioState


class EventIntake:
    """Event handling of :class:`~intraday_rl.risk.engine.RiskAgentV2`."""

    _limits: CompiledLimits
    _account: AccountBook
    _books: dict[str, SymbolBook]
    _working: events.WorkingOrders
    _seen_order_ids: set[str]
    _faulted: bool
    _fast_ok: bool
    # symbol -> evidence of a refused fill, until a snapshot of the symbol (or a re-arm)
    _bad_fills: dict[str, str]

    def _refresh_account(self) -> None:
        raise NotImplementedError

    def position(self, symbol: str) -> float:
        """Signed shares held in ``symbol`` (0 when unknown)."""
        book = self._books.get(symbol)
        return book.position if book is not None else 0.0

    def working_quantity(self, symbol: str) -> tuple[float, float]:
        """``(buys, sells)``: shares still working in ``symbol``, both >= 0."""
        book = self._books.get(symbol)
        return (book.working_buy, book.working_sell) if book is not None else (0.0, 0.0)

    def update(self, event: RiskEvent) -> None:
        """Fold a bar, fill, order event or portfolio snapshot into the books (O(1)).

        A bad event (NaN, inf, negative price...) is refused and fails the engine closed: a bad
        bar or snapshot for its symbol (BAD_MARKET_DATA) until good data; an absurd fill (NaN,
        inf, price <= 0, quantity or notional beyond the request ranges) for every order
        (BAD_FILL) until a portfolio snapshot of its symbol resynchronizes cash and position, or
        a re-arm; an exception inside a calculator (CALCULATOR_FAULT) until a re-arm.
        """
        try:
            self._apply(event)
        except Exception:
            logger.exception("risk update failed; refusing orders until re-armed")
            self._set_fault()

    def _apply(self, event: RiskEvent) -> None:
        if isinstance(event, Bar):
            book = self._book_for(event.symbol)
            self._roll_if_new_session(event.ts_ns)
            events.apply_bar(book, self._account, event)
        elif isinstance(event, PortfolioState):
            book = self._book_for(event.symbol)
            self._apply_snapshot(book, event)
        elif isinstance(event, Fill):
            book = self._book_for(event.symbol)
            if not events.apply_fill(book, self._account, event, self._working):
                problem = events.fill_problem(event) or "refused"
                logger.error("risk: refused fill (%s); refusing orders until a snapshot", problem)
                self._bad_fills[event.symbol] = problem
        elif isinstance(event, OrderEvent):
            book = self._book_for(event.symbol)
            if not events.apply_order_event(book, self._account, event, self._working):
                self._faulted = True
        else:
            raise TypeError(
                f"update: expected Bar, Fill, OrderEvent or PortfolioState, was {event!r}"
            )
        book.refresh(self._limits)
        # The order-rate window drops what went stale here, between orders, not in bursts
        # inside an approval (the screen reads its length; counts are unchanged).
        self._account.orders.trim()
        self._refresh_account()

    def _apply_snapshot(self, book: SymbolBook, state: PortfolioState) -> None:
        # The snapshot is authoritative: after it, cash and the symbol's position are its own,
        # the account-wide sums are re-summed exactly (nothing of an earlier rounding or a huge
        # fill survives) and a refused fill of the symbol no longer blocks.
        account = self._account
        rolled = self._roll_if_new_session(state.ts_ns)
        current = state.ts_ns >= book.last_data_ns
        if not events.apply_snapshot(book, account, state):
            return
        account.resum(list(self._books.values()))
        if current:
            self._bad_fills.pop(book.symbol, None)
        if rolled:
            account.day_start_equity = account.equity
            account.intraday.reset(account.equity)

    def _set_fault(self) -> None:
        self._faulted = True
        self._fast_ok = False

    def _book_for(self, symbol: str) -> SymbolBook:
        book = self._books.get(symbol)
        if book is None:
            if not isinstance(symbol, str) or not symbol:
                raise TypeError(f"symbol: expected a non-empty str, was {symbol!r}")
            book = self._books[symbol] = SymbolBook(symbol, self._limits)
        return book

    def _roll_if_new_session(self, ts_ns: int) -> bool:
        account = self._account
        last = account.last_data_ns
        rolled = last >= 0 and abs(ts_ns - last) >= self._limits.session_gap_ns
        if rolled:
            if ts_ns < last:  # back in time (a new episode): no symbol has current data
                for book in self._books.values():
                    book.last_data_ns = -1
                    book.refresh(self._limits)
            account.start_session(list(self._books.values()))
            self._seen_order_ids = set(self._working)
            logger.debug("risk: new session at ts_ns=%d", ts_ns)
        if rolled or ts_ns > last:
            account.last_data_ns = ts_ns
        return rolled
