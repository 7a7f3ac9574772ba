"""Folding bars, fills, order events and portfolio snapshots into the books (O(1) each).

Each function validates its event first and returns False for a bad one (NaN, inf, a negative
price or volume...), leaving the books as they were; the engine then fails closed. Working orders
are tracked per ``client_order_id`` when there is one, else as anonymous working quantity per
symbol and side.
"""

from __future__ import annotations

import math

from intraday_rl.risk.book import AccountBook, SymbolBook
from intraday_rl.risk.limits import (
    MAX_SANE_NOTIONAL,
    MAX_SANE_PRICE,
    MAX_SANE_QUANTITY,
    CompiledLimits,
)
from intraday_rl.shared.types import (
    Bar,
    Fill,
    OrderEvent,
    OrderEventKind,
    PortfolioState,
    TradeRequest,
)

# client_order_id -> signed quantity still working
WorkingOrders = dict[str, float]


def _finite(*values: object) -> bool:
    # Every value a finite real number (bool excluded). Every event passes here: exact floats,
    # the usual case, skip the isinstance checks.
    for value in values:
        if type(value) is float:
            if not math.isfinite(value):
                return False
        elif not (
            isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        ):
            return False
    return True


def bar_is_valid(bar: Bar) -> bool:
    """True when every price is finite and > 0, volume finite and >= 0, and low <= high."""
    if not _finite(bar.open, bar.high, bar.low, bar.close, bar.volume):
        return False
    if type(bar.ts_ns) is not int or bar.ts_ns < 0:
        return False
    return (
        min(bar.open, bar.high, bar.low, bar.close) > 0.0
        and bar.volume >= 0.0
        and (bar.low <= min(bar.open, bar.close) and max(bar.open, bar.close) <= bar.high)
    )


def mark_price(book: SymbolBook, price: float, ts_ns: int) -> None:
    """Move the symbol to a new reference price: one EWMA return when time moved forward.

    No return is taken from a price before a jump back in time (a new episode).
    """
    if book.price > 0.0 and ts_ns > book.last_data_ns >= 0:
        book.volatility.update(price / book.price - 1.0)
        book.sigma = book.volatility.volatility
    book.price = price
    book.last_data_ns = max(ts_ns, book.last_data_ns)
    book.data_fault = False


def apply_bar(book: SymbolBook, account: AccountBook, bar: Bar) -> bool:
    """Fold one bar in: reference price, volatility, bar and session volume.

    A bar older than the symbol's last data (a late, out-of-order bar) is ignored.
    """
    if not bar_is_valid(bar):
        book.data_fault = True
        return False
    if bar.ts_ns < book.last_data_ns:
        return True
    mark_price(book, bar.close, bar.ts_ns)
    book.bar_volume = bar.volume
    book.session_volume += bar.volume
    account.restate(book)
    account.mark()
    return True


def _release(book: SymbolBook, quantity: float) -> None:
    # Take |quantity| off the working orders of quantity's side, never below 0.
    if quantity > 0.0:
        book.working_buy = max(0.0, book.working_buy - quantity)
    else:
        book.working_sell = max(0.0, book.working_sell + quantity)


def fill_problem(fill: Fill) -> str | None:
    """What makes ``fill`` absurd (``key=value`` evidence), or None when it is sane.

    A fill is range-checked as a request is: 0 < |quantity| <= 1e12, 0 < price <= 1e12,
    |quantity| x price <= 1e13, 0 <= cost <= 1e13, all finite, and ``ts_ns`` an int >= 0.
    """
    quantity, price, cost = fill.quantity, fill.price, fill.cost
    evidence = f"symbol={fill.symbol!r} quantity={quantity!r} price={price!r} cost={cost!r}"
    if not _finite(quantity, price, cost):
        return evidence
    if type(fill.ts_ns) is not int or fill.ts_ns < 0:
        return f"{evidence} ts_ns={fill.ts_ns!r}"
    magnitude = abs(quantity)
    if not (
        0.0 < magnitude <= MAX_SANE_QUANTITY
        and 0.0 < price <= MAX_SANE_PRICE
        and magnitude * price <= MAX_SANE_NOTIONAL
        and 0.0 <= cost <= MAX_SANE_NOTIONAL
    ):
        return evidence
    return None


def fill_is_valid(fill: Fill) -> bool:
    """True when :func:`fill_problem` finds nothing wrong with ``fill``."""
    return fill_problem(fill) is None


def apply_fill(book: SymbolBook, account: AccountBook, fill: Fill, working: WorkingOrders) -> bool:
    """Book a fill: cash, position, turnover, and the working order it came from."""
    if not fill_is_valid(fill):
        return False
    quantity = fill.quantity
    account.cash -= quantity * fill.price + fill.cost
    book.position += quantity
    book.traded_quantity += abs(quantity)
    account.turnover.add(abs(quantity) * fill.price)
    order_id = fill.client_order_id
    remaining = working.get(order_id) if order_id is not None else None
    if order_id is not None and remaining is not None:
        filled = math.copysign(min(abs(quantity), abs(remaining)), remaining)
        _release(book, filled)
        if remaining - filled == 0.0:
            del working[order_id]
        else:
            working[order_id] = remaining - filled
    else:
        _release(book, quantity)
    if not book.price > 0.0:  # no market data yet: value the position at its fill price
        book.price = fill.price
    account.restate(book)
    account.mark()
    return True


def apply_order_event(
    book: SymbolBook, account: AccountBook, event: OrderEvent, working: WorkingOrders
) -> bool:
    """Release what is still working when an order is cancelled, rejected or expires."""
    if event.kind is OrderEventKind.ACKNOWLEDGED:
        return True
    order_id = event.client_order_id
    remaining = working.pop(order_id, None) if order_id is not None else None
    if remaining is not None:
        _release(book, remaining)
    elif _finite(event.quantity):
        _release(book, event.quantity)
    else:
        return False
    account.restate(book)
    return True


def snapshot_is_valid(state: PortfolioState) -> bool:
    """True when every number of a portfolio snapshot is finite and in range.

    Prices and capital > 0; price and |position| within the request ranges (1e12), the
    position's notional and |cash| within 1e13.
    """
    numbers = (
        state.price,
        state.cash,
        state.position,
        state.equity,
        state.initial_capital,
        state.peak_equity,
    )
    if not _finite(*numbers) or type(state.ts_ns) is not int or state.ts_ns < 0:
        return False
    magnitude = abs(state.position)
    return (
        0.0 < state.price <= MAX_SANE_PRICE
        and state.initial_capital > 0.0
        and magnitude <= MAX_SANE_QUANTITY
        and magnitude * state.price <= MAX_SANE_NOTIONAL
        and abs(state.cash) <= MAX_SANE_NOTIONAL
    )


def apply_snapshot(book: SymbolBook, account: AccountBook, state: PortfolioState) -> bool:
    """Fold an env's :class:`PortfolioState` in: it is authoritative for cash and position.

    The position change since the last snapshot counts as traded notional (turnover). A snapshot
    older than the symbol's last data is ignored. The caller re-sums the account-wide sums
    exactly afterwards (:meth:`AccountBook.resum`): a snapshot resynchronizes everything.
    """
    if not snapshot_is_valid(state):
        book.data_fault = True
        return False
    if state.ts_ns < book.last_data_ns:  # older than what is known: ignored
        return True
    traded = abs(state.position - book.position)
    if traded:
        book.traded_quantity += traded
        account.turnover.add(traded * state.price)
    account.capital = state.initial_capital
    account.cash = state.cash
    book.position = state.position
    mark_price(book, state.price, state.ts_ns)
    account.restate(book)
    account.peak.update(state.peak_equity)
    account.intraday.update(state.peak_equity)
    account.mark()
    return True


def record_approval(
    account: AccountBook,
    book: SymbolBook,
    request: TradeRequest,
    quantity: float,
    now_ns: int,
    limits: CompiledLimits,
    seen_order_ids: set[str],
    working: WorkingOrders,
) -> None:
    """Book an approved order: throttle windows, duplicate memory and working quantity.

    The one booking of an approval, for the fast and the full path alike. The order joins
    ``book``'s working orders and the account sums change by the symbol's contribution delta (the
    part of :meth:`AccountBook.restate` a working order moves), written out: this is the hot path.
    """
    # Windows: append now, evict lazily once a deque reaches its limit (the screen only reads
    # deque lengths; the checks count exactly).
    orders = account.orders
    times = orders.times_ns
    times.append(now_ns)
    if len(times) >= limits.order_rate_max:
        orders.evict(now_ns)
    side = book.buys if quantity > 0.0 else book.sells
    times = side.times_ns
    times.append(now_ns)
    if len(times) >= limits.repeat_max:
        side.evict(now_ns)
    book.last_order_quantity = request.quantity
    price = request.limit_price
    book.last_order_price = request.reference_price if price is None else price
    book.last_order_ns = now_ns
    client_order_id = request.client_order_id
    if client_order_id is not None:
        seen_order_ids.add(client_order_id)
        working[client_order_id] = quantity
    price = book.price if book.price > 0.0 else 0.0  # no price yet: nothing to value
    position = book.position
    if quantity > 0.0:
        book.working_buy += quantity
        net_long = (position + book.working_buy) * price
        account.net_long += net_long - book.c_net_long
        book.c_net_long = net_long
    else:
        book.working_sell -= quantity
        net_short = (position - book.working_sell) * price
        account.net_short += net_short - book.c_net_short
        book.c_net_short = net_short
    long_side, short_side = position + book.working_buy, book.working_sell - position
    # max(long_side, short_side) exactly, without the call.
    gross_worst = (short_side if short_side > long_side else long_side) * price
    working_notional = (book.working_buy + book.working_sell) * price
    var_worst = gross_worst * book.sigma
    account.gross_worst += gross_worst - book.c_gross_worst
    account.working += working_notional - book.c_working
    account.var_worst += var_worst - book.c_var_worst
    book.c_gross_worst, book.c_working, book.c_var_worst = gross_worst, working_notional, var_worst
    account.n_restated += 1


def count_attempt(books: dict[str, SymbolBook], request: object, now_ns: object) -> None:
    """Count a refused order toward the repeated-execution throttle of its symbol and side.

    A loop that keeps sending what is refused is a runaway too.
    """
    symbol = getattr(request, "symbol", None)
    book = books.get(symbol) if isinstance(symbol, str) else None
    quantity = getattr(request, "quantity", 0.0)
    if book is None or type(now_ns) is not int or not isinstance(quantity, float | int):
        return
    if not math.isfinite(quantity) or quantity == 0.0:
        return
    (book.buys if quantity > 0.0 else book.sells).record(now_ns)
