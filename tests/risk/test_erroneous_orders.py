"""Red-team findings of issue 10: rules that contradicted docs/risk.md, each pinned down.

LIQUIDATE approving risk, CONCENTRATION firing at its "never fires" limit, unchecked request
timestamps, dust orders and odd lots (SEC 15c3-5 "erroneous orders").
"""

import random

import pytest

from intraday_rl.risk import Fill, ReasonCode, RiskAction, TradingState
from intraday_rl.shared.constants import NS_PER_SECOND
from intraday_rl.shared.types import PortfolioState


def _snapshot(kit, position: float, cash: float = 100_000.0) -> PortfolioState:
    equity = cash + position * 100.0
    return PortfolioState(
        kit.clock.now_ns, "SYN", 100.0, cash, position, equity, 100_000.0, equity, 0, 0, 0, 1
    )


# ---------------------------------------------------------------------------------- LIQUIDATE
def test_liquidate_from_flat_approves_nothing(kit):
    policy = kit.policy(limits={"max_position": 800.0}, actions={"MAX_POSITION": "LIQUIDATE"})
    engine = kit.engine(policy)
    decision = engine.evaluate_and_enforce(kit.request(1_000.0))
    assert decision.action == RiskAction.LIQUIDATE
    assert decision.allowed_quantity == 0.0  # was 800: a clipped order that adds risk
    assert decision.reason_codes == (ReasonCode.MAX_POSITION,)
    assert engine.liquidation_required
    assert engine.working_quantity("SYN") == (0.0, 0.0)


def test_liquidate_lets_only_the_risk_reducing_part_go(kit):
    policy = kit.policy(limits={"max_position": 300.0}, actions={"MAX_POSITION": "LIQUIDATE"})
    engine = kit.engine(policy)
    engine.update(Fill(kit.clock.now_ns, "SYN", -500.0, 100.0))
    decision = engine.evaluate_and_enforce(kit.request(1_200.0))  # would end 700 long
    assert decision.action == RiskAction.LIQUIDATE
    assert decision.allowed_quantity == 500.0  # back to flat, never flipped


@pytest.mark.parametrize(
    ("code", "limits", "quantity"),
    [
        ("MAX_ORDER_QUANTITY", {"max_order_quantity": 100.0}, 150.0),
        ("MAX_ORDER_NOTIONAL", {"max_order_notional": 10_000.0}, 150.0),
        ("MAX_GROSS_EXPOSURE", {"max_gross_exposure": 10_000.0}, 150.0),
        ("MAX_NET_EXPOSURE", {"max_net_exposure": 10_000.0}, -150.0),
        ("MAX_LEVERAGE", {"max_leverage": 0.1}, 150.0),
        ("TURNOVER", {"max_daily_turnover": 0.1}, 150.0),
    ],
)
def test_a_clippable_rule_at_liquidate_does_not_clip_a_risk_increasing_order(
    kit, code, limits, quantity
):
    engine = kit.engine(kit.policy(limits=limits, actions={code: "LIQUIDATE"}))
    decision = engine.assess(kit.request(quantity))
    assert decision.action == RiskAction.LIQUIDATE
    assert decision.allowed_quantity == 0.0


# ------------------------------------------------------------------------------ CONCENTRATION
def test_the_shipped_concentration_limit_never_fires_after_fills_at_odd_prices(kit):
    # Red team: with max_concentration 1.0, rounding in the running gross made one symbol's
    # share 1 + 1 ulp on ~5% of orders after a few fills. At REDUCE (not clippable: the
    # risk-reducing part, 0 here) that blocked them.
    engine = kit.engine(kit.policy(actions={"CONCENTRATION": "REDUCE"}))
    rng = random.Random(7)
    n_fired = 0
    for _ in range(300):
        kit.clock.advance(2)
        price = round(rng.uniform(90.0, 110.0), 2)
        engine.update(kit.bar(price))
        if abs(engine.position("SYN")) < 2_000.0:
            fill_price = round(price + rng.uniform(-0.5, 0.5), 2)
            engine.update(Fill(kit.clock.now_ns, "SYN", float(rng.randint(-700, 700)), fill_price))
        side = 1.0 if engine.position("SYN") >= 0.0 else -1.0  # raise the exposure
        decision = engine.assess(kit.request(side * rng.randint(1, 400), price))
        n_fired += ReasonCode.CONCENTRATION in decision.reason_codes
    assert n_fired == 0


def test_a_concentration_limit_below_one_still_fires(kit):
    policy = kit.policy(limits={"max_concentration": 0.9, "concentration_min_gross": 0.0})
    decision = kit.engine(policy).assess(kit.request(10.0))
    assert decision.reason_codes == (ReasonCode.CONCENTRATION,)


# ----------------------------------------------------------------------------- timestamps
@pytest.mark.parametrize(
    "offset_ns",
    [
        pytest.param(-3_600 * NS_PER_SECOND, id="an-hour-ago"),
        pytest.param(-5 * NS_PER_SECOND - 1, id="just-beyond-the-skew"),
        pytest.param(6 * NS_PER_SECOND, id="in-the-future"),
        pytest.param(None, id="at-0"),
        pytest.param(2**70, id="at-2**70"),
    ],
)
def test_a_request_stamped_outside_the_skew_is_invalid(kit, engine, offset_ns):
    ts_ns = 0 if offset_ns is None else kit.clock.now_ns + offset_ns
    decision = engine.evaluate_and_enforce(kit.request(10.0, ts_ns=ts_ns))
    assert decision.action == RiskAction.BLOCK
    assert decision.reason_codes == (ReasonCode.INVALID_REQUEST,)
    assert f"ts_ns={ts_ns} now_ns={kit.clock.now_ns}" in decision.evidence[0]


@pytest.mark.parametrize("offset_s", [-5, -1, 0, 5])
def test_a_request_stamped_within_the_skew_is_allowed(kit, engine, offset_s):
    request = kit.request(10.0, ts_ns=kit.clock.now_ns + offset_s * NS_PER_SECOND)
    assert engine.evaluate_and_enforce(request).action == RiskAction.ALLOW


def test_the_timestamp_check_can_be_switched_off(kit):
    engine = kit.engine(kit.policy(limits={"max_request_skew_s": None}))
    assert engine.evaluate_and_enforce(kit.request(10.0, ts_ns=0)).action == RiskAction.ALLOW


# ------------------------------------------------------------------------- dust and odd lots
@pytest.mark.parametrize("quantity", [1.8e-90, -1e-9, 0.5, 10.5, -999.999])
def test_dust_and_odd_lots_are_invalid_quantities(kit, engine, quantity):
    decision = engine.evaluate_and_enforce(kit.request(quantity))
    assert decision.action == RiskAction.BLOCK
    assert decision.allowed_quantity == 0.0
    assert decision.reason_codes == (ReasonCode.INVALID_QUANTITY,)
    assert "lot_size=1.0" in decision.evidence[0]


def test_a_whole_number_of_decimal_lots_is_allowed_despite_binary_rounding(kit):
    engine = kit.engine(kit.policy(models={"lot_size": 0.1}))
    decision = engine.evaluate_and_enforce(kit.request(0.3))  # 0.3 / 0.1 = 2.9999999999999996
    assert decision.action == RiskAction.ALLOW
    assert decision.allowed_quantity == 0.3


def test_an_order_beyond_the_sane_notional_is_invalid_with_the_limit_off(kit):
    engine = kit.engine(kit.policy(limits={"max_order_notional": None, "price_collar_bps": None}))
    request = kit.request(2e9, order_type="limit", limit_price=10_000.0)  # 2e13
    decision = engine.assess(request)
    assert decision.reason_codes == (ReasonCode.INVALID_QUANTITY,)
    assert "notional=2e+13" in decision.evidence[0]


def test_reduce_only_cuts_to_whole_lots_of_a_fractional_position(kit, engine):
    engine.update(_snapshot(kit, 10.5, cash=98_950.0))
    engine.set_trading_state(TradingState.REDUCING, "ops")
    decision = engine.evaluate_and_enforce(kit.request(-20.0))
    assert decision.action == RiskAction.REDUCE
    assert decision.allowed_quantity == -10.0  # not -10.5: approvals are whole lots


def test_liquidate_cuts_to_whole_lots(kit):
    policy = kit.policy(
        limits={"max_position": 5.0}, actions={"MAX_POSITION": "LIQUIDATE"}, models={"lot_size": 2}
    )
    engine = kit.engine(policy)
    engine.update(_snapshot(kit, -7.0, cash=100_700.0))
    decision = engine.evaluate_and_enforce(kit.request(20.0))
    assert decision.action == RiskAction.LIQUIDATE
    assert decision.allowed_quantity == 6.0  # the reducing part is 7: 3 whole lots of 2
