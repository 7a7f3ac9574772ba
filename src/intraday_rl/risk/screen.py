"""The fast screen: one pass over plain floats that says "no control can fire".

:func:`passes_screen` is the hot path of every decision. It is conservative: ``True`` only when
every gate and every check of :mod:`.checks` and :mod:`.exposure` would pass, computed with the
same expressions in the same order (so rounding cannot disagree); ``False`` sends the request to
the full path (:mod:`.explain`), which may still allow it. A property test holds the screen to
this. The engine calls it only while the account is clear (ACTIVE, no kill switch, no
account-state rule firing, finite equity). Any exception (a malformed request, a faulty
calculator) is the caller's signal to take the full path.
"""

from __future__ import annotations

from collections.abc import Set

from intraday_rl.risk.book import AccountBook, SymbolBook
from intraday_rl.risk.limits import INF, MAX_SANE_PRICE, CompiledLimits
from intraday_rl.shared.types import TradeRequest


def passes_screen(
    request: TradeRequest,
    now_ns: int | None,
    book: SymbolBook,
    account: AccountBook,
    limits: CompiledLimits,
    reference: float,
    seen_order_ids: Set[str],
) -> bool:
    """Return True when no control can fire for ``request`` (False: take the full path).

    One function on purpose, longer than the usual 50 lines: it is the hot path, and each extra
    call would cost about 5% of it. Request-field checks come first, then per-order controls,
    then the post-trade exposure controls.
    """
    quantity = request.quantity
    kind = type(quantity)
    if kind is not float and kind is not int:
        return False
    # abs() without the call; -0.0 stays -0.0, which the next test refuses like 0.0.
    magnitude = quantity if quantity >= 0.0 else -quantity
    # Order quantity and bar participation caps at once (book.screen_quantity_cap); whole lots
    # exactly (an odd lot or dust takes the full path, which allows rounding or refuses it).
    if not 0.0 < magnitude <= book.screen_quantity_cap or magnitude % limits.lot_size:
        return False
    # Request fields: what validate_request checks, strictly typed.
    price = request.reference_price
    if type(price) is not float or not 0.0 < price <= MAX_SANE_PRICE:
        return False
    limit_price = request.limit_price
    if limit_price is not None:
        if type(limit_price) is not float or not 0.0 < limit_price <= MAX_SANE_PRICE:
            return False
        if request.order_type != "limit":
            return False
        price = limit_price
    elif request.order_type != "market":
        return False
    ts_ns = request.ts_ns
    if type(ts_ns) is not int or ts_ns < 0:
        return False
    client_order_id = request.client_order_id
    if client_order_id is not None and (
        type(client_order_id) is not str or client_order_id in seen_order_ids
    ):
        return False
    # Clock, data freshness, symbol and volatility at once: book.fresh_until_ns is -1 without
    # usable data, for a symbol that may not trade and for one too volatile (SymbolBook.refresh).
    if type(now_ns) is not int or not 0 <= now_ns <= book.fresh_until_ns:
        return False
    if not limits.request_skew_low_ns <= ts_ns - now_ns <= limits.request_skew_ns:
        return False
    if not 0.0 < reference < INF or not abs(price / reference - 1.0) <= limits.collar_fraction:
        return False
    # book.max_order_notional is at most MAX_SANE_NOTIONAL (SymbolBook.refresh).
    if not magnitude * price <= book.max_order_notional:
        return False
    if (
        quantity == book.last_order_quantity
        and price == book.last_order_price
        and now_ns - book.last_order_ns < limits.duplicate_window_ns
    ):
        return False
    # Windows: the deque length bounds the count in the window.
    if len(account.orders.times_ns) >= limits.order_rate_max:
        return False
    side_counter = book.buys if quantity > 0.0 else book.sells
    if len(side_counter.times_ns) >= limits.repeat_max:
        return False
    used = book.traded_quantity + book.working_buy + book.working_sell
    if not used + magnitude <= book.adv_cap_quantity:
        return False
    used_notional = account.turnover.value + account.working
    if not used_notional + magnitude * price <= limits.max_daily_turnover * account.capital:
        return False
    # Mirrors exposure.py and check_position: only a rise of worst-case exposure is checked.
    # ``b if b > a else a`` is max(a, b) exactly (NaN and ties included), without the call.
    long_side = book.position + book.working_buy
    short_side = book.working_sell - book.position
    worst = short_side if short_side > long_side else long_side
    if quantity > 0.0:
        long_after = long_side + quantity
        after = short_side if short_side > long_after else long_after
    else:
        short_after = short_side - quantity
        after = short_after if short_after > long_side else long_side
    if after <= worst:
        return True
    if not after <= book.max_position:
        return False
    rise = after - worst
    gross = account.gross_worst + rise * reference
    equity = account.cash + account.net  # AccountBook.equity, without the property call
    if not (gross <= limits.max_gross_exposure and gross <= limits.max_leverage * equity):
        return False
    side_net = account.net_long if quantity > 0.0 else -account.net_short
    if not side_net + magnitude * reference <= limits.max_net_exposure:
        return False
    if not (
        gross <= limits.concentration_min_gross
        or after * reference / gross <= limits.max_concentration
    ):
        return False
    exposure_sigma = account.var_worst + rise * reference * book.sigma
    if not limits.var_multiplier * exposure_sigma <= limits.max_var * equity:
        return False
    return limits.cvar_multiplier * exposure_sigma <= limits.max_cvar * equity
