"""Every pre-trade control, each defined once: its check, its limits and its pass condition.

A control is one :class:`~intraday_rl.risk.checks.Control`: the reason code, the limit fields it
reads, ``passes`` (a Python expression that is True when the control certainly does not fire) and
the full check (returns the :class:`~intraday_rl.risk.checks.Breach` with the quantity a REDUCE
would send and its evidence). :mod:`intraday_rl.risk.screen` compiles the ``passes`` expressions of
:data:`CONTROLS`, in order, into the engine's two fast functions: the hot path's
``passes_screen`` and the full path's ``may_fire``. Adding a control is one section here and its
name in :data:`CONTROLS`; a property test holds every ``passes`` to its check at the boundaries.

``passes`` reads these names (same expressions as the check, in the same order, so rounding cannot
disagree): ``request``, ``quantity`` (signed), ``magnitude`` (``abs(quantity)``), ``price`` (the
order price: limit, else reference price), ``reference`` (the engine's reference price),
``now_ns``, ``book`` (:class:`~intraday_rl.risk.book.SymbolBook`), ``account``, ``limits``,
``client_order_id`` and ``seen_order_ids``. An ``exposure`` control is evaluated only for an order
that raises the symbol's worst-case |position| ``W`` (none fires otherwise) and may also read
``worst`` and ``after`` (``W`` before and after the order), ``rise`` (``after - worst``),
``gross`` (worst-case gross exposure after the order), ``equity``, ``side_net`` (worst-case net
exposure on the order's side before it) and ``exposure_sigma`` (sum of worst exposure x bar sigma
after it).
"""

from __future__ import annotations

import math

from intraday_rl.risk.checks import (
    Breach,
    Control,
    PreTradeState,
    control,
    exposure_rise,
    gross_after,
    headroom_quantity,
    make_breach,
    order_price,
    worst_after,
)
from intraday_rl.risk.codes import ReasonCode
from intraday_rl.risk.limits import CompiledLimits
from intraday_rl.shared.types import TradeRequest


# ----------------------------------------------------------------------------- per-order controls
@control(
    ReasonCode.DUPLICATE_ORDER,
    ("duplicate_window_ns",),
    "(client_order_id is None or client_order_id not in seen_order_ids)"
    " and not (quantity == book.last_order_quantity and price == book.last_order_price"
    " and now_ns - book.last_order_ns < limits.duplicate_window_ns)",
)
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


@control(
    ReasonCode.MAX_ORDER_QUANTITY,
    ("symbol.max_order_quantity",),
    # The book's copy is the limit, or the request sanity bound (1e12) when lower: the screen
    # then covers the INVALID_QUANTITY size gate too.
    "magnitude <= book.max_order_quantity",
    conservative="quantity above 1e12, which the request gate refuses first",
)
def check_order_quantity(
    request: TradeRequest, state: PreTradeState, limits: CompiledLimits
) -> Breach | None:
    """MAX_ORDER_QUANTITY: |quantity| above the symbol's per-order share limit."""
    limit = state.book.limits.max_order_quantity
    if abs(request.quantity) <= limit:
        return None
    evidence = f"quantity={request.quantity} limit={limit}"
    return make_breach(ReasonCode.MAX_ORDER_QUANTITY, request, state, limits, limit, evidence)


@control(
    ReasonCode.MAX_ORDER_NOTIONAL,
    ("symbol.max_order_notional",),
    # The book's copy is the limit, or the request sanity bound (1e13) when lower: the screen
    # then covers the INVALID_QUANTITY notional gate too.
    "magnitude * price <= book.max_order_notional",
    conservative="notional above 1e13, which the request gate refuses first",
)
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


@control(
    ReasonCode.PRICE_COLLAR,
    ("collar_fraction",),
    "abs(price / reference - 1.0) <= limits.collar_fraction",
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


@control(
    ReasonCode.ORDER_RATE,
    ("order_rate_max",),
    "len(account.orders.times_ns) < limits.order_rate_max",  # count() <= the deque's length
    conservative="the window still holds expired times (evicted lazily)",
)
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


@control(
    ReasonCode.REPEATED_EXECUTION,
    ("repeat_max",),
    "len((book.buys if quantity > 0.0 else book.sells).times_ns) < limits.repeat_max",
    conservative="the window still holds expired times (evicted lazily)",
)
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


@control(
    ReasonCode.BAR_PARTICIPATION,
    ("max_bar_participation",),
    "magnitude <= book.max_bar_quantity",
)
def check_bar_participation(
    request: TradeRequest, state: PreTradeState, limits: CompiledLimits
) -> Breach | None:
    """BAR_PARTICIPATION: |quantity| above the allowed share of the last bar's volume."""
    cap = state.book.max_bar_quantity
    if abs(request.quantity) <= cap:
        return None
    evidence = f"quantity={request.quantity} bar_volume={state.book.bar_volume} cap={cap}"
    return make_breach(ReasonCode.BAR_PARTICIPATION, request, state, limits, cap, evidence)


@control(
    ReasonCode.ADV_PARTICIPATION,
    ("max_adv_participation",),
    "book.traded_quantity + book.working_buy + book.working_sell + magnitude"
    " <= book.adv_cap_quantity",
)
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


@control(
    ReasonCode.TURNOVER,
    ("max_daily_turnover",),
    "account.turnover.value + account.working + magnitude * price"
    " <= limits.max_daily_turnover * account.capital",
)
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


# ------------------------------------------------------- post-trade exposure (worst case, W rises)
@control(
    ReasonCode.MAX_POSITION,
    ("symbol.max_position",),
    "after <= book.max_position",  # the book's copy of its symbol's limit
    stage="exposure",
)
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


@control(
    ReasonCode.MAX_GROSS_EXPOSURE,
    ("max_gross_exposure",),
    "gross <= limits.max_gross_exposure",
    stage="exposure",
)
def check_gross_exposure(
    request: TradeRequest, state: PreTradeState, limits: CompiledLimits
) -> Breach | None:
    """MAX_GROSS_EXPOSURE: worst-case gross exposure above its limit."""
    rise = exposure_rise(state, request.quantity)
    if not rise > 0.0:
        return None
    gross = gross_after(state, rise)
    if gross <= limits.max_gross_exposure:
        return None
    headroom = limits.max_gross_exposure - state.account.gross_worst
    clip = headroom_quantity(state.book, request.quantity, headroom, state.reference_price)
    evidence = f"gross={gross:.2f} limit={limits.max_gross_exposure}"
    return make_breach(ReasonCode.MAX_GROSS_EXPOSURE, request, state, limits, clip, evidence)


@control(
    ReasonCode.MAX_NET_EXPOSURE,
    ("max_net_exposure",),
    "side_net + magnitude * reference <= limits.max_net_exposure",
    stage="exposure",
)
def check_net_exposure(
    request: TradeRequest, state: PreTradeState, limits: CompiledLimits
) -> Breach | None:
    """MAX_NET_EXPOSURE: worst-case |net exposure| on the order's side above its limit."""
    if not exposure_rise(state, request.quantity) > 0.0:
        return None
    account, price, quantity = state.account, state.reference_price, request.quantity
    side_net = account.net_long if quantity > 0.0 else -account.net_short
    net = side_net + abs(quantity) * price
    if net <= limits.max_net_exposure:
        return None
    clip = (limits.max_net_exposure - side_net) / price
    evidence = f"net={math.copysign(net, quantity):.2f} limit={limits.max_net_exposure}"
    return make_breach(ReasonCode.MAX_NET_EXPOSURE, request, state, limits, clip, evidence)


@control(
    ReasonCode.MAX_LEVERAGE,
    ("max_leverage",),
    "gross <= limits.max_leverage * equity",
    stage="exposure",
)
def check_leverage(
    request: TradeRequest, state: PreTradeState, limits: CompiledLimits
) -> Breach | None:
    """MAX_LEVERAGE: worst-case gross exposure / equity above its limit (equity <= 0 breaches)."""
    rise = exposure_rise(state, request.quantity)
    if not rise > 0.0:
        return None
    gross, equity = gross_after(state, rise), state.account.equity
    if gross <= limits.max_leverage * equity:
        return None
    headroom = limits.max_leverage * equity - state.account.gross_worst
    clip = headroom_quantity(state.book, request.quantity, headroom, state.reference_price)
    leverage = gross / equity if equity > 0.0 else math.inf
    evidence = f"leverage={leverage:.4f} limit={limits.max_leverage} equity={equity:.2f}"
    return make_breach(ReasonCode.MAX_LEVERAGE, request, state, limits, clip, evidence)


@control(
    ReasonCode.CONCENTRATION,
    ("max_concentration", "concentration_min_gross"),
    "gross <= limits.concentration_min_gross"
    " or after * reference / gross <= limits.max_concentration",
    stage="exposure",
)
def check_concentration(
    request: TradeRequest, state: PreTradeState, limits: CompiledLimits
) -> Breach | None:
    """CONCENTRATION: the symbol's share of worst-case gross exposure above its limit."""
    rise = exposure_rise(state, request.quantity)
    if not rise > 0.0:
        return None
    gross = gross_after(state, rise)
    if gross <= limits.concentration_min_gross:
        return None
    share = worst_after(state.book, request.quantity) * state.reference_price / gross
    if share <= limits.max_concentration:
        return None
    evidence = f"share={share:.4f} limit={limits.max_concentration} gross={gross:.2f}"
    return make_breach(ReasonCode.CONCENTRATION, request, state, limits, 0.0, evidence)


def _var_check(
    request: TradeRequest,
    state: PreTradeState,
    limits: CompiledLimits,
    code: ReasonCode,
    multiplier: float,
    limit: float,
) -> Breach | None:
    # Parametric (C)VaR = multiplier x sum(worst exposure x bar sigma), as a fraction of equity.
    rise = exposure_rise(state, request.quantity)
    if not rise > 0.0:
        return None
    book, equity = state.book, state.account.equity
    sigma = book.sigma
    exposure_sigma = state.account.var_worst + rise * state.reference_price * sigma
    if multiplier * exposure_sigma <= limit * equity:
        return None
    headroom = limit * equity / multiplier - state.account.var_worst
    clip = headroom_quantity(book, request.quantity, headroom, state.reference_price * sigma)
    value = multiplier * exposure_sigma / equity if equity > 0.0 else math.inf
    evidence = f"fraction={value:.6f} limit={limit} sigma_bar={sigma:.6g}"
    return make_breach(code, request, state, limits, clip, evidence)


@control(
    ReasonCode.VAR_LIMIT,
    ("max_var", "var_multiplier"),
    "limits.var_multiplier * exposure_sigma <= limits.max_var * equity",
    stage="exposure",
)
def check_var(request: TradeRequest, state: PreTradeState, limits: CompiledLimits) -> Breach | None:
    """VAR_LIMIT: post-trade parametric VaR above its fraction of equity."""
    code, multiplier = ReasonCode.VAR_LIMIT, limits.var_multiplier
    return _var_check(request, state, limits, code, multiplier, limits.max_var)


@control(
    ReasonCode.CVAR_LIMIT,
    ("max_cvar", "cvar_multiplier"),
    "limits.cvar_multiplier * exposure_sigma <= limits.max_cvar * equity",
    stage="exposure",
)
def check_cvar(
    request: TradeRequest, state: PreTradeState, limits: CompiledLimits
) -> Breach | None:
    """CVAR_LIMIT: post-trade parametric expected shortfall above its fraction of equity."""
    code, multiplier = ReasonCode.CVAR_LIMIT, limits.cvar_multiplier
    return _var_check(request, state, limits, code, multiplier, limits.max_cvar)


# Every control in check order: per-order controls first, then the exposure controls.
CONTROLS: tuple[Control, ...] = (
    check_duplicate,
    check_order_quantity,
    check_order_notional,
    check_price_collar,
    check_order_rate,
    check_repeated_execution,
    check_bar_participation,
    check_adv_participation,
    check_turnover,
    check_position,
    check_gross_exposure,
    check_net_exposure,
    check_leverage,
    check_concentration,
    check_var,
    check_cvar,
)
