"""Decisions carry their metrics lazily: captured at decision time, derived on first read."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intraday_rl.risk import Fill, RiskAction, RiskAgentV2
from intraday_rl.risk.events import _finite
from intraday_rl.risk.metrics import risk_metrics

_STATE_LEVEL = {"ACTIVE": 0.0, "REDUCING": 1.0, "HALTED": 2.0}


def _eager_metrics(engine: RiskAgentV2) -> dict[str, float]:
    # The metrics computed the eager way, straight from the books.
    metrics = risk_metrics(
        engine._account,
        list(engine._books.values()),
        engine._limits,
        engine.policy.penalty,
        engine._faulted,
    )
    metrics["risk/trading_state"] = _STATE_LEVEL[engine.trading_state.value]
    metrics["risk/kill_switch"] = float(engine.kill_switch_engaged)
    return metrics


def _engine_with_a_position(kit) -> RiskAgentV2:
    engine = kit.engine()
    request = kit.request(300.0, client_order_id="A")
    assert engine.evaluate_and_enforce(request).action == RiskAction.ALLOW
    kit.fill(engine, request, 200.0)  # 100 shares still working
    kit.clock.advance(60)
    engine.update(kit.bar(101.0))
    return engine


def test_a_denial_carries_the_same_metrics_as_an_eager_snapshot(kit):
    engine = _engine_with_a_position(kit)
    expected = _eager_metrics(engine)
    decision = engine.evaluate_and_enforce(kit.request(1e6))
    assert decision.action >= RiskAction.BLOCK
    assert dict(decision.metrics) == expected
    assert list(decision.metrics) == list(expected)  # same keys, same order
    assert len(decision.metrics) == len(expected)
    assert decision.metrics == expected
    assert dict(engine.metrics) == expected


def test_decision_metrics_are_those_of_decision_time_however_late_they_are_read(kit):
    engine = _engine_with_a_position(kit)
    expected = _eager_metrics(engine)
    decision = engine.evaluate_and_enforce(kit.request(1e6))  # metrics not read yet
    kit.clock.advance(60)
    engine.update(kit.bar(90.0))
    engine.update(Fill(kit.clock.now_ns, "SYN", 100.0, 90.0, 1.0, "A"))
    engine.engage_kill_switch("test", "ops")
    assert dict(engine.metrics) != expected
    assert dict(decision.metrics) == expected
    assert decision.metrics["risk/kill_switch"] == 0.0


def test_a_reduce_decision_carries_the_metrics_before_its_own_order(kit):
    engine = kit.engine(kit.policy(limits={"max_position": 100.0}))
    expected = _eager_metrics(engine)
    decision = engine.evaluate_and_enforce(kit.request(150.0))
    assert decision.action == RiskAction.REDUCE
    assert dict(decision.metrics) == expected
    assert engine.metrics["risk/gross_exposure_worst"] == pytest.approx(100.0 * 100.0)


@given(
    st.lists(
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(min_value=-(10**30), max_value=10**30),
            st.booleans(),
            st.none(),
            st.text(max_size=2),
        ),
        max_size=5,
    )
)
def test_the_finite_fast_path_agrees_with_the_plain_definition(values):
    plain = all(
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        for value in values
    )
    assert _finite(*values) == plain
