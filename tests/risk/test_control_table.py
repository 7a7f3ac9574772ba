"""The control table: the fast screen, ``may_fire`` and the checks agree at every boundary.

Each example builds an engine state from a random history (bars, fills, approvals, cancels,
waits), draws a request, then moves one limit field of one control to the exact threshold where
that control's check flips (found by bisection over the field's values) and a few steps either
side (at, just below, just above: adjacent floats or ints). There it asserts, per control and for
the whole decision:

- a control that ``may_fire`` leaves out never fires (its ``passes`` expression is sound);
- a control whose ``passes`` is exact (``conservative == ""``) is kept only when it fires;
- when the fast screen passes, the full path allows the whole quantity with no reason code;
- when the full path allows cleanly and no conservative control was kept, the screen passes
  (unless the symbol is too volatile: the screen then leaves even reduce-only orders to the full
  path).

16 controls x 640 examples = 10,240 examples.
"""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intraday_rl.risk import (
    Bar,
    Fill,
    OrderEvent,
    OrderEventKind,
    RiskAction,
    RiskAgentV2,
    TradingState,
)
from intraday_rl.risk.checks import PreTradeState
from intraday_rl.risk.controls import CONTROLS, Control
from intraday_rl.risk.limits import CompiledLimits
from intraday_rl.risk.screen import may_fire, passes_screen
from intraday_rl.shared.types import TradeRequest

SYMBOLS = ("SYN", "ABC")
EXAMPLES_PER_CONTROL = 640
SETTINGS = settings(
    max_examples=EXAMPLES_PER_CONTROL,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_INF_KEY = 0x7FF0000000000000  # the bit pattern of +inf: non-negative floats sort as their bits
_INT_MAX = 2**62

prices = st.floats(min_value=97.0, max_value=103.0)
sizes = st.integers(min_value=1, max_value=900).map(float)
signed_sizes = st.builds(lambda size, side: size * side, sizes, st.sampled_from([-1.0, 1.0]))
operations = st.lists(
    st.one_of(
        st.tuples(st.just("bar"), st.sampled_from(SYMBOLS), prices, st.sampled_from([5e2, 1e4])),
        st.tuples(st.just("order"), st.sampled_from(SYMBOLS), signed_sizes),
        st.tuples(st.just("fill"), st.integers(0, 20)),
        st.tuples(st.just("cancel"), st.integers(0, 20)),
        st.tuples(st.just("wait"), st.sampled_from([0.0, 0.2, 2.0])),
    ),
    max_size=14,
)
requests = st.fixed_dictionaries(
    {
        "symbol": st.sampled_from(SYMBOLS),
        "quantity": signed_sizes,
        "offset_bps": st.sampled_from([0.0, 0.0, 10.0, -150.0, 299.0]),
        "client_order_id": st.sampled_from([None, "fresh", "o1"]),
        "repeat_last": st.booleans(),
        "limit_order": st.booleans(),
    }
)
# Where the field is set: steps from the last value on one side of the flip (0) to the first on
# the other side (1), in adjacent floats or ints; "far" values on either side too.
steps = st.sampled_from([-2, -1, 0, 1, 2, 3, "half", "double"])


_POLICIES: dict[str, object] = {}


def _policy(kit):
    # Built once (YAML and validation cost ~20 ms); engines never change their policy here.
    if "policy" not in _POLICIES:
        _POLICIES["policy"] = _build_policy(kit)
    return _POLICIES["policy"]


def _build_policy(kit):
    return kit.policy(
        limits={
            "max_order_quantity": 700.0,
            "max_order_notional": 60_000.0,
            "max_position": 800.0,
            "max_gross_exposure": 150_000.0,
            "max_net_exposure": 100_000.0,
            "max_leverage": 1.5,
            "max_concentration": 0.7,
            "concentration_min_gross": 20_000.0,
            "price_collar_bps": 300.0,
            "max_daily_turnover": 3.0,
            "max_adv_participation": 0.1,
            "order_rate": {"max_count": 6, "per_s": 1.0},
            "repeated_execution": {"max_count": 5, "per_s": 1.0},
            "max_data_age_s": 1e9,
        },
        symbols={"SYN": {"adv_shares": 20_000.0}, "ABC": {}},
    )


def _history(engine: RiskAgentV2, clock, ops) -> None:
    working: list[TradeRequest] = []
    price = dict.fromkeys(SYMBOLS, 100.0)
    for number, operation in enumerate(ops):
        kind = operation[0]
        if kind == "bar":
            _, symbol, price[symbol], volume = operation
            engine.update(Bar(clock.now_ns, symbol, *[price[symbol]] * 4, volume))
        elif kind == "order":
            _, symbol, quantity = operation
            order_id = f"h{number}"
            request = TradeRequest(
                clock.now_ns, symbol, quantity, price[symbol], client_order_id=order_id
            )
            allowed = engine.evaluate_and_enforce(request).allowed_quantity
            if allowed:
                working.append(
                    TradeRequest(
                        clock.now_ns, symbol, allowed, price[symbol], client_order_id=order_id
                    )
                )
        elif kind in ("fill", "cancel") and working:
            done = working.pop(operation[1] % len(working))
            if kind == "fill":
                engine.update(
                    Fill(
                        clock.now_ns,
                        done.symbol,
                        done.quantity,
                        price[done.symbol],
                        0.0,
                        done.client_order_id,
                    )
                )
            else:
                engine.update(
                    OrderEvent(
                        clock.now_ns, done.symbol, OrderEventKind.CANCELLED, done.client_order_id
                    )
                )
        elif kind == "wait":
            clock.advance(operation[1])


def _request(engine: RiskAgentV2, now_ns: int, fields: dict) -> TradeRequest:
    book = engine._books[fields["symbol"]]
    quantity, price = fields["quantity"], book.price * (1.0 + fields["offset_bps"] * 1e-4)
    if fields["repeat_last"] and book.last_order_quantity == book.last_order_quantity:
        quantity, price = book.last_order_quantity, book.last_order_price  # a duplicate
    order_id = fields["client_order_id"]
    if fields["limit_order"]:
        return TradeRequest(
            now_ns, fields["symbol"], quantity, book.price, "limit", price, order_id
        )
    return TradeRequest(now_ns, fields["symbol"], quantity, price, client_order_id=order_id)


class _Field:
    """One limit field of a control: read, written (the book's copies refreshed) and searched."""

    def __init__(self, engine: RiskAgentV2, book, name: str) -> None:
        self.engine, self.book = engine, book
        self.per_symbol = name.startswith("symbol.")
        self.name = name.removeprefix("symbol.")
        self.target = book.limits if self.per_symbol else engine._limits
        self.is_int = type(getattr(self.target, self.name)) is int

    def set(self, value: float) -> None:
        setattr(self.target, self.name, value)
        self.book.refresh(self.engine._limits)  # the book's copies of the limits

    def value(self, key: int) -> float:
        # Keys are ints for int fields, float bit patterns (>= 0) for float fields.
        if self.is_int:
            return key
        return struct.unpack("<d", struct.pack("<q", key))[0]

    def key(self, value: float) -> int:
        if self.is_int:
            return int(value)
        return struct.unpack("<q", struct.pack("<d", float(value)))[0]

    def flip(self, fires) -> int | None:
        """The last key on one side of where ``fires`` changes (None: it never changes)."""
        low, high = 0, _INT_MAX if self.is_int else _INF_KEY
        at_low = fires(self.value(low))
        if fires(self.value(high)) == at_low:
            return None
        while high - low > 1:
            middle = (low + high) // 2
            if fires(self.value(middle)) == at_low:
                low = middle
            else:
                high = middle
        return low


def _pre_trade(engine: RiskAgentV2, request: TradeRequest, now_ns: int) -> PreTradeState:
    book = engine._books[request.symbol]
    return PreTradeState(engine._account, book, now_ns, book.price, engine._seen_order_ids)


def _place_at_boundary(engine, request, now_ns, control: Control, field_index: int, step) -> None:
    book = engine._books[request.symbol]
    field = _Field(engine, book, control.limits[field_index % len(control.limits)])
    original = getattr(field.target, field.name)

    def fires(value: float) -> bool:
        field.set(value)
        return (
            control.check(request, _pre_trade(engine, request, now_ns), engine._limits) is not None
        )

    low = field.flip(fires)
    if low is None:
        field.set(original)
        return
    top = _INT_MAX if field.is_int else _INF_KEY
    if step == "half":
        value = field.value(low) / 2 if not field.is_int else low // 2
    elif step == "double":
        value = min(field.value(low + 1) * 2, field.value(top))
    else:
        value = field.value(min(max(low + step, 0), top))
    field.set(value)


def _assert_agree(engine: RiskAgentV2, request: TradeRequest, now_ns: int) -> None:
    pre = _pre_trade(engine, request, now_ns)
    limits: CompiledLimits = engine._limits
    fired = {c.code for c in CONTROLS if c.check(request, pre, limits) is not None}
    kept = {code for code, _ in may_fire(request, pre, limits)}
    assert fired <= kept, f"may_fire left out {fired - kept}"
    exact = {c.code for c in CONTROLS if not c.conservative}
    assert kept & exact <= fired, f"exact controls kept but passing: {(kept & exact) - fired}"
    if not engine._fast_ok:
        return
    book = engine._books[request.symbol]
    account, seen = engine._account, engine._seen_order_ids
    screen = passes_screen(request, now_ns, book, account, limits, book.price, seen)
    full = engine._explain(request, now_ns)
    clean = full.action == RiskAction.ALLOW and not full.reason_codes
    if screen:
        assert clean, full.evidence
        assert full.allowed_quantity == request.quantity
    elif clean and not kept - exact and book.volatility_ok:
        # (A symbol too volatile takes the full path, where a reduce-only order may pass.)
        pytest.fail(f"the screen refused what every check allows: {request}")


@pytest.mark.parametrize("control", CONTROLS, ids=[c.code.value for c in CONTROLS])
@SETTINGS
@given(
    ops=operations,
    fields=requests,
    field_index=st.integers(0, 1),
    step=steps,
)
def test_screen_may_fire_and_checks_agree_at_each_boundary(
    kit, control, ops, fields, field_index, step
):
    clock = kit.FixedClock(kit.START_NS)
    engine = RiskAgentV2(_policy(kit), clock=clock)
    for symbol in SYMBOLS:
        engine.update(Bar(clock.now_ns, symbol, 100.0, 100.0, 100.0, 100.0, 1e4))
    _history(engine, clock, ops)
    if engine.trading_state is not TradingState.ACTIVE or not engine._fast_ok:
        engine.rearm("test")
    request = _request(engine, clock.now_ns, fields)
    _place_at_boundary(engine, request, clock.now_ns, control, field_index, step)
    _assert_agree(engine, request, clock.now_ns)


def test_every_control_names_limit_fields_that_exist(kit):
    engine = RiskAgentV2(_policy(kit), clock=kit.clock)
    book = engine._books["SYN"]
    for control in CONTROLS:
        for name in control.limits:
            target = book.limits if name.startswith("symbol.") else engine._limits
            assert hasattr(target, name.removeprefix("symbol.")), (control.code, name)
        assert control.check.__doc__ is not None
        assert control.check.__doc__.startswith(control.code.value), control.code


def test_the_table_holds_each_code_once_in_check_order():
    codes = [control.code for control in CONTROLS]
    assert len(codes) == len(set(codes))
    stages = [control.stage for control in CONTROLS]
    assert stages == sorted(stages, key=lambda stage: stage == "exposure")
    assert math.isinf(struct.unpack("<d", struct.pack("<q", _INF_KEY))[0])


@pytest.mark.parametrize(
    ("quantity", "price"), [(2e12, 1.0), (2e11, 100.0)], ids=["quantity", "notional"]
)
def test_the_screen_refuses_insane_sizes_with_the_order_limits_off(kit, quantity, price):
    # The screen's request size gates are the book's copies of the order limits, capped at the
    # sanity bounds (1e12 shares, 1e13 notional): switching the limits off keeps them.
    off = {"max_order_quantity": None, "max_order_notional": None, "max_position": None}
    off |= {"max_gross_exposure": None, "max_net_exposure": None, "max_leverage": None}
    off |= {"max_var": None, "max_cvar": None, "max_daily_turnover": None}
    off |= {"max_bar_participation": None, "max_adv_participation": None}
    engine = kit.engine(kit.policy(limits=off), price=price)
    request = kit.request(quantity, price)
    book = engine._books[request.symbol]
    now = kit.clock.now_ns
    seen = engine._seen_order_ids
    assert engine._fast_ok
    assert not passes_screen(request, now, book, engine._account, engine._limits, price, seen)
    assert engine.evaluate_and_enforce(request).reason_codes == ("INVALID_QUANTITY",)
    assert engine.evaluate_and_enforce(kit.request(1.0, price, client_order_id="ok")).action == (
        RiskAction.ALLOW
    )
