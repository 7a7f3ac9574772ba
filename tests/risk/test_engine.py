"""Engine behaviour: states, working orders, sessions, REDUCE and LIQUIDATE, operator actions."""

import math

import pytest

from intraday_rl.risk import (
    Fill,
    OrderEvent,
    OrderEventKind,
    ReasonCode,
    RiskAction,
    RiskAgentV2,
    TradingState,
)
from intraday_rl.shared.types import TradeRequest


def test_allowed_order_becomes_working_and_a_fill_moves_it_to_the_position(kit, engine):
    request = kit.request(100.0, client_order_id="A")
    decision = engine.evaluate_and_enforce(request)
    assert decision.action == RiskAction.ALLOW
    assert decision.allowed_quantity == 100.0
    assert decision.approved
    assert engine.working_quantity("SYN") == (100.0, 0.0)
    engine.update(Fill(kit.clock.now_ns, "SYN", 60.0, 100.0, 1.0, "A"))
    assert engine.working_quantity("SYN") == (40.0, 0.0)
    assert engine.position("SYN") == 60.0
    engine.update(OrderEvent(kit.clock.now_ns, "SYN", OrderEventKind.CANCELLED, "A"))
    assert engine.working_quantity("SYN") == (0.0, 0.0)
    assert engine.metrics["risk/equity"] == pytest.approx(100_000.0 - 1.0)


def test_working_orders_without_ids_are_released_by_quantity(kit, engine):
    engine.evaluate_and_enforce(kit.request(-50.0))
    assert engine.working_quantity("SYN") == (0.0, 50.0)
    engine.update(OrderEvent(kit.clock.now_ns, "SYN", OrderEventKind.ACKNOWLEDGED))
    assert engine.working_quantity("SYN") == (0.0, 50.0)
    engine.update(OrderEvent(kit.clock.now_ns, "SYN", OrderEventKind.EXPIRED, quantity=-50.0))
    assert engine.working_quantity("SYN") == (0.0, 0.0)


def test_working_orders_count_toward_the_position_limit(kit):
    engine = kit.engine(
        kit.policy(limits={"max_position": 300.0}, actions={"MAX_POSITION": "BLOCK"})
    )
    assert engine.evaluate_and_enforce(kit.request(200.0)).approved
    kit.clock.advance(2)
    decision = engine.evaluate_and_enforce(kit.request(101.0))
    assert decision.reason_codes == (ReasonCode.MAX_POSITION,)
    assert "worst_position=301.0" in decision.evidence[0]


def test_reduce_cuts_the_order_to_whole_lots_that_fit(kit):
    engine = kit.engine(kit.policy(limits={"max_position": 250.5}, models={"lot_size": 10.0}))
    decision = engine.evaluate_and_enforce(kit.request(400.0))
    assert decision.action == RiskAction.REDUCE
    assert decision.allowed_quantity == 250.0
    assert decision.reason_codes == (ReasonCode.MAX_POSITION,)
    assert engine.working_quantity("SYN") == (250.0, 0.0)


def test_reduce_to_nothing_is_a_block(kit):
    engine = kit.engine(kit.policy(limits={"max_position": 5.0}, models={"lot_size": 10.0}))
    decision = engine.evaluate_and_enforce(kit.request(40.0))
    assert decision.action == RiskAction.BLOCK
    assert decision.allowed_quantity == 0.0


def test_most_severe_action_wins(kit):
    policy = kit.policy(actions={"MAX_ORDER_QUANTITY": "REDUCE", "PRICE_COLLAR": "WARN"})
    engine = kit.engine(policy)
    decision = engine.evaluate_and_enforce(kit.request(6_000.0, 101.0))
    assert decision.action == RiskAction.BLOCK  # MAX_ORDER_NOTIONAL
    assert decision.reason_codes[:2] == (
        ReasonCode.MAX_ORDER_QUANTITY,
        ReasonCode.MAX_ORDER_NOTIONAL,
    )
    assert len(decision.evidence) == len(decision.reason_codes)


def test_after_a_block_only_more_severe_rules_are_evaluated(kit):
    engine = kit.engine(kit.policy(actions={"MAX_POSITION": "HALT"}))
    decision = engine.evaluate_and_enforce(kit.request(6_000.0, 100.0))
    # MAX_ORDER_QUANTITY blocks; the BLOCK and REDUCE rules after it cannot change that and are
    # skipped (MAX_ORDER_NOTIONAL, MAX_GROSS_EXPOSURE...); the HALT rule still runs and wins.
    assert decision.reason_codes == (ReasonCode.MAX_ORDER_QUANTITY, ReasonCode.MAX_POSITION)
    assert decision.action == RiskAction.HALT
    assert engine.trading_state is TradingState.HALTED


def test_warn_lets_the_order_through_with_its_code(kit):
    policy = kit.policy(limits={"max_concentration": 0.5, "concentration_min_gross": 0.0})
    engine = kit.engine(policy)
    decision = engine.evaluate_and_enforce(kit.request(10.0))
    assert decision.action == RiskAction.WARN
    assert decision.allowed_quantity == 10.0
    assert decision.reason_codes == (ReasonCode.CONCENTRATION,)


def test_daily_loss_puts_the_engine_in_reducing_until_rearmed(kit):
    policy = kit.policy(limits={"max_var": None, "max_cvar": None, "max_volatility": None})
    engine = kit.engine(policy)
    engine.update(Fill(kit.clock.now_ns, "SYN", 1_000.0, 100.0))
    kit.clock.advance(60)
    engine.update(kit.bar(96.0))
    flip = engine.evaluate_and_enforce(kit.request(-1_500.0, 96.0))
    assert flip.action == RiskAction.REDUCE
    assert flip.allowed_quantity == -1_000.0  # the reducing part only
    assert ReasonCode.DAILY_LOSS in flip.reason_codes
    assert engine.trading_state is TradingState.REDUCING
    engine.update(Fill(kit.clock.now_ns, "SYN", -1_000.0, 96.0))
    kit.clock.advance(60)
    engine.update(kit.bar(100.0))  # the loss is gone, the latch stays
    decision = engine.evaluate_and_enforce(kit.request(10.0))
    assert decision.reason_codes == (ReasonCode.REDUCE_ONLY,)
    assert decision.action == RiskAction.BLOCK
    engine.rearm("risk-officer")
    assert engine.trading_state is TradingState.ACTIVE


def test_drawdown_halt_blocks_everything_even_reducing_orders(kit):
    policy = kit.policy(
        limits={
            "max_var": None,
            "max_cvar": None,
            "max_volatility": None,
            "max_daily_loss": 0.5,
            "max_intraday_drawdown": 0.5,
            "price_collar_bps": 5_000.0,
        }
    )
    engine = kit.engine(policy)
    engine.update(Fill(kit.clock.now_ns, "SYN", 1_000.0, 100.0))
    kit.clock.advance(60)
    engine.update(kit.bar(85.0))
    decision = engine.evaluate_and_enforce(kit.request(-100.0, 85.0))
    assert decision.action == RiskAction.HALT
    assert engine.trading_state is TradingState.HALTED
    assert (
        engine.evaluate_and_enforce(kit.request(-101.0, 85.0)).reason_codes[0]
        == ReasonCode.TRADING_HALTED
    )


def test_liquidate_requires_flattening_and_lets_reducing_orders_through(kit):
    policy = kit.policy(
        limits={"max_var": None, "max_cvar": None, "max_volatility": None},
        actions={"DAILY_LOSS": "LIQUIDATE"},
    )
    engine = kit.engine(policy)
    engine.update(Fill(kit.clock.now_ns, "SYN", 1_000.0, 100.0))
    kit.clock.advance(60)
    engine.update(kit.bar(96.0))
    buy = engine.evaluate_and_enforce(kit.request(10.0, 96.0))
    assert buy.action == RiskAction.LIQUIDATE
    assert buy.allowed_quantity == 0.0
    assert engine.liquidation_required
    assert engine.trading_state is TradingState.REDUCING
    kit.clock.advance(2)
    sell = engine.evaluate_and_enforce(kit.request(-1_000.0, 96.0))
    assert sell.action == RiskAction.LIQUIDATE
    assert sell.allowed_quantity == -1_000.0


def test_kill_switch_refuses_everything_until_rearmed(kit, engine):
    engine.engage_kill_switch("manual", operator="ops")
    assert engine.kill_switch_engaged
    decision = engine.evaluate_and_enforce(kit.request(-10.0))
    assert decision.reason_codes == (ReasonCode.KILL_SWITCH,)
    kit.clock.advance(3_600)
    engine.update(kit.bar())
    assert engine.evaluate_and_enforce(kit.request(-10.0)).reason_codes == (ReasonCode.KILL_SWITCH,)
    engine.rearm("ops")
    assert engine.evaluate_and_enforce(kit.request(-11.0)).action == RiskAction.ALLOW
    assert engine.metrics["risk/kill_switch"] == 0.0


def test_assess_changes_nothing(kit, engine):
    before = dict(engine.metrics)
    for _ in range(3):
        assert engine.assess(kit.request(10.0)).action == RiskAction.ALLOW
    assert engine.working_quantity("SYN") == (0.0, 0.0)
    assert engine.n_submitted == 0
    assert dict(engine.metrics) == before


def test_allow_decisions_are_reused_values_without_metrics(kit, engine):
    first = engine.assess(kit.request(10.0))
    second = engine.assess(kit.request(10.0))
    assert first is second
    assert first.metrics == {}
    assert (
        engine.evaluate_and_enforce(kit.request(float("inf"))).metrics["risk/equity"] == 100_000.0
    )


def test_new_session_resets_daily_loss_turnover_and_feeds_the_adv(kit):
    policy = kit.policy(limits={"max_var": None, "max_cvar": None, "max_volatility": None})
    engine = kit.engine(policy)
    engine.update(Fill(kit.clock.now_ns, "SYN", 500.0, 100.0))
    kit.clock.advance(60)
    engine.update(kit.bar(98.0, volume=20_000.0))
    assert engine.metrics["risk/daily_loss"] == pytest.approx(0.01)
    assert engine.metrics["risk/turnover"] == pytest.approx(0.5)
    kit.clock.advance(17 * 3_600)
    engine.update(kit.bar(98.0))
    assert engine.metrics["risk/daily_loss"] == 0.0
    assert engine.metrics["risk/turnover"] == 0.0
    assert engine._books["SYN"].adv_shares == pytest.approx(120_000.0)


def test_set_policy_applies_new_limits_to_open_books(kit, engine):
    assert engine.assess(kit.request(2_000.0)).action == RiskAction.ALLOW
    engine.set_policy(kit.policy(limits={"max_order_quantity": 1_000.0}), operator="alice")
    assert ReasonCode.MAX_ORDER_QUANTITY in engine.assess(kit.request(2_000.0)).reason_codes
    engine.set_policy(kit.policy(restricted_symbols=["SYN"]), operator="alice")
    assert ReasonCode.RESTRICTED_SYMBOL in engine.assess(kit.request(10.0)).reason_codes


def test_evaluate_with_a_snapshot_and_a_request(kit):
    from intraday_rl.shared.types import PortfolioState

    engine = RiskAgentV2(kit.policy(), clock=kit.clock)
    state = PortfolioState(
        kit.clock.now_ns,
        "SYN",
        100.0,
        50_000.0,
        500.0,
        100_000.0,
        100_000.0,
        100_000.0,
        0.0,
        0.0,
        0.0,
        1.0,
    )
    metrics = engine.evaluate(state, TradeRequest(kit.clock.now_ns, "SYN", 10.0, 100.0))
    assert metrics["risk/action"] == 0.0
    assert metrics["risk/allowed_fraction"] == 1.0
    assert metrics["risk/gross_exposure"] == 50_000.0
    assert math.isclose(metrics["risk/leverage"], 0.5)


def test_update_rejects_what_is_not_an_event(engine):
    engine.update("a bar")  # type: ignore[arg-type]
    assert engine.metrics["risk/fault"] == 1.0


def test_limit_orders_are_valued_at_their_limit_price(kit):
    engine = kit.engine(
        kit.policy(limits={"max_order_notional": 10_000.0}, actions={"MAX_ORDER_NOTIONAL": "BLOCK"})
    )
    ok = kit.request(100.0, 100.0, order_type="limit", limit_price=99.99)
    assert engine.assess(ok).action == RiskAction.ALLOW
    too_much = kit.request(100.0, 100.0, order_type="limit", limit_price=100.01)
    assert engine.assess(too_much).reason_codes == (ReasonCode.MAX_ORDER_NOTIONAL,)


def test_a_late_bar_does_not_move_the_reference_price(kit, engine):
    kit.clock.advance(60)
    engine.update(kit.bar(101.0))
    late = kit.bar(90.0)
    engine.update(type(late)(late.ts_ns - 30_000_000_000, "SYN", 90.0, 90.0, 90.0, 90.0, 1.0))
    assert engine.position("SYN") == 0.0
    assert ReasonCode.PRICE_COLLAR in engine.assess(kit.request(10.0, 90.0)).reason_codes
    assert engine.assess(kit.request(10.0, 101.0)).action == RiskAction.ALLOW


def test_jumping_back_in_time_starts_a_session_without_current_data(kit, engine):
    kit.clock.now_ns -= 2 * 86_400 * 1_000_000_000
    engine.update(kit.bar(50.0, symbol="SYN"))
    assert engine.assess(kit.request(10.0, 50.0)).action == RiskAction.ALLOW
    assert engine.metrics["risk/volatility"] == pytest.approx(0.25)  # no return across the jump
