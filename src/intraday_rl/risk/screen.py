"""The fast functions, compiled once at import from the control table (:data:`.controls.CONTROLS`).

:func:`passes_screen` is the hot path of every decision: one pass over plain floats that says "no
control can fire". It is the gates' fast form (request fields, whole lots, clock, data freshness,
symbol, volatility, timestamp skew, reference price), then every control's ``passes`` expression,
in table order. It is conservative: ``True`` only when every gate and every check would pass;
``False`` sends the request to the full path (:mod:`.explain`), which may still allow it. The
engine calls it only while the account is clear (ACTIVE, no kill switch, no account-state rule
firing, finite equity). Any exception (a malformed request, a faulty calculator) is the caller's
signal to take the full path.

:func:`may_fire` is the full path's pre-filter: the same ``passes`` expressions, each a test
that keeps its control in the list of checks to run.

Both are generated source (one function each, no call per control: each call would cost about 5%
of the hot path); read it in :data:`SCREEN_SOURCE` and :data:`MAY_FIRE_SOURCE`. A property test
holds both to the checks at every control's boundaries.
"""

from __future__ import annotations

import linecache
from collections.abc import Callable, Set
from typing import Any

from intraday_rl.risk.book import AccountBook, SymbolBook
from intraday_rl.risk.calculators import RunningSum, WindowCounter
from intraday_rl.risk.checks import Check, Control, PreTradeState
from intraday_rl.risk.codes import ReasonCode
from intraday_rl.risk.controls import CONTROLS
from intraday_rl.risk.limits import INF, MAX_SANE_PRICE, CompiledLimits
from intraday_rl.shared.types import TradeRequest

# The exposure stage's names (see the controls module): W before and after the order, and what
# the exposure controls compare. Shared by both functions.
_EXPOSURE_NAMES = """\
    long_side = book.position + book.working_buy
    short_side = book.working_sell - book.position
    # ``b if b > a else a`` is max(a, b) exactly (NaN and ties included), without the call.
    worst = short_side if short_side > long_side else long_side
    if quantity > 0.0:
        long_after = long_side + quantity
        after = short_side if short_side > long_after else long_after
    else:
        short_after = short_side - quantity
        after = short_after if short_after > long_side else long_side
    if after <= worst:  # no rise of W: no exposure control fires
        return {no_rise}
    rise = after - worst
    gross = account.gross_worst + rise * reference
    equity = account.cash + account.net  # AccountBook.equity, without the property call
    side_net = account.net_long if quantity > 0.0 else -account.net_short
    exposure_sigma = account.var_worst + rise * reference * book.sigma
"""

_SCREEN = f"""\
def passes_screen(request, now_ns, book, account, limits, reference, seen_order_ids):
    # Request fields (validate_request, strictly typed) and whole lots (check_request_fit): an
    # odd lot or dust takes the full path, which refuses it.
    quantity = request.quantity
    kind = type(quantity)
    if kind is not float and kind is not int:
        return False
    # abs() without the call; -0.0 stays -0.0, which the next test refuses like 0.0. The upper
    # bounds (1e12 shares, 1e13 notional) are in the book's copies of the order quantity and
    # notional limits (SymbolBook.refresh), which MAX_ORDER_QUANTITY and MAX_ORDER_NOTIONAL read.
    magnitude = quantity if quantity >= 0.0 else -quantity
    if not 0.0 < magnitude or magnitude % limits.lot_size:
        return False
    price = request.reference_price
    if type(price) is not float or not 0.0 < price <= {MAX_SANE_PRICE!r}:
        return False
    limit_price = request.limit_price
    if limit_price is not None:
        if type(limit_price) is not float or not 0.0 < limit_price <= {MAX_SANE_PRICE!r}:
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
    if client_order_id is not None and type(client_order_id) is not str:
        return False
    # Clock, data freshness, symbol and volatility at once: book.fresh_until_ns is -1 without
    # usable data, for a symbol that may not trade and for one too volatile (SymbolBook.refresh).
    if type(now_ns) is not int or not 0 <= now_ns <= book.fresh_until_ns:
        return False
    if not limits.request_skew_low_ns <= ts_ns - now_ns <= limits.request_skew_ns:
        return False
    if not 0.0 < reference < INF:
        return False
{{order_controls}}
{_EXPOSURE_NAMES.format(no_rise="True").rstrip()}
{{exposure_controls}}
    return True
"""

_MAY_FIRE = f"""\
def may_fire(request, state, limits):
    account, book, now_ns, reference, seen_order_ids = state
    if not (
        type(account.orders) is WindowCounter
        and type(book.buys) is WindowCounter
        and type(book.sells) is WindowCounter
        and type(account.turnover) is RunningSum
    ):  # not the real calculators (their windows may not bound their counts): run every check
        return list(ALL_CONTROLS)
    quantity = request.quantity
    magnitude = abs(quantity)
    limit_price = request.limit_price
    price = request.reference_price if limit_price is None else limit_price
    client_order_id = request.client_order_id
    found = []
{{order_controls}}
{_EXPOSURE_NAMES.format(no_rise="found").rstrip()}
{{exposure_controls}}
    return found
"""


def _tests(controls: tuple[Control, ...], stage: str, on_fail: str) -> str:
    # One ``if not (passes): <on_fail>`` per control of ``stage``, in table order.
    lines = []
    for index, entry in enumerate(controls):
        if entry.stage == stage:
            lines.append(f"    # {entry.code}: {', '.join(entry.limits)}")
            lines.append(f"    if not ({entry.passes}):")
            lines.append("        " + on_fail.format(index=index))
    return "\n".join(lines)


def _compile(template: str, name: str, on_fail: str, controls: tuple[Control, ...]) -> Any:
    source = template.format(
        order_controls=_tests(controls, "order", on_fail),
        exposure_controls=_tests(controls, "exposure", on_fail),
    )
    filename = f"<intraday_rl.risk.screen {name}: generated from controls.CONTROLS>"
    namespace: dict[str, Any] = {
        "INF": INF,
        "WindowCounter": WindowCounter,
        "RunningSum": RunningSum,
        "ALL_CONTROLS": tuple((entry.code, entry.check) for entry in controls),
    }
    for index, entry in enumerate(controls):
        namespace[f"control_{index}"] = (entry.code, entry.check)
    exec(compile(source, filename, "exec"), namespace)  # our own template, nothing from input
    # Tracebacks and debuggers show the generated lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return namespace[name], source


Screen = Callable[
    [TradeRequest, "int | None", SymbolBook, AccountBook, CompiledLimits, float, Set[str]], bool
]
MayFire = Callable[[TradeRequest, PreTradeState, CompiledLimits], "list[tuple[ReasonCode, Check]]"]

_screen, SCREEN_SOURCE = _compile(_SCREEN, "passes_screen", "return False", CONTROLS)
_may_fire, MAY_FIRE_SOURCE = _compile(
    _MAY_FIRE, "may_fire", "found.append(control_{index})", CONTROLS
)

passes_screen: Screen = _screen
"""Return True when no control can fire for ``request`` (False: take the full path).

Arguments: ``(request, now_ns, book, account, limits, reference, seen_order_ids)``.
"""

may_fire: MayFire = _may_fire
"""The controls of :data:`.controls.CONTROLS` that might fire, as ``(code, control)`` in order.

A control left out certainly passes (its ``passes`` expression held). Windowed and turnover
controls are left out only when their calculators are the real ones; otherwise every control is
returned and the checks decide.
"""
