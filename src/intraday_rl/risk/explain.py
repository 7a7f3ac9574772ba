"""The full decision path: gate checks, every control, and the rule that combines breaches.

Gates run first: a malformed request, a bad clock, an unknown symbol, a halted engine or missing
or stale data end the decision there (fail closed: BLOCK). Otherwise the account-state rules run,
then each control of :data:`CONTROL_CHECKS` (the control table of :mod:`.controls`) that
:func:`~intraday_rl.risk.screen.may_fire` keeps, and :func:`combine` turns the breaches into an
action and a quantity: the most severe action wins; ``REDUCE`` sends the smallest quantity any
reducing rule allows, cut to whole lots, and becomes ``BLOCK`` when that is 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from intraday_rl.risk.account_state import check_account_state
from intraday_rl.risk.book import SymbolBook
from intraday_rl.risk.checks import Breach, Check, PreTradeState, is_reduce_only, reducing_part
from intraday_rl.risk.codes import ReasonCode, TradingState
from intraday_rl.risk.controls import CONTROLS
from intraday_rl.risk.limits import (
    LOT_TOLERANCE,
    MAX_SANE_NOTIONAL,
    MAX_SANE_PRICE,
    MAX_SANE_QUANTITY,
    CompiledLimits,
    is_whole_lots,
)
from intraday_rl.risk.screen import may_fire
from intraday_rl.shared.types import RiskAction, TradeRequest

ORDER_TYPES = ("market", "limit")

# Enum members as module constants: class attribute loads cost ~50 ns each on Python 3.11.
_ALLOW, _WARN, _REDUCE = RiskAction.ALLOW, RiskAction.WARN, RiskAction.REDUCE
_BLOCK, _HALT, _LIQUIDATE = RiskAction.BLOCK, RiskAction.HALT, RiskAction.LIQUIDATE
_REFUSING = (_BLOCK, _HALT)
_PASSING = (_REDUCE, _LIQUIDATE)

# Gate codes after which nothing about the order can be judged (no state gate, no controls).
REQUEST_CODES = frozenset(
    {
        ReasonCode.INVALID_REQUEST,
        ReasonCode.INVALID_QUANTITY,
        ReasonCode.INVALID_PRICE,
        ReasonCode.UNKNOWN_SYMBOL,
        ReasonCode.CLOCK_FAULT,
    }
)

# Every control with the code it reports, in check order (the control table's order).
CONTROL_CHECKS: tuple[tuple[ReasonCode, Check], ...] = tuple(
    (control.code, control.check) for control in CONTROLS
)

SHIPPED_CHECKS = CONTROL_CHECKS


def fixed(code: ReasonCode, evidence: str, action: RiskAction = RiskAction.BLOCK) -> Breach:
    """A breach of a fixed (not configurable) code: BLOCK with nothing allowed."""
    return Breach(code, action, 0.0, f"{code} {evidence}")


def _is_real(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _well_formed(request: TradeRequest) -> bool:
    # The usual request, strictly typed: True only when validate_request finds nothing (exact
    # types, so no __eq__ or __abs__ of a subclass can disagree); False: validate in full.
    symbol, ts_ns, order_type = request.symbol, request.ts_ns, request.order_type
    quantity, price, limit_price = request.quantity, request.reference_price, request.limit_price
    client_order_id = request.client_order_id
    if type(symbol) is not str or not symbol or type(ts_ns) is not int or ts_ns < 0:
        return False
    if client_order_id is not None and type(client_order_id) is not str:
        return False
    if type(quantity) is not float or type(price) is not float or type(order_type) is not str:
        return False
    magnitude = quantity if quantity >= 0.0 else -quantity  # abs(); -0.0 fails below like 0.0
    if not (0.0 < magnitude <= MAX_SANE_QUANTITY and 0.0 < price <= MAX_SANE_PRICE):
        return False
    if limit_price is None:
        return order_type == "market" and magnitude * price <= MAX_SANE_NOTIONAL
    return (
        type(limit_price) is float
        and 0.0 < limit_price <= MAX_SANE_PRICE
        and (order_type == "limit")
        and magnitude * limit_price <= MAX_SANE_NOTIONAL
    )


def validate_request(request: object) -> list[Breach]:
    """INVALID_REQUEST / INVALID_QUANTITY / INVALID_PRICE: types, finiteness, sign and size."""
    if not isinstance(request, TradeRequest):
        return [fixed(ReasonCode.INVALID_REQUEST, f"type={type(request).__name__}")]
    if _well_formed(request):
        return []
    found = []
    if not isinstance(request.symbol, str) or not request.symbol:
        found.append(fixed(ReasonCode.INVALID_REQUEST, f"symbol={request.symbol!r}"))
    if type(request.ts_ns) is not int or request.ts_ns < 0:
        found.append(fixed(ReasonCode.INVALID_REQUEST, f"ts_ns={request.ts_ns!r}"))
    if request.order_type not in ORDER_TYPES or (
        (request.order_type == "limit") != (request.limit_price is not None)
    ):
        evidence = f"order_type={request.order_type!r} limit_price={request.limit_price!r}"
        found.append(fixed(ReasonCode.INVALID_REQUEST, evidence))
    cid: object = request.client_order_id
    if cid is not None and not isinstance(cid, str):
        found.append(fixed(ReasonCode.INVALID_REQUEST, f"client_order_id={cid!r}"))
    quantity = request.quantity
    if not _is_real(quantity) or not 0.0 < abs(quantity) <= MAX_SANE_QUANTITY:
        found.append(fixed(ReasonCode.INVALID_QUANTITY, f"quantity={quantity!r}"))
    prices = [("reference_price", request.reference_price)]
    if request.limit_price is not None:
        prices.append(("limit_price", request.limit_price))
    for name, price in prices:
        if not _is_real(price) or not 0.0 < price <= MAX_SANE_PRICE:
            found.append(fixed(ReasonCode.INVALID_PRICE, f"{name}={price!r}"))
    if not found:  # each number is sane on its own; their product may not be
        notional = abs(quantity) * prices[-1][1]
        if not notional <= MAX_SANE_NOTIONAL:
            evidence = f"notional={notional:.6g} limit={MAX_SANE_NOTIONAL:.6g}"
            found.append(fixed(ReasonCode.INVALID_QUANTITY, evidence))
    return found


def check_request_fit(request: TradeRequest, now_ns: int, limits: CompiledLimits) -> list[Breach]:
    """INVALID_REQUEST / INVALID_QUANTITY for a well-formed request that the policy cannot take.

    Its ``ts_ns`` must be within ``limits.max_request_skew_s`` of the engine's clock (a stale
    order intent, or a clock out of step), and its quantity a whole number of lots, at least one
    (dust and odd lots are erroneous orders).
    """
    found = []
    ts_ns, skew_ns = request.ts_ns, limits.request_skew_ns
    if not -skew_ns <= ts_ns - now_ns <= skew_ns:
        evidence = f"ts_ns={ts_ns} now_ns={now_ns} skew_s={(ts_ns - now_ns) / 1e9:.6g}"
        evidence += f" limit_s={skew_ns / 1e9:g}"
        found.append(fixed(ReasonCode.INVALID_REQUEST, evidence))
    if not is_whole_lots(abs(request.quantity), limits.lot_size):
        evidence = f"quantity={request.quantity!r} lot_size={limits.lot_size}"
        found.append(fixed(ReasonCode.INVALID_QUANTITY, evidence))
    return found


def gate_breaches(
    request: TradeRequest,
    now_ns: object,
    book: SymbolBook | None,
    reference: object,
    limits: CompiledLimits,
) -> list[Breach]:
    """Clock, request (timestamp skew and whole lots included), symbol and market-data gates.

    Any of them ends the decision.

    ``reference`` is what the engine's price source returned, or the book's price when the
    engine has no price source.
    """
    found = validate_request(request)
    if not isinstance(now_ns, int) or isinstance(now_ns, bool) or now_ns < 0:
        return [fixed(ReasonCode.CLOCK_FAULT, f"now_ns={now_ns!r}"), *found]
    if found:
        return found
    found = check_request_fit(request, now_ns, limits)
    if found:
        return found
    if book is None or not book.listed:
        return [fixed(ReasonCode.UNKNOWN_SYMBOL, f"symbol={request.symbol}")]
    if book.data_fault:
        found.append(fixed(ReasonCode.BAD_MARKET_DATA, f"symbol={book.symbol}"))
    elif book.last_data_ns < 0 or not book.price > 0.0:
        found.append(fixed(ReasonCode.NO_REFERENCE_PRICE, f"symbol={book.symbol}"))
    elif now_ns > book.last_data_ns + limits.max_data_age_ns:
        age_s = (now_ns - book.last_data_ns) / 1e9
        action = limits.actions[ReasonCode.STALE_DATA]
        evidence = f"age_s={age_s:.3f} limit_s={limits.max_data_age_ns / 1e9}"
        found.append(fixed(ReasonCode.STALE_DATA, evidence, action))
    if not found and not (_is_real(reference) and 0.0 < reference < math.inf):  # type: ignore[operator]
        found.append(fixed(ReasonCode.PRICE_SOURCE_FAULT, f"reference={reference!r}"))
    return found


def state_gate(
    request: TradeRequest,
    book: SymbolBook,
    trading_state: TradingState,
    kill_switch: bool,
    limits: CompiledLimits,
) -> list[Breach]:
    """RESTRICTED_SYMBOL, KILL_SWITCH, TRADING_HALTED and REDUCE_ONLY."""
    found = []
    if book.restricted:
        action = limits.actions[ReasonCode.RESTRICTED_SYMBOL]
        found.append(fixed(ReasonCode.RESTRICTED_SYMBOL, f"symbol={book.symbol}", action))
    if kill_switch:
        found.append(fixed(ReasonCode.KILL_SWITCH, "engaged=1"))
    elif trading_state is TradingState.HALTED:
        found.append(fixed(ReasonCode.TRADING_HALTED, "state=HALTED"))
    elif trading_state is TradingState.REDUCING and not is_reduce_only(book, request.quantity):
        allowed = reducing_part(book, request.quantity)
        action = RiskAction.REDUCE if allowed != 0.0 else RiskAction.BLOCK
        evidence = f"REDUCE_ONLY position={book.position} quantity={request.quantity}"
        found.append(Breach(ReasonCode.REDUCE_ONLY, action, allowed, evidence))
    return found


def control_breaches(
    request: TradeRequest, state: PreTradeState, limits: CompiledLimits
) -> list[Breach]:
    """Run the account-state rules, then the controls; return what fired, in check order.

    Once a rule at BLOCK or HALT has fired the order sends nothing, so a control whose action
    is not more severe than the worst so far is skipped: it could change neither the action nor
    the quantity, only add a code. More severe controls (a HALT, a LIQUIDATE) still run.
    """
    found = check_account_state(request, state, limits)
    worst = max((breach.action for breach in found), default=_ALLOW)
    refused = any(breach.action in _REFUSING for breach in found)
    actions = limits.actions
    checks: Sequence[tuple[ReasonCode, Check]] = CONTROL_CHECKS
    if checks is SHIPPED_CHECKS:
        try:
            checks = may_fire(request, state, limits)
        except Exception:  # let the checks themselves raise (or not): the spec decides
            checks = CONTROL_CHECKS
    for code, check in checks:
        if refused and actions[code] <= worst:
            continue
        breach = check(request, state, limits)
        if breach is not None:
            found.append(breach)
            worst = max(worst, breach.action)
            refused = refused or breach.action in _REFUSING
    return found


def floor_to_lot(quantity: float, lot_size: float) -> float:
    """Cut ``quantity`` towards 0 to a whole number of lots (never above ``|quantity|``).

    A quantity within rounding of a whole number of lots keeps it (0.3 is 3 lots of 0.1).

    >>> floor_to_lot(-250.5, 10.0), floor_to_lot(0.3, 0.1), floor_to_lot(0.5, 1.0)
    (-250.0, 0.3, 0.0)
    """
    magnitude = abs(quantity)
    lots = magnitude / lot_size
    whole = min(math.floor(lots + LOT_TOLERANCE * lots) * lot_size, magnitude)
    return math.copysign(whole, quantity)


def combine(
    request: TradeRequest, breaches: Sequence[Breach], lot_size: float
) -> tuple[RiskAction, float]:
    """Return ``(action, allowed_quantity)``: the most severe action wins.

    ``REDUCE`` and ``LIQUIDATE`` send the smallest quantity that every rule at ``REDUCE`` or above
    allows (BLOCK and HALT allow 0), cut to whole lots; a ``REDUCE`` left with 0 is a ``BLOCK``.
    """
    if not breaches:
        return _ALLOW, request.quantity
    action = max(breach.action for breach in breaches)
    if action <= _WARN:
        return action, request.quantity
    if action in _REFUSING:
        return action, 0.0
    allowed = abs(request.quantity)
    for breach in breaches:
        if breach.action >= _REDUCE:
            passes = breach.action in _PASSING
            allowed = min(allowed, abs(breach.allowed_quantity) if passes else 0.0)
    quantity = floor_to_lot(math.copysign(allowed, request.quantity), lot_size)
    if quantity == 0.0 and action == _REDUCE:
        return _BLOCK, 0.0
    return action, quantity


def verify_reduced(
    request: TradeRequest,
    allowed: float,
    state: PreTradeState,
    trading_state: TradingState,
    limits: CompiledLimits,
) -> float:
    """Re-run the controls on a cut order; cut one lot more while it fails (at most 3 tries).

    Returns the quantity that passes (0 when none does): a REDUCE never sends an order that would
    itself be refused.
    """
    lot = limits.lot_size
    for _ in range(3):
        trial = replace(request, quantity=allowed)
        breaches = state_gate(trial, state.book, trading_state, False, limits)
        breaches += control_breaches(trial, state, limits)
        _, trial_allowed = combine(trial, breaches, lot)
        if trial_allowed == allowed:
            return allowed
        smaller = min(abs(trial_allowed), abs(allowed) - lot)
        allowed = floor_to_lot(math.copysign(max(0.0, smaller), allowed), lot)
        if allowed == 0.0:
            return 0.0
    return 0.0
