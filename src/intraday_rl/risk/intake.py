"""How market data, fills, order events and snapshots reach the engine's state.

:class:`EventIntake` folds one event into the books in O(1) (see :mod:`.events`), starts a new
session when the data jumps by the policy's session gap, and fails the engine closed when an event
is bad or a calculator breaks. ``RiskAgentV2.update`` delegates to it.
"""

from __future__ import annotations

import logging

import intraday_rl.risk.events as events
from intraday_rl.risk.book import SymbolBook
from intraday_rl.risk.state import EngineState
from intraday_rl.shared.types import Bar, Fill, OrderEvent, PortfolioState

logger = logging.getLogger(__name__)

RiskEvent = Bar | Fill | OrderEvent | PortfolioState


class EventIntake:
    """Folds events into an :class:`~.state.EngineState` (the engine's ``update``)."""

    def __init__(self, state: EngineState) -> None:
        self.state = state

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
            self.state.set_fault()

    def _apply(self, event: RiskEvent) -> None:
        state = self.state
        if isinstance(event, Bar):
            book = state.book_for(event.symbol)
            self._roll_if_new_session(event.ts_ns)
            events.apply_bar(book, state.account, event)
        elif isinstance(event, PortfolioState):
            book = state.book_for(event.symbol)
            self._apply_snapshot(book, event)
        elif isinstance(event, Fill):
            book = state.book_for(event.symbol)
            if not events.apply_fill(book, state.account, event, state.working):
                problem = events.fill_problem(event) or "refused"
                logger.error("risk: refused fill (%s); refusing orders until a snapshot", problem)
                state.bad_fills[event.symbol] = problem
        elif isinstance(event, OrderEvent):
            book = state.book_for(event.symbol)
            if not events.apply_order_event(book, state.account, event, state.working):
                state.faulted = True
        else:
            raise TypeError(
                f"update: expected Bar, Fill, OrderEvent or PortfolioState, was {event!r}"
            )
        book.refresh(state.limits)
        # The order-rate window drops what went stale here, between orders, not in bursts
        # inside an approval (the screen reads its length; counts are unchanged).
        state.account.orders.trim()
        state.refresh()

    def _apply_snapshot(self, book: SymbolBook, snapshot: PortfolioState) -> None:
        # The snapshot is authoritative: after it, cash and the symbol's position are its own,
        # the account-wide sums are re-summed exactly (nothing of an earlier rounding or a huge
        # fill survives) and a refused fill of the symbol no longer blocks.
        account = self.state.account
        rolled = self._roll_if_new_session(snapshot.ts_ns)
        current = snapshot.ts_ns >= book.last_data_ns
        if not events.apply_snapshot(book, account, snapshot):
            return
        account.resum(list(self.state.books.values()))
        if current:
            self.state.bad_fills.pop(book.symbol, None)
        if rolled:
            account.day_start_equity = account.equity
            account.intraday.reset(account.equity)

    def _roll_if_new_session(self, ts_ns: int) -> bool:
        state = self.state
        account = state.account
        last = account.last_data_ns
        rolled = last >= 0 and abs(ts_ns - last) >= state.limits.session_gap_ns
        if rolled:
            if ts_ns < last:  # back in time (a new episode): no symbol has current data
                for book in state.books.values():
                    book.last_data_ns = -1
                    book.refresh(state.limits)
            account.start_session(list(state.books.values()))
            state.seen_order_ids = set(state.working)
            logger.debug("risk: new session at ts_ns=%d", ts_ns)
        if rolled or ts_ns > last:
            account.last_data_ns = ts_ns
        return rolled
