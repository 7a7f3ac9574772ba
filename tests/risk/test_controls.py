"""Every control at its exact boundary: the limit passes, the limit + epsilon fails."""

import math

import pytest

from intraday_rl.risk import Fill, ReasonCode, RiskAction, RiskAgentV2, TradingState
from intraday_rl.shared.types import TradeRequest

EPS = 1e-6  # shares
# Lots fine enough that limit + EPS is a whole number of lots: these tests probe the limits'
# comparisons, not the lot rule (test_engine.py covers that).
FINE_LOTS = {"lot_size": 1e-9}


def _decide(engine: RiskAgentV2, request: TradeRequest):
    return engine.evaluate_and_enforce(request)


def _assert_denied(decision, code: ReasonCode) -> None:
    assert code in decision.reason_codes, decision
    assert decision.action >= RiskAction.BLOCK
    assert decision.allowed_quantity == 0.0


def _assert_allowed(decision) -> None:
    assert decision.action == RiskAction.ALLOW, decision
    assert decision.reason_codes == ()


# (limit overrides, action override, allowed quantity, denied quantity, code)
QUANTITY_BOUNDARIES = [
    ({"max_order_quantity": 500.0}, "MAX_ORDER_QUANTITY", 500.0, 500.0 + EPS),
    ({"max_order_notional": 50_000.0}, "MAX_ORDER_NOTIONAL", 500.0, 500.0 + EPS),
    ({"max_position": 500.0}, "MAX_POSITION", 500.0, 500.0 + EPS),
    ({"max_gross_exposure": 50_000.0}, "MAX_GROSS_EXPOSURE", 500.0, 500.0 + EPS),
    ({"max_net_exposure": 50_000.0}, "MAX_NET_EXPOSURE", -500.0, -500.0 - EPS),
    ({"max_leverage": 0.5}, "MAX_LEVERAGE", 500.0, 500.0 + EPS),
    ({"max_daily_turnover": 0.5}, "TURNOVER", 500.0, 500.0 + EPS),
]


@pytest.mark.parametrize(("limits", "code", "ok", "too_much"), QUANTITY_BOUNDARIES)
def test_quantity_limit_passes_at_the_limit_and_blocks_above(
    kit, clock, limits, code, ok, too_much
):
    policy = kit.policy(limits=limits, actions={code: "BLOCK"}, models=FINE_LOTS)
    _assert_allowed(_decide(kit.engine(policy), kit.request(ok)))
    _assert_denied(_decide(kit.engine(policy), kit.request(too_much)), ReasonCode[code])


def test_bar_participation_boundary(kit, clock):
    policy = kit.policy(
        limits={"max_bar_participation": 0.25},
        actions={"BAR_PARTICIPATION": "BLOCK"},
        models=FINE_LOTS,
    )
    for quantity, allowed in ((500.0, True), (500.0 + EPS, False)):
        engine = RiskAgentV2(policy, clock=clock)
        engine.update(kit.bar(volume=2_000.0))
        decision = engine.evaluate_and_enforce(kit.request(quantity))
        if allowed:
            _assert_allowed(decision)
        else:
            _assert_denied(decision, ReasonCode.BAR_PARTICIPATION)


def test_adv_participation_boundary_counts_the_session_so_far(kit, clock):
    policy = kit.policy(
        limits={"max_adv_participation": 0.1},
        actions={"ADV_PARTICIPATION": "BLOCK"},
        models=FINE_LOTS,
        symbols={kit.SYMBOL: {"adv_shares": 5_000.0}},
    )
    engine = kit.engine(policy)
    first = kit.request(300.0, client_order_id="a")
    _assert_allowed(engine.evaluate_and_enforce(first))
    kit.fill(engine, first, 300.0)
    clock.advance(2)
    _assert_denied(engine.assess(kit.request(200.0 + EPS)), ReasonCode.ADV_PARTICIPATION)
    _assert_allowed(engine.assess(kit.request(200.0)))


def test_price_collar_boundary(kit, clock):
    policy = kit.policy(limits={"price_collar_bps": 2_500.0})  # 25%: exact in binary
    _assert_allowed(_decide(kit.engine(policy), kit.request(10.0, 125.0)))
    _assert_allowed(_decide(kit.engine(policy), kit.request(-10.0, 75.0)))
    _assert_denied(
        _decide(kit.engine(policy), kit.request(10.0, 125.0001)), ReasonCode.PRICE_COLLAR
    )
    limit_order = kit.request(10.0, 100.0, order_type="limit", limit_price=74.99)
    _assert_denied(_decide(kit.engine(policy), limit_order), ReasonCode.PRICE_COLLAR)


def test_concentration_boundary_across_symbols(kit, clock):
    policy = kit.policy(
        limits={"max_concentration": 0.5, "concentration_min_gross": 0.0},
        actions={"CONCENTRATION": "BLOCK"},
        models=FINE_LOTS,
        symbols={kit.SYMBOL: {}, "ABC": {}},
    )
    for quantity, allowed in ((500.0, True), (500.0 + EPS, False)):
        engine = kit.engine(policy)
        engine.update(kit.bar(symbol="ABC"))
        engine.update(Fill(clock.now_ns, "ABC", 500.0, 100.0))
        decision = engine.evaluate_and_enforce(kit.request(quantity))
        if allowed:
            _assert_allowed(decision)
        else:
            _assert_denied(decision, ReasonCode.CONCENTRATION)


@pytest.mark.parametrize(("code", "key"), [("VAR_LIMIT", "max_var"), ("CVAR_LIMIT", "max_cvar")])
def test_var_and_cvar_boundaries(kit, clock, code, key):
    engine = kit.engine(kit.policy())
    limits = engine._limits
    multiplier = limits.var_multiplier if code == "VAR_LIMIT" else limits.cvar_multiplier
    sigma = engine._books[kit.SYMBOL].sigma
    at_limit = multiplier * 500.0 * 100.0 * sigma / 100_000.0 * (1.0 + 1e-12)
    if key == "max_var":
        overrides = {key: at_limit, "max_cvar": 1.0}
    else:  # VaR stays just below its own limit
        var_limit = at_limit * limits.var_multiplier / limits.cvar_multiplier * (1 + 1e-6)
        overrides = {"max_var": var_limit, key: at_limit}
    policy = kit.policy(limits=overrides, actions={code: "BLOCK"}, models=FINE_LOTS)
    _assert_allowed(_decide(kit.engine(policy), kit.request(500.0)))
    _assert_denied(_decide(kit.engine(policy), kit.request(500.0 * (1 + 1e-9))), ReasonCode[code])


def test_order_rate_boundary_and_window(kit, clock):
    engine = kit.engine(kit.policy(limits={"order_rate": {"max_count": 3, "per_s": 1.0}}))
    for index in range(3):
        _assert_allowed(engine.evaluate_and_enforce(kit.request(10.0 + index)))
    _assert_denied(engine.evaluate_and_enforce(kit.request(20.0)), ReasonCode.ORDER_RATE)
    clock.advance(1.0)  # the first order leaves the window (t - 1 s, t]
    _assert_allowed(engine.evaluate_and_enforce(kit.request(21.0)))


def test_repeated_execution_trips_a_halt_that_needs_a_human(kit, clock):
    policy = kit.policy(limits={"repeated_execution": {"max_count": 3, "per_s": 60.0}})
    engine = kit.engine(policy)
    for index in range(3):
        clock.advance(2)
        _assert_allowed(engine.evaluate_and_enforce(kit.request(10.0 + index)))
        clock.advance(2)
        _assert_allowed(engine.evaluate_and_enforce(kit.request(-5.0 - index)))  # sells: own count
    clock.advance(2)
    decision = engine.evaluate_and_enforce(kit.request(13.0))
    assert ReasonCode.REPEATED_EXECUTION in decision.reason_codes
    assert decision.action == RiskAction.HALT
    assert engine.trading_state is TradingState.HALTED
    clock.advance(3600)  # the window passing does not re-enable trading
    _assert_denied(engine.evaluate_and_enforce(kit.request(1.0)), ReasonCode.TRADING_HALTED)
    engine.rearm("risk-officer", "checked the strategy")
    engine.update(kit.bar())
    _assert_allowed(engine.evaluate_and_enforce(kit.request(1.0)))


def test_duplicate_order_by_content_and_window_boundary(kit, clock):
    engine = kit.engine(kit.policy(limits={"duplicate_window_s": 1.0}))
    _assert_allowed(engine.evaluate_and_enforce(kit.request(10.0)))
    clock.now_ns += 999_999_999
    _assert_denied(engine.evaluate_and_enforce(kit.request(10.0)), ReasonCode.DUPLICATE_ORDER)
    clock.now_ns += 1
    _assert_allowed(engine.evaluate_and_enforce(kit.request(10.0)))


def test_duplicate_client_order_id_is_refused_forever_in_the_session(kit, clock, engine):
    _assert_allowed(engine.evaluate_and_enforce(kit.request(10.0, client_order_id="X1")))
    clock.advance(60)
    engine.update(kit.bar())
    _assert_denied(
        engine.evaluate_and_enforce(kit.request(11.0, client_order_id="X1")),
        ReasonCode.DUPLICATE_ORDER,
    )


def test_restricted_symbol_is_refused(kit, clock):
    policy = kit.policy(symbols={kit.SYMBOL: {}, "BAD": {}}, restricted_symbols=["BAD"])
    engine = kit.engine(policy)
    engine.update(kit.bar(symbol="BAD"))
    _assert_denied(
        engine.evaluate_and_enforce(kit.request(10.0, symbol="BAD")), ReasonCode.RESTRICTED_SYMBOL
    )
    _assert_allowed(engine.evaluate_and_enforce(kit.request(10.0)))


def test_stale_data_boundary(kit, clock, engine):
    clock.advance(180.0)
    _assert_allowed(engine.assess(kit.request(10.0)))
    clock.now_ns += 1
    _assert_denied(engine.assess(kit.request(10.0)), ReasonCode.STALE_DATA)


def _engine_after_move(kit, policy, price: float) -> RiskAgentV2:
    engine = kit.engine(policy)
    engine.update(Fill(kit.clock.now_ns, kit.SYMBOL, 1_000.0, 100.0))
    kit.clock.advance(60)
    engine.update(kit.bar(price))
    return engine


@pytest.mark.parametrize(
    ("code", "limits", "at_limit", "beyond"),
    [
        ("DAILY_LOSS", {"max_daily_loss": 0.03}, 97.0, 96.999),
        ("DRAWDOWN", {"max_drawdown": 0.2}, 80.0, 79.999),
        ("INTRADAY_DRAWDOWN", {"max_intraday_drawdown": 0.0625}, 93.75, 93.749),
    ],
)
def test_account_state_limits_stop_risk_increasing_orders(
    kit, clock, code, limits, at_limit, beyond
):
    generous = {
        "max_daily_loss": 0.5,
        "max_drawdown": 0.5,
        "max_intraday_drawdown": 0.5,
        "price_collar_bps": 5000.0,
        "max_var": None,
        "max_cvar": None,
        "max_volatility": None,
    }
    policy = kit.policy(limits={**generous, **limits}, actions={code: "BLOCK"})
    _assert_allowed(_engine_after_move(kit, policy, at_limit).assess(kit.request(10.0, at_limit)))
    engine = _engine_after_move(kit, policy, beyond)
    _assert_denied(engine.assess(kit.request(10.0, beyond)), ReasonCode[code])
    _assert_allowed(engine.assess(kit.request(-10.0, beyond)))  # reducing still passes


def test_volatility_limit_boundary(kit, clock):
    for factor, allowed in ((1.0 + 1e-9, True), (1.0 - 1e-9, False)):
        policy = kit.policy(
            limits={"max_volatility": 0.25 * factor}, actions={"VOLATILITY": "BLOCK"}
        )
        decision = kit.engine(policy).assess(kit.request(10.0))
        assert (decision.action == RiskAction.ALLOW) is allowed
        if not allowed:
            assert ReasonCode.VOLATILITY in decision.reason_codes


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"quantity": math.nan}, ReasonCode.INVALID_QUANTITY),
        ({"quantity": math.inf}, ReasonCode.INVALID_QUANTITY),
        ({"quantity": 0.0}, ReasonCode.INVALID_QUANTITY),
        ({"quantity": 1e13}, ReasonCode.INVALID_QUANTITY),
        ({"quantity": "10"}, ReasonCode.INVALID_QUANTITY),
        ({"quantity": True}, ReasonCode.INVALID_QUANTITY),
        ({"reference_price": math.nan}, ReasonCode.INVALID_PRICE),
        ({"reference_price": -100.0}, ReasonCode.INVALID_PRICE),
        ({"reference_price": 0.0}, ReasonCode.INVALID_PRICE),
        ({"reference_price": math.inf}, ReasonCode.INVALID_PRICE),
        ({"order_type": "limit", "limit_price": -1.0}, ReasonCode.INVALID_PRICE),
        ({"order_type": "limit"}, ReasonCode.INVALID_REQUEST),
        ({"order_type": "stop"}, ReasonCode.INVALID_REQUEST),
        ({"ts_ns": -1}, ReasonCode.INVALID_REQUEST),
        ({"ts_ns": 1.5}, ReasonCode.INVALID_REQUEST),
        ({"client_order_id": 7}, ReasonCode.INVALID_REQUEST),
        ({"symbol": ["SYN"]}, ReasonCode.INVALID_REQUEST),
        ({"symbol": "NOPE"}, ReasonCode.UNKNOWN_SYMBOL),
    ],
)
def test_malformed_requests_are_blocked_with_their_code(kit, engine, fields, code):
    base = {"ts_ns": kit.START_NS, "symbol": kit.SYMBOL, "quantity": 10.0, "reference_price": 100.0}
    request = TradeRequest(**{**base, **fields})
    decision = engine.evaluate_and_enforce(request)
    _assert_denied(decision, code)
    assert decision.action == RiskAction.BLOCK


def test_not_a_request_is_blocked(kit, engine):
    _assert_denied(engine.evaluate_and_enforce(None), ReasonCode.INVALID_REQUEST)  # type: ignore[arg-type]


def test_listed_symbol_without_a_price_is_blocked(kit, clock):
    engine = RiskAgentV2(kit.policy(), clock=clock)
    _assert_denied(engine.evaluate_and_enforce(kit.request(10.0)), ReasonCode.NO_REFERENCE_PRICE)


def test_bad_bar_is_refused_and_blocks_until_good_data(kit, clock, engine):
    clock.advance(60)
    engine.update(kit.bar(price=math.nan))
    _assert_denied(engine.evaluate_and_enforce(kit.request(10.0)), ReasonCode.BAD_MARKET_DATA)
    assert engine.metrics["risk/penalty"] == 1.0
    engine.update(kit.bar(price=101.0))
    _assert_allowed(engine.evaluate_and_enforce(kit.request(10.0, 101.0)))


def test_unlisted_symbols_trade_when_the_policy_allows(kit, clock):
    engine = RiskAgentV2(kit.policy(allow_unlisted_symbols=True), clock=clock)
    engine.update(kit.bar(symbol="AAPL"))
    _assert_allowed(engine.evaluate_and_enforce(kit.request(10.0, symbol="AAPL")))
