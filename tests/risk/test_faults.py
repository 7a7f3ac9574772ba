"""Fault injection: calculators, the price source and the clock that raise or return None."""

import math
from collections import deque

import pytest

from intraday_rl.risk import Fill, ReasonCode, RiskAction, RiskAgentV2
from intraday_rl.risk import explain as explain_module
from intraday_rl.shared.types import PortfolioState


class RaisingCalculator:
    """Every attribute access raises, like a calculator with a bug."""

    def __getattr__(self, name: str):
        raise RuntimeError(f"injected fault: {name}")


class NoneCalculator:
    """Every attribute is None and every method returns None."""

    def __getattr__(self, name: str):
        if name in ("update", "add", "record", "evict", "push", "reset", "count", "clear"):
            return lambda *args, **kwargs: None
        return None


# (where, attribute): the engine's calculators.
CALCULATORS = [
    ("account", "peak"),
    ("account", "intraday"),
    ("account", "turnover"),
    ("account", "orders"),
    ("book", "volatility"),
    ("book", "adv"),
    ("book", "buys"),
    ("book", "sells"),
]


def _assert_denied_with_a_code(decision) -> None:
    assert decision.allowed_quantity == 0.0, decision
    assert decision.action >= RiskAction.BLOCK
    assert decision.reason_codes


def _inject(engine: RiskAgentV2, where: str, attribute: str, stub) -> None:
    target = engine._account if where == "account" else engine._books["SYN"]
    setattr(target, attribute, stub)


@pytest.mark.parametrize("stub_type", [RaisingCalculator, NoneCalculator])
@pytest.mark.parametrize(("where", "attribute"), CALCULATORS)
def test_a_broken_calculator_denies_after_the_next_update(kit, engine, where, attribute, stub_type):
    _inject(engine, where, attribute, stub_type())
    kit.clock.advance(60)
    engine.update(kit.bar())
    kit.clock.advance(1)
    for quantity in (10.0, -10.0):
        _assert_denied_with_a_code(engine.evaluate_and_enforce(kit.request(quantity)))
        _assert_denied_with_a_code(engine.assess(kit.request(quantity)))


@pytest.mark.parametrize("stub_type", [RaisingCalculator, NoneCalculator])
@pytest.mark.parametrize("attribute", ["orders", "turnover", "buys"])
def test_a_calculator_read_at_decision_time_denies_at_once(kit, engine, attribute, stub_type):
    _inject(engine, "book" if attribute == "buys" else "account", attribute, stub_type())
    decision = engine.evaluate_and_enforce(kit.request(10.0))
    _assert_denied_with_a_code(decision)
    assert ReasonCode.CALCULATOR_FAULT in decision.reason_codes


def test_a_raising_check_is_a_calculator_fault_block(kit, engine, monkeypatch):
    def broken_check(request, state, limits):
        raise ZeroDivisionError("injected")

    monkeypatch.setattr(explain_module, "CONTROL_CHECKS", ((ReasonCode.TURNOVER, broken_check),))
    decision = engine.evaluate_and_enforce(kit.request(9_000.0))  # the full path runs the checks
    assert decision.reason_codes == (ReasonCode.CALCULATOR_FAULT,)
    assert "ZeroDivisionError" in decision.evidence[0]
    assert decision.action == RiskAction.BLOCK


def _engine_with_source(kit, source) -> RiskAgentV2:
    engine = RiskAgentV2(kit.policy(), clock=kit.clock, price_source=source)
    engine.update(kit.bar())
    return engine


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(lambda symbol: None, id="returns-None"),
        pytest.param(lambda symbol: 1 / 0, id="raises"),
        pytest.param(lambda symbol: float("nan"), id="returns-NaN"),
        pytest.param(lambda symbol: -1.0, id="returns-negative"),
        pytest.param(lambda symbol: "100", id="returns-a-string"),
    ],
)
def test_a_broken_price_source_blocks(kit, source):
    engine = _engine_with_source(kit, source)
    decision = engine.evaluate_and_enforce(kit.request(10.0))
    _assert_denied_with_a_code(decision)
    assert ReasonCode.PRICE_SOURCE_FAULT in decision.reason_codes


def test_a_working_price_source_is_used_for_the_collar(kit):
    engine = _engine_with_source(kit, lambda symbol: 200.0)
    assert ReasonCode.PRICE_COLLAR in engine.assess(kit.request(10.0, 100.0)).reason_codes
    assert engine.assess(kit.request(10.0, 200.0)).action == RiskAction.ALLOW


class BrokenClock:
    def __init__(self, result) -> None:
        self.result = result

    def __call__(self):
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


@pytest.mark.parametrize("result", [None, RuntimeError("clock down"), -5, 1.5e18, "now"])
def test_a_broken_clock_blocks(kit, result):
    clock = BrokenClock(kit.clock.now_ns)
    engine = RiskAgentV2(kit.policy(), clock=clock)
    engine.update(kit.bar())
    clock.result = result
    decision = engine.evaluate_and_enforce(kit.request(10.0))
    _assert_denied_with_a_code(decision)
    assert ReasonCode.CLOCK_FAULT in decision.reason_codes


def test_a_bad_fill_blocks_every_order_until_rearmed(kit, engine):
    engine.update(Fill(kit.clock.now_ns, "SYN", float("nan"), 100.0))
    decision = engine.evaluate_and_enforce(kit.request(10.0))
    assert decision.reason_codes == (ReasonCode.BAD_FILL,)
    assert decision.action == RiskAction.BLOCK
    assert engine.metrics["risk/fault"] == 1.0
    engine.rearm("ops", "bad fill corrected")
    assert engine.evaluate_and_enforce(kit.request(10.0)).action == RiskAction.ALLOW


ABSURD_FILLS = [
    pytest.param({"quantity": 1e200}, id="quantity-1e200"),
    pytest.param({"quantity": -1.0000001e12}, id="quantity-beyond-1e12"),
    pytest.param({"quantity": math.inf}, id="quantity-inf"),
    pytest.param({"quantity": 0.0}, id="quantity-0"),
    pytest.param({"price": 0.0}, id="price-0"),
    pytest.param({"price": -100.0}, id="price-negative"),
    pytest.param({"price": math.nan}, id="price-nan"),
    pytest.param({"price": 2e12}, id="price-beyond-1e12"),
    pytest.param({"quantity": 1e9, "price": 1e5}, id="notional-beyond-1e13"),
    pytest.param({"cost": -1.0}, id="cost-negative"),
    pytest.param({"cost": 1e14}, id="cost-beyond-1e13"),
    pytest.param({"ts_ns": -1}, id="ts-negative"),
]


@pytest.mark.parametrize("fields", ABSURD_FILLS)
def test_an_absurd_fill_is_refused_and_blocks_until_a_snapshot_resyncs(kit, engine, fields):
    values = {"ts_ns": kit.clock.now_ns, "symbol": "SYN", "quantity": 10.0, "price": 100.0}
    values.update(fields)
    equity = engine.metrics["risk/equity"]
    engine.update(Fill(**values))
    assert engine.position("SYN") == 0.0
    assert engine.metrics["risk/equity"] == equity  # nothing of it was booked
    decision = engine.evaluate_and_enforce(kit.request(10.0))
    assert decision.reason_codes == (ReasonCode.BAD_FILL,)
    assert decision.action == RiskAction.BLOCK
    assert "symbol='SYN'" in decision.evidence[0]
    engine.update(_snapshot(kit.clock.now_ns, cash=90_000.0, position=100.0))
    assert engine.evaluate_and_enforce(kit.request(10.0)).action == RiskAction.ALLOW


def _snapshot(ts_ns: int, cash: float, position: float, price: float = 100.0) -> PortfolioState:
    equity = cash + position * price
    return PortfolioState(
        ts_ns, "SYN", price, cash, position, equity, 100_000.0, equity, 0.0, 0.0, 0.0, 1.0
    )


def test_a_snapshot_resynchronizes_equity_after_a_huge_fill(kit, engine):
    # Red team: a fill of 1e200 shares left the running equity $48k off, even after a
    # corrective snapshot. Now the fill is refused; a huge but sane fill still rounds the
    # running sums, and the next snapshot re-sums them exactly.
    engine.update(Fill(kit.clock.now_ns, "SYN", 1e200, 100.0))
    engine.update(Fill(kit.clock.now_ns, "SYN", 9.9e10, 100.0))  # 9.9e12 notional
    kit.clock.advance(1)
    engine.update(kit.bar(99.63))  # marks 9.9e10 shares: the running sums round
    engine.update(Fill(kit.clock.now_ns, "SYN", -9.9e10 + 7.0, 100.0))
    kit.clock.advance(1)
    engine.update(_snapshot(kit.clock.now_ns, cash=99_123.25, position=7.0, price=100.1))
    assert engine.metrics["risk/equity"] == 99_123.25 + 7.0 * 100.1
    assert engine._account.gross == 7.0 * 100.1
    # Orders flow again (the session's huge turnover still counts against its limit).
    assert engine.assess(kit.request(10.0, 100.1)).reason_codes == (ReasonCode.TURNOVER,)


def test_a_snapshot_of_another_symbol_does_not_clear_a_bad_fill(kit):
    engine = kit.engine(kit.policy(symbols={"SYN": {}, "ABC": {}}))
    engine.update(kit.bar(symbol="ABC"))
    engine.update(Fill(kit.clock.now_ns, "ABC", math.nan, 100.0))
    engine.update(_snapshot(kit.clock.now_ns, cash=100_000.0, position=0.0))  # SYN
    assert ReasonCode.BAD_FILL in engine.assess(kit.request(10.0)).reason_codes


class _RaisingTimes(deque):
    """A throttle window whose append fails: recording an approved order raises."""

    def append(self, value):
        raise RuntimeError("injected")


def test_an_exception_while_recording_an_approval_blocks_and_faults(kit, engine):
    # Booking an approval (events.record_approval, one call on the allow path) fails at once:
    # fail the first thing every approval records, the account's order-rate window.
    engine._account.orders.times_ns = _RaisingTimes()
    decision = engine.evaluate_and_enforce(kit.request(10.0))
    assert decision.reason_codes == (ReasonCode.CALCULATOR_FAULT,)
    assert (
        ReasonCode.CALCULATOR_FAULT in engine.evaluate_and_enforce(kit.request(11.0)).reason_codes
    )


def _raise(*args, **kwargs):
    raise RuntimeError("injected")
