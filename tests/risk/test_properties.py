"""Hypothesis properties of the engine (4,800 examples here; 10,000+ across tests/risk)."""

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intraday_rl.risk import Fill, RiskAction, RiskAgentV2, TradingState
from intraday_rl.risk.screen import passes_screen
from intraday_rl.shared.types import Bar, TradeRequest

SYMBOLS = ("SYN", "ABC")
START_NS = 1_700_000_000_000_000_000
SETTINGS = settings(
    max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

symbols = st.sampled_from(SYMBOLS)
whole_quantities = st.integers(min_value=1, max_value=900).map(float)
# Mostly whole lots (the shipped lot is 1 share); some odd lots, which are refused.
quantities = st.one_of(
    whole_quantities, whole_quantities, st.floats(min_value=0.5, max_value=900.0)
)
signed_quantities = st.builds(lambda q, side: q * side, quantities, st.sampled_from([-1.0, 1.0]))
prices = st.floats(min_value=60.0, max_value=140.0)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("bar"), symbols, prices),
        st.tuples(
            st.just("order"), symbols, signed_quantities, st.sampled_from([0.0, 10.0, -10.0, 400.0])
        ),
        st.tuples(st.just("order"), symbols, signed_quantities, st.just(0.0)),
        st.tuples(st.just("fill"), st.integers(0, 50)),
        st.tuples(st.just("cancel"), st.integers(0, 50)),
        st.tuples(st.just("wait"), st.sampled_from([0.001, 0.5, 30.0])),
    ),
    max_size=30,
)
bad_numbers = st.sampled_from([math.nan, math.inf, -math.inf, -1.0, 0.0, 1e300, -1e300])


def _engine(kit) -> RiskAgentV2:
    engine = RiskAgentV2(kit.property_policy(), clock=kit.clock)
    for symbol in SYMBOLS:
        engine.update(Bar(kit.clock.now_ns, symbol, 100.0, 100.0, 100.0, 100.0, 1e6))
    return engine


@SETTINGS
@given(operations)
def test_approved_plus_denied_is_submitted(kit, ops):
    engine = _engine(kit)
    decisions = kit.run(engine, ops)
    approved = sum(decision.allowed_quantity != 0.0 for decision in decisions)
    assert engine.n_approved == approved
    assert engine.n_approved + engine.n_denied == engine.n_submitted == len(decisions)


def _check_limits_after_approval(engine, request, decision):
    if decision.allowed_quantity == 0.0:
        return
    limits = engine.policy.limits
    book = engine._books[request.symbol]
    account = engine._account
    tolerance = 1e-9
    assert abs(decision.allowed_quantity) * request.reference_price <= limits.max_order_notional * (
        1 + tolerance
    )
    assert abs(decision.allowed_quantity) <= limits.max_order_quantity
    assert abs(decision.allowed_quantity) <= abs(request.quantity)
    assert math.copysign(1.0, decision.allowed_quantity) == math.copysign(1.0, request.quantity)
    raised = (book.working_buy if decision.allowed_quantity > 0 else book.working_sell) > 0
    if raised and book.worst_position > engine._position_before:
        assert book.worst_position <= limits.max_position * (1 + tolerance)
        assert account.gross_worst <= limits.max_gross_exposure * (1 + tolerance)


@SETTINGS
@given(operations)
def test_no_approved_order_breaches_position_gross_or_notional_limits(kit, ops):
    engine = _engine(kit)
    original = engine.evaluate_and_enforce

    def tracked(request):
        book = engine._books.get(request.symbol) if isinstance(request.symbol, str) else None
        engine._position_before = book.worst_position if book is not None else 0.0
        return original(request)

    engine.evaluate_and_enforce = tracked
    kit.run(engine, ops, on_decision=_check_limits_after_approval)


TIGHTEN = [
    "max_order_quantity",
    "max_order_notional",
    "max_position",
    "max_gross_exposure",
    "max_net_exposure",
    "max_leverage",
    "price_collar_bps",
    "max_var",
    "max_daily_turnover",
    "max_bar_participation",
]


@SETTINGS
@given(
    st.lists(st.tuples(symbols, prices, signed_quantities), max_size=6),
    symbols,
    signed_quantities,
    st.sampled_from([0.0, 50.0, 250.0]),
    st.sampled_from(TIGHTEN),
    st.floats(min_value=0.05, max_value=1.0),
)
def test_tightening_a_limit_never_approves_more(
    kit, history, symbol, quantity, offset, key, factor
):
    loose = kit.property_policy()
    data = loose.model_dump(mode="json")
    data["limits"][key] = data["limits"][key] * factor
    if key == "max_var":
        data["limits"]["max_var"] = min(data["limits"]["max_var"], data["limits"]["max_cvar"])
    tight = type(loose).model_validate(data)
    allowed = []
    for policy in (loose, tight):
        engine = RiskAgentV2(policy, clock=kit.clock)
        for name in SYMBOLS:
            engine.update(Bar(kit.clock.now_ns, name, 100.0, 100.0, 100.0, 100.0, 5_000.0))
        for traded, price, size in history:  # identical history: bars and fills, no decisions
            engine.update(Bar(kit.clock.now_ns, traded, price, price, price, price, 5_000.0))
            engine.update(Fill(kit.clock.now_ns, traded, size, price))
        price = engine._books[symbol].price * (1 + offset * 1e-4)
        request = TradeRequest(kit.clock.now_ns, symbol, quantity, price)
        allowed.append(engine.assess(request).allowed_quantity)
    assert abs(allowed[1]) <= abs(allowed[0])


@SETTINGS
@given(
    st.floats(min_value=-800.0, max_value=800.0),
    st.lists(signed_quantities, min_size=1, max_size=12),
)
def test_reducing_never_increases_the_absolute_position(kit, start, orders):
    engine = _engine(kit)
    engine.update(
        Fill(kit.clock.now_ns, "SYN", start, 100.0)
        if start
        else Bar(kit.clock.now_ns, "SYN", 100.0, 100.0, 100.0, 100.0, 1e6)
    )
    engine.set_trading_state(TradingState.REDUCING, "test")
    for index, quantity in enumerate(orders):
        before = engine.position("SYN")
        kit.clock.advance(2)
        decision = engine.evaluate_and_enforce(
            TradeRequest(kit.clock.now_ns, "SYN", quantity, 100.0, client_order_id=f"r{index}")
        )
        if decision.allowed_quantity:
            engine.update(
                Fill(kit.clock.now_ns, "SYN", decision.allowed_quantity, 100.0, 0.0, f"r{index}")
            )
        after = engine.position("SYN")
        assert abs(after) <= abs(before)
        assert after * before >= 0.0  # never flips


@SETTINGS
@given(
    operations,
    st.lists(st.tuples(symbols, signed_quantities), min_size=1, max_size=8),
    st.booleans(),
)
def test_halted_approves_nothing(kit, ops, orders, by_kill_switch):
    engine = _engine(kit)
    kit.run(engine, ops)
    if by_kill_switch:
        engine.engage_kill_switch("test", "tester")
    else:
        engine.set_trading_state(TradingState.HALTED, "tester")
    for symbol, quantity in orders:
        kit.clock.advance(1)
        request = TradeRequest(kit.clock.now_ns, symbol, quantity, 100.0)
        decision = engine.evaluate_and_enforce(request)
        assert decision.allowed_quantity == 0.0
        assert decision.action >= RiskAction.BLOCK
        assert decision.reason_codes


@SETTINGS
@given(operations)
def test_same_state_and_request_give_the_same_decision(kit, ops):
    runs = []
    for _ in range(2):
        clock = kit.FixedClock(START_NS)
        engine = RiskAgentV2(kit.property_policy(), clock=clock)
        for symbol in SYMBOLS:
            engine.update(Bar(clock.now_ns, symbol, 100.0, 100.0, 100.0, 100.0, 1e6))
        runs.append(
            [
                (d.action, d.allowed_quantity, d.reason_codes, d.evidence)
                for d in kit.run(engine, ops, clock=clock)
            ]
        )
        assert engine.assess(TradeRequest(clock.now_ns, "SYN", 10.0, 100.0)) == engine.assess(
            TradeRequest(clock.now_ns, "SYN", 10.0, 100.0)
        )
    assert runs[0] == runs[1]


huge = st.floats(min_value=1.0001e12, max_value=1e308)
bad_quantities = bad_numbers.filter(lambda value: value != -1.0) | huge | huge.map(lambda v: -v)
bad_prices = bad_numbers | huge | st.floats(max_value=0.0, allow_infinity=True)


@SETTINGS
@given(
    st.one_of(
        st.tuples(st.just("quantity"), bad_quantities),
        st.tuples(st.sampled_from(["reference_price", "limit_price"]), bad_prices),
    ),
    symbols,
)
def test_nan_inf_negative_and_huge_inputs_are_denied(kit, field_value, symbol):
    field, value = field_value
    engine = _engine(kit)
    fields = {"ts_ns": kit.clock.now_ns, "symbol": symbol, "quantity": 10.0}
    fields["reference_price"] = 100.0
    if field == "limit_price":
        fields.update(order_type="limit", limit_price=value)
    else:
        fields[field] = value
    decision = engine.evaluate_and_enforce(TradeRequest(**fields))
    assert decision.allowed_quantity == 0.0
    assert decision.action >= RiskAction.BLOCK
    assert decision.reason_codes


@SETTINGS
@given(operations, symbols, signed_quantities, st.sampled_from([0.0, 1.0, -299.0, 301.0, 1000.0]))
def test_the_fast_screen_never_allows_what_a_check_denies(kit, ops, symbol, quantity, offset):
    engine = _engine(kit)
    kit.run(engine, ops)
    book = engine._books[symbol]
    now = kit.clock.now_ns
    request = TradeRequest(now, symbol, quantity, book.price * (1 + offset * 1e-4))
    if engine._fast_ok and passes_screen(
        request, now, book, engine._account, engine._limits, book.price, engine._seen_order_ids
    ):
        full = engine._explain(request, now)
        assert full.action == RiskAction.ALLOW, full.evidence
