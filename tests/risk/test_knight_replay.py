"""The 2012 Knight Capital pattern: an order loop that keeps buying without regard to fills."""

import pytest

from intraday_rl.risk import Fill, ReasonCode, RiskAction, RiskAgentV2, TradingState
from intraday_rl.shared.types import TradeRequest


@pytest.mark.parametrize("fills_arrive", [True, False])
def test_runaway_buy_loop_is_halted_before_gross_exposure_passes_its_limit(kit, fills_arrive):
    engine = RiskAgentV2(kit.policy(), clock=kit.clock)
    engine.update(kit.bar())
    gross_limit = engine.policy.limits.max_gross_exposure
    halted_at = None
    for child in range(2_000):  # the loop never looks at what happened
        kit.clock.advance(0.2)
        if child % 300 == 0:
            engine.update(kit.bar())
        request = TradeRequest(kit.clock.now_ns, "SYN", 80.0, 100.0, client_order_id=f"k{child}")
        decision = engine.evaluate_and_enforce(request)
        if decision.allowed_quantity and fills_arrive:
            engine.update(
                Fill(
                    kit.clock.now_ns,
                    "SYN",
                    decision.allowed_quantity,
                    100.0,
                    0.0,
                    request.client_order_id,
                )
            )
        assert engine._account.gross_worst <= gross_limit
        if decision.action == RiskAction.HALT and halted_at is None:
            halted_at = child
            assert ReasonCode.REPEATED_EXECUTION in decision.reason_codes
        if halted_at is not None:
            assert decision.allowed_quantity == 0.0
    assert halted_at is not None
    assert engine.trading_state is TradingState.HALTED
    assert engine._account.gross_worst < gross_limit
    assert 0 < engine.n_approved <= engine.policy.limits.repeated_execution.max_count
    # Nothing but a human brings it back.
    kit.clock.advance(3_600)
    engine.update(kit.bar())
    halted = engine.assess(TradeRequest(kit.clock.now_ns, "SYN", 1.0, 100.0))
    assert halted.reason_codes == (ReasonCode.TRADING_HALTED,)


def test_runaway_loop_with_varying_sizes_never_passes_gross_or_position_limits(kit):
    engine = RiskAgentV2(
        kit.policy(limits={"repeated_execution": {"max_count": 10_000, "per_s": 60.0}}),
        clock=kit.clock,
    )
    engine.update(kit.bar())
    limits = engine.policy.limits
    for child in range(3_000):
        kit.clock.advance(0.06)
        if child % 1_000 == 0:
            engine.update(kit.bar())
        size = 40.0 + (child * 37) % 160
        request = TradeRequest(kit.clock.now_ns, "SYN", size, 100.0, client_order_id=f"v{child}")
        decision = engine.evaluate_and_enforce(request)
        if decision.allowed_quantity and child % 3:
            engine.update(
                Fill(
                    kit.clock.now_ns,
                    "SYN",
                    decision.allowed_quantity,
                    100.0,
                    0.0,
                    request.client_order_id,
                )
            )
        assert engine._account.gross_worst <= limits.max_gross_exposure
        assert engine._books["SYN"].worst_position <= limits.max_position
    assert engine.n_denied > engine.n_approved
