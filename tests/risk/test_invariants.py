"""Hypothesis invariants of issue 10, 10,000 examples each.

- LIQUIDATE, and REDUCE in the REDUCING state, never increase |position| nor flip its sign
  (working orders counted as filled);
- an approved quantity never exceeds the request, never changes its side, and is whole lots;
- a smaller same-side order is never denied when a larger one is allowed (but a duplicate);
- the engine's equity equals a recomputation from its fills, snapshots and marks.

Kept fast for ``make test``: one engine per policy is reused (``reset`` + ``rearm``), the risk
loggers are quiet, and each step is drawn as one integer (:func:`_step` and :func:`_event` decode
it), so Hypothesis makes a few draws per example rather than dozens.
"""

import logging
import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intraday_rl.risk import (
    Bar,
    Fill,
    ReasonCode,
    RiskAction,
    RiskAgentV2,
    RiskPolicy,
    TradingState,
)
from intraday_rl.risk.config import load_default_risk_policy
from intraday_rl.risk.limits import is_whole_lots
from intraday_rl.shared.types import PortfolioState, TradeRequest

SETTINGS = settings(max_examples=10_000, deadline=None)
START_NS = 1_700_000_000_000_000_000
SECOND = 1_000_000_000
SYMBOLS = ("SYN", "ABC")
PRICES = (95.0, 99.5, 100.0, 100.25, 104.0)
MAX_SIZE = 1_500
CLIPPABLE = (
    "MAX_ORDER_QUANTITY",
    "MAX_ORDER_NOTIONAL",
    "BAR_PARTICIPATION",
    "TURNOVER",
    "MAX_POSITION",
    "MAX_GROSS_EXPOSURE",
    "MAX_NET_EXPOSURE",
    "MAX_LEVERAGE",
    "VAR_LIMIT",
)


class Clock:
    def __init__(self) -> None:
        self.now_ns = START_NS

    def __call__(self) -> int:
        return self.now_ns


def _policy(actions: dict[str, str], max_concentration: float = 0.8) -> RiskPolicy:
    # Tight limits, so that random flows hit them; a lot of 1 share.
    data = load_default_risk_policy().model_dump(mode="json")
    data["limits"].update(
        max_order_quantity=700.0,
        max_order_notional=60_000.0,
        max_position=800.0,
        max_gross_exposure=150_000.0,
        max_net_exposure=100_000.0,
        max_leverage=1.5,
        max_concentration=max_concentration,
        concentration_min_gross=20_000.0,
        max_daily_turnover=5.0,
        max_bar_participation=0.1,
        order_rate={"max_count": 1_000, "per_s": 1.0},
        repeated_execution={"max_count": 1_000, "per_s": 1.0},
    )
    data["actions"].update(actions)
    data["symbols"] = {symbol: {} for symbol in SYMBOLS}
    return RiskPolicy.model_validate(data)


POLICIES = (
    _policy({}),
    _policy(dict.fromkeys(CLIPPABLE, "LIQUIDATE")),
    # The shipped concentration limit, 1.0 (never fires), at REDUCE: a spurious fire blocks.
    _policy({"MAX_POSITION": "LIQUIDATE", "CONCENTRATION": "REDUCE"}, max_concentration=1.0),
    _policy(dict.fromkeys(CLIPPABLE, "BLOCK")),
)
_ENGINES: dict[int, tuple[RiskAgentV2, Clock]] = {}


@pytest.fixture(autouse=True, scope="module")
def _quiet_risk_logs():
    # Denials log at WARNING; thousands of them per property only cost time here.
    risk_logger = logging.getLogger("intraday_rl.risk")
    level = risk_logger.level
    risk_logger.setLevel(logging.ERROR)
    yield
    risk_logger.setLevel(level)


def _engine(policy_index: int) -> tuple[RiskAgentV2, Clock]:
    # A fresh engine state: positions, orders, history, states and faults all cleared.
    if policy_index not in _ENGINES:
        clock = Clock()
        _ENGINES[policy_index] = (RiskAgentV2(POLICIES[policy_index], clock=clock), clock)
    engine, clock = _ENGINES[policy_index]
    clock.now_ns = START_NS
    engine.reset()
    engine.rearm("test")
    for symbol in SYMBOLS:
        engine.update(Bar(clock.now_ns, symbol, 100.0, 100.0, 100.0, 100.0, 8_000.0))
    return engine, clock


def _step(code: int) -> tuple[str, str, float]:
    # One integer -> (kind, symbol, signed whole quantity in [-MAX_SIZE, MAX_SIZE], never 0).
    kind = ("fill", "order", "bar")[code % 3]
    quantity = float(code // 6 % (2 * MAX_SIZE + 1) - MAX_SIZE) or 1.0
    return kind, SYMBOLS[code // 3 % 2], quantity


steps = st.lists(st.integers(min_value=0, max_value=6 * (2 * MAX_SIZE + 1) - 1), max_size=5)
sizes = st.integers(min_value=1, max_value=MAX_SIZE)


N_SETUPS = len(POLICIES) * 2 * 2 * len(PRICES)
setups = st.integers(min_value=0, max_value=N_SETUPS - 1)


def _setup(code: int) -> tuple[int, bool, float, float]:
    # One integer -> (policy index, REDUCING by hand?, the order's side, the last bar's price).
    code, price_index = divmod(code, len(PRICES))
    code, buy = divmod(code, 2)
    policy_index, reducing = divmod(code, 2)
    return policy_index, bool(reducing), 1.0 if buy else -1.0, PRICES[price_index]


def _play(engine: RiskAgentV2, clock: Clock, codes: list[int]) -> None:
    # Fills (positions), orders left working when approved, and price moves.
    for index, code in enumerate(codes):
        kind, symbol, quantity = _step(code)
        clock.now_ns += 2 * SECOND
        if kind == "fill":
            engine.update(Fill(clock.now_ns, symbol, quantity, 100.0))
        elif kind == "order":
            request = TradeRequest(
                clock.now_ns, symbol, quantity, 100.0, client_order_id=f"h{index}"
            )
            _check_approval(request, engine.evaluate_and_enforce(request).allowed_quantity)
        else:
            price = 100.0 + quantity / 300.0
            engine.update(Bar(clock.now_ns, symbol, price, price, price, price, 8_000.0))


def _check_approval(request: TradeRequest, allowed: float) -> None:
    if allowed == 0.0:
        return
    assert abs(allowed) <= abs(request.quantity), (request, allowed)
    assert math.copysign(1.0, allowed) == math.copysign(1.0, request.quantity)
    assert is_whole_lots(abs(allowed), 1.0), allowed


@SETTINGS
@given(setups, steps, sizes)
def test_liquidate_and_reducing_never_increase_the_position(setup, codes, size):
    policy_index, reducing, side, price = _setup(setup)
    engine, clock = _engine(policy_index)
    _play(engine, clock, codes)
    if reducing:
        engine.set_trading_state(TradingState.REDUCING, "test")
    was_reducing = engine.trading_state is TradingState.REDUCING
    position = engine.position("SYN")
    buys, sells = engine.working_quantity("SYN")
    clock.now_ns += 2 * SECOND
    engine.update(Bar(clock.now_ns, "SYN", price, price, price, price, 8_000.0))
    request = TradeRequest(clock.now_ns, "SYN", side * size, price)
    decision = engine.evaluate_and_enforce(request)
    allowed = decision.allowed_quantity
    _check_approval(request, allowed)
    if allowed == 0.0 or not (was_reducing or decision.action == RiskAction.LIQUIDATE):
        return
    if allowed > 0.0:  # every working buy filled, then this one: still short, or flat
        assert position + buys < 0.0, decision
        assert position + buys + allowed <= 0.0, decision
    else:
        assert position - sells > 0.0, decision
        assert position - sells + allowed >= 0.0, decision


@SETTINGS
@given(
    st.integers(0, len(POLICIES) - 1),
    steps,
    st.lists(st.floats(min_value=-900.0, max_value=900.0).filter(bool), max_size=2),
)
def test_an_approval_never_exceeds_the_request_nor_changes_its_side(policy_index, codes, odd_sizes):
    engine, clock = _engine(policy_index)
    _play(engine, clock, codes)  # checks every order it sends
    for index, quantity in enumerate(odd_sizes):  # odd lots and dust are refused, not cut
        clock.now_ns += SECOND
        request = TradeRequest(clock.now_ns, "ABC", quantity, 100.0, client_order_id=f"x{index}")
        decision = engine.evaluate_and_enforce(request)
        _check_approval(request, decision.allowed_quantity)
        if not is_whole_lots(abs(quantity), 1.0):
            assert decision.reason_codes == (ReasonCode.INVALID_QUANTITY,)


@SETTINGS
@given(setups, steps, sizes, sizes)
def test_a_smaller_order_is_allowed_when_a_larger_one_is(setup, codes, first, second):
    policy_index, reducing, side, price = _setup(setup)
    engine, clock = _engine(policy_index)
    _play(engine, clock, codes)
    if reducing:
        engine.set_trading_state(TradingState.REDUCING, "test")
    clock.now_ns += 2 * SECOND
    small, large = sorted((float(first), float(second)))
    smaller = engine.assess(TradeRequest(clock.now_ns, "SYN", side * small, price))
    larger = engine.assess(TradeRequest(clock.now_ns, "SYN", side * large, price))
    if larger.allowed_quantity != 0.0 and ReasonCode.DUPLICATE_ORDER not in smaller.reason_codes:
        assert smaller.allowed_quantity != 0.0, (smaller, larger)
        assert abs(smaller.allowed_quantity) >= min(small, abs(larger.allowed_quantity))


# ---------------------------------------------------------------------------- equity model
# Fill quantities and prices, sane (whole, fractional, huge but within the ranges) and absurd.
FILL_QUANTITIES = (1.0, -37.0, 250.0, -0.37, 12.5, 9.9e10, -9.9e10, 1e200, -2e12, math.nan)
FILL_PRICES = (*PRICES, 0.0, -5.0, 2e12, math.inf)
N_EVENTS = 3 * len(SYMBOLS) * len(FILL_QUANTITIES) * len(FILL_PRICES)
events = st.lists(st.integers(min_value=0, max_value=N_EVENTS - 1), min_size=1, max_size=8)


def _event(code: int) -> tuple[int, str, int, int]:
    # One integer -> (kind: 0 fill, 1 bar, 2 snapshot; symbol; quantity index; price index).
    code, price_index = divmod(code, len(FILL_PRICES))
    code, quantity_index = divmod(code, len(FILL_QUANTITIES))
    kind, symbol_index = divmod(code, len(SYMBOLS))
    return kind, SYMBOLS[symbol_index], quantity_index, price_index


class Model:
    """Exact cash, positions and marks, recomputed from the events the engine accepted."""

    def __init__(self) -> None:
        self.cash = Fraction(100_000)
        self.position = dict.fromkeys(SYMBOLS, Fraction(0))
        self.mark = dict.fromkeys(SYMBOLS, Fraction(100))
        self.bad_fills: set[str] = set()
        self.scale = Fraction(100_000)  # the largest magnitude the engine's floats carried
        # A snapshot re-syncs cash and its own symbol only: the rounding of another symbol's
        # position (a huge fill and its reversal) survives it, at that symbol's largest size.
        self.held = dict.fromkeys(SYMBOLS, Fraction(0))

    @property
    def equity(self) -> Fraction:
        return self.cash + sum(self.position[s] * self.mark[s] for s in SYMBOLS)

    def magnitude(self) -> Fraction:
        return abs(self.cash) + sum(abs(self.position[s] * self.mark[s]) for s in SYMBOLS)

    def fill(self, symbol: str, quantity: float, price: float) -> None:
        sane = math.isfinite(quantity) and math.isfinite(price) and 0.0 < price <= 1e12
        if not (sane and abs(quantity) <= 1e12 and abs(quantity) * price <= 1e13):
            self.bad_fills.add(symbol)
            return
        notional = Fraction(quantity) * Fraction(price)
        self.cash -= notional
        self.position[symbol] += Fraction(quantity)
        self.scale = max(self.scale, self.magnitude(), abs(notional))
        largest = max(abs(notional), abs(self.position[symbol] * self.mark[symbol]))
        self.held[symbol] = max(self.held[symbol], largest)

    def snapshot(self, symbol: str, cash: float, position: float, price: float) -> None:
        self.cash, self.position[symbol] = Fraction(cash), Fraction(position)
        self.mark[symbol] = Fraction(price)
        self.bad_fills.discard(symbol)
        self.held[symbol] = Fraction(0)
        self.scale = max(self.magnitude(), *self.held.values())


@SETTINGS
@given(events)
def test_equity_equals_a_recomputation_from_fills_snapshots_and_marks(steps):
    engine, clock = _engine(0)
    model = Model()
    for code in steps:
        kind, symbol, quantity_index, price_index = _event(code)
        clock.now_ns += SECOND
        if kind == 0:
            quantity, price = FILL_QUANTITIES[quantity_index], FILL_PRICES[price_index]
            engine.update(Fill(clock.now_ns, symbol, quantity, price))
            model.fill(symbol, quantity, price)
            continue
        price = PRICES[price_index % len(PRICES)]
        if kind == 1:
            engine.update(Bar(clock.now_ns, symbol, price, price, price, price, 8_000.0))
            model.mark[symbol] = Fraction(price)
        else:
            position = (quantity_index - 4) * 10.0
            cash = 100_000.0 - position * 99.0
            equity = cash + position * price
            engine.update(
                PortfolioState(
                    clock.now_ns, symbol, price, cash, position, equity, 1e5, equity, 0, 0, 0, 1
                )
            )
            model.snapshot(symbol, cash, position, price)
    # A snapshot re-syncs exactly what it states: the tolerance is relative to the largest
    # magnitude held since then (another symbol's huge fills included, see Model.held).
    error = abs(Fraction(engine.metrics["risk/equity"]) - model.equity)
    assert error <= model.scale * Fraction(1, 10**9), float(error)
    codes = engine.assess(TradeRequest(clock.now_ns, "SYN", 1.0, 100.0)).reason_codes
    assert (ReasonCode.BAD_FILL in codes) == bool(model.bad_fills), codes
