"""Pre-trade checks: pure functions of (request, state, limits) returning a breach or None.

These functions are the specification of every control; the engine's fast screen
(:mod:`intraday_rl.risk.screen`) only decides quickly that none of them can fire, and a property
test holds it to that. A breach carries its code, the action in force, the quantity a ``REDUCE``
would send, and ``key=value`` evidence. Checks never raise on purpose: the engine turns an
exception into a ``CALCULATOR_FAULT`` block.

Exposure checks (position, gross, net, leverage, concentration, VaR) look only at orders that raise
the symbol's worst-case exposure ``W``; account-state checks look only at orders that are not
reduce-only, unless their action is ``HALT`` or ``LIQUIDATE``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Set
from typing import NamedTuple

from intraday_rl.risk.book import AccountBook, SymbolBook
from intraday_rl.risk.codes import CLIPPABLE_CODES, ReasonCode
from intraday_rl.risk.limits import CompiledLimits
from intraday_rl.shared.types import RiskAction, TradeRequest


class PreTradeState(NamedTuple):
    """What a check may read: the account, the symbol's book, the time and the reference price."""

    account: AccountBook
    book: SymbolBook
    now_ns: int
    reference_price: float
    seen_order_ids: Set[str]


class Breach(NamedTuple):
    """A rule that fired: ``allowed_quantity`` is what a REDUCE would send (signed)."""

    code: ReasonCode
    action: RiskAction
    allowed_quantity: float
    evidence: str


Check = Callable[[TradeRequest, PreTradeState, CompiledLimits], "Breach | None"]


def order_price(request: TradeRequest) -> float:
    """The price an order is valued and collared at: its limit price, else its reference price."""
    return request.limit_price if request.limit_price is not None else request.reference_price


def worst_after(book: SymbolBook, quantity: float) -> float:
    """Worst-case |position| of ``book`` after an order of ``quantity`` joins the working orders."""
    if quantity > 0.0:
        return max(book.position + book.working_buy + quantity, book.working_sell - book.position)
    return max(book.position + book.working_buy, book.working_sell - book.position - quantity)


def reducing_part(book: SymbolBook, quantity: float) -> float:
    """The part of ``quantity`` that shrinks |position| without flipping it (working filled)."""
    if quantity > 0.0:
        return min(quantity, max(0.0, -(book.position + book.working_buy)))
    return max(quantity, min(0.0, book.working_sell - book.position))


def is_reduce_only(book: SymbolBook, quantity: float) -> bool:
    """True when the whole order is risk-reducing (:func:`reducing_part` is all of it)."""
    return reducing_part(book, quantity) == quantity


def make_breach(
    code: ReasonCode,
    request: TradeRequest,
    state: PreTradeState,
    limits: CompiledLimits,
    clip: float,
    evidence: str,
) -> Breach:
    # ``clip`` is the largest |quantity| that fits a clippable limit at REDUCE; a LIQUIDATE, and
    # any other code, lets only the risk-reducing part go (0 from flat), never a clipped order
    # that still adds risk.
    action = limits.actions[code]
    if code in CLIPPABLE_CODES and action != RiskAction.LIQUIDATE:
        allowed = math.copysign(max(0.0, min(clip, abs(request.quantity))), request.quantity)
    else:
        allowed = reducing_part(state.book, request.quantity)
    return Breach(code, action, allowed, f"{code} {evidence}")


def headroom_quantity(
    book: SymbolBook, quantity: float, headroom: float, per_share: float
) -> float:
    # Largest |q| whose rise of worst-case exposure, valued at ``per_share``, fits ``headroom``.
    if not per_share > 0.0:
        return 0.0
    side = book.position + book.working_buy if quantity > 0.0 else book.working_sell - book.position
    return max(0.0, book.worst_position + headroom / per_share - side)


def check_duplicate(
    request: TradeRequest, state: PreTradeState, limits: CompiledLimits
) -> Breach | None:
    """DUPLICATE_ORDER: a reused client_order_id, or the symbol's last order again too soon."""
    if request.client_order_id is not None and request.client_order_id in state.seen_order_ids:
        evidence = f"client_order_id={request.client_order_id}"
        return make_breach(ReasonCode.DUPLICATE_ORDER, request, state, limits, 0.0, evidence)
    book = state.book
    age_ns = state.now_ns - book.last_order_ns
    if (
        request.quantity == book.last_order_quantity
        and order_price(request) == book.last_order_price
        and age_ns < limits.duplicate_window_ns
    ):
        evidence = f"quantity={request.quantity} price={book.last_order_price} age_ns={age_ns}"
        return make_breach(ReasonCode.DUPLICATE_ORDER, request, state, limits, 0.0, evidence)
    return None


def check_order_quantity(
    request: TradeRequest, state: PreTradeState, limits: CompiledLimits
) -> Breach | None:
    """MAX_ORDER_QUANTITY: |quantity| above the symbol's per-order share limit."""
    limit = state.book.limits.max_order_quantity
    if abs(request.quantity) <= limit:
        return None
    evidence = f"quantity={request.quantity} limit={limit}"
    return make_breach(ReasonCode.MAX_ORDER_QUANTITY, request, state, limits, limit, evidence)


def check_order_notional(
    request: TradeRequest, state: PreTradeState, limits: CompiledLimits
) -> Breach | None:
    """MAX_ORDER_NOTIONAL: |quantity| x order price above the per-order notional limit."""
    price = order_price(request)
    notional = abs(request.quantity) * price
    limit = state.book.limits.max_order_notional
    if notional <= limit:
        return None
    evidence = f"notional={notional:.2f} limit={limit}"
    return make_breach(
        ReasonCode.MAX_ORDER_NOTIONAL, request, state, limits, limit / price, evidence
    )


def check_price_collar(
    request: TradeRequest, state: PreTradeState, limits: CompiledLimits
) -> Breach | None:
    """PRICE_COLLAR: the order price strays from the reference price by more than the collar."""
    price, reference = order_price(request), state.reference_price
    deviation = abs(price / reference - 1.0)
    if deviation <= limits.collar_fraction:
        return None
    evidence = (
        f"price={price} reference={reference} deviation_bps={deviation * 1e4:.1f} "
        f"limit_bps={limits.collar_fraction * 1e4:.1f}"
    )
    return make_breach(ReasonCode.PRICE_COLLAR, request, state, limits, 0.0, evidence)


def check_order_rate(
    request: TradeRequest, state: PreTradeState, limits: CompiledLimits
) -> Breach | None:
    """ORDER_RATE: one more order would exceed the account's orders per window."""
    count = state.account.orders.count(state.now_ns)
    if count + 1 <= limits.order_rate_max:
        return None
    evidence = (
        f"orders={count} limit={limits.order_rate_max} window_ns={limits.order_rate_window_ns}"
    )
    return make_breach(ReasonCode.ORDER_RATE, request, state, limits, 0.0, evidence)


def check_repeated_execution(
    request: TradeRequest, state: PreTradeState, limits: CompiledLimits
) -> Breach | None:
    """REPEATED_EXECUTION: too many same-side orders in this symbol per window (halts)."""
    counter = state.book.buys if request.quantity > 0.0 else state.book.sells
    count = counter.count(state.now_ns)
    if count + 1 <= limits.repeat_max:
        return None
    evidence = (
        f"same_side_orders={count} limit={limits.repeat_max} window_ns={limits.repeat_window_ns}"
    )
    return make_breach(ReasonCode.REPEATED_EXECUTION, request, state, limits, 0.0, evidence)


def check_bar_participation(
    request: TradeRequest, state: PreTradeState, limits: CompiledLimits
) -> Breach | None:
    """BAR_PARTICIPATION: |quantity| above the allowed share of the last bar's volume."""
    cap = state.book.max_bar_quantity
    if abs(request.quantity) <= cap:
        return None
    evidence = f"quantity={request.quantity} bar_volume={state.book.bar_volume} cap={cap}"
    return make_breach(ReasonCode.BAR_PARTICIPATION, request, state, limits, cap, evidence)


def check_adv_participation(
    request: TradeRequest, state: PreTradeState, limits: CompiledLimits
) -> Breach | None:
    """ADV_PARTICIPATION: session shares traded + working + this order above a share of ADV."""
    book = state.book
    used = book.traded_quantity + book.working_buy + book.working_sell
    if used + abs(request.quantity) <= book.adv_cap_quantity:
        return None
    evidence = f"session_quantity={used + abs(request.quantity)} cap={book.adv_cap_quantity}"
    clip = book.adv_cap_quantity - used
    return make_breach(ReasonCode.ADV_PARTICIPATION, request, state, limits, clip, evidence)


def check_turnover(
    request: TradeRequest, state: PreTradeState, limits: CompiledLimits
) -> Breach | None:
    """TURNOVER: session traded notional + working + this order above the turnover cap."""
    price = order_price(request)
    account = state.account
    used = account.turnover.value + account.working
    cap = limits.max_daily_turnover * account.capital
    if used + abs(request.quantity) * price <= cap:
        return None
    evidence = f"turnover={(used + abs(request.quantity) * price) / account.capital:.4f}"
    evidence += f" limit={limits.max_daily_turnover}"
    return make_breach(ReasonCode.TURNOVER, request, state, limits, (cap - used) / price, evidence)


def check_position(
    request: TradeRequest, state: PreTradeState, limits: CompiledLimits
) -> Breach | None:
    """MAX_POSITION: worst-case |shares| of the symbol above its position limit."""
    book = state.book
    worst = worst_after(book, request.quantity)
    limit = book.limits.max_position
    if worst <= book.worst_position or worst <= limit:
        return None
    clip = headroom_quantity(book, request.quantity, limit - book.worst_position, 1.0)
    evidence = f"worst_position={worst} limit={limit}"
    return make_breach(ReasonCode.MAX_POSITION, request, state, limits, clip, evidence)
