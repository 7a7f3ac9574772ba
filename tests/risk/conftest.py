"""Fixtures and hand-written stubs for the risk tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from intraday_rl.risk import (
    Bar,
    Fill,
    OrderEvent,
    OrderEventKind,
    RiskAgentV2,
    RiskPolicy,
    load_default_risk_policy,
)
from intraday_rl.shared.constants import NS_PER_SECOND
from intraday_rl.shared.types import TradeRequest

START_NS = 1_700_000_000 * NS_PER_SECOND
SYMBOL = "SYN"


class FixedClock:
    """A clock that returns ``now_ns`` until told otherwise."""

    def __init__(self, now_ns: int = START_NS) -> None:
        self.now_ns = now_ns

    def __call__(self) -> int:
        return self.now_ns

    def advance(self, seconds: float) -> None:
        self.now_ns += round(seconds * NS_PER_SECOND)


def make_policy(
    limits: dict | None = None,
    actions: dict | None = None,
    models: dict | None = None,
    **top: object,
) -> RiskPolicy:
    """The shipped policy with some keys replaced."""
    data = load_default_risk_policy().model_dump(mode="json")
    data["limits"].update(limits or {})
    data["actions"].update(actions or {})
    data["models"].update(models or {})
    data.update(top)
    return RiskPolicy.model_validate(data)


def make_bar(
    clock: FixedClock, price: float = 100.0, volume: float = 100_000.0, symbol: str = SYMBOL
) -> Bar:
    """A flat bar at the clock's time."""
    return Bar(clock.now_ns, symbol, price, price, price, price, volume)


def make_request(
    quantity: float, price: float = 100.0, symbol: str = SYMBOL, **fields: object
) -> TradeRequest:
    """A market order request stamped ``START_NS`` (fields override)."""
    ts_ns = fields.pop("ts_ns", START_NS)
    return TradeRequest(ts_ns, symbol, quantity, price, **fields)  # type: ignore[arg-type]


def fill_all(
    engine: RiskAgentV2, clock: FixedClock, request: TradeRequest, quantity: float
) -> None:
    """Fill ``quantity`` of ``request`` at its reference price."""
    engine.update(
        Fill(
            clock.now_ns,
            request.symbol,
            quantity,
            request.reference_price,
            0.0,
            request.client_order_id,
        )
    )


class Kit:
    """The helpers above, handed to tests as the ``kit`` fixture (tests cannot import conftest)."""

    START_NS = START_NS
    SYMBOL = SYMBOL
    FixedClock = FixedClock

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock

    @staticmethod
    def policy(
        limits: dict | None = None,
        actions: dict | None = None,
        models: dict | None = None,
        **top: object,
    ) -> RiskPolicy:
        return make_policy(limits, actions, models, **top)

    def bar(self, price: float = 100.0, volume: float = 100_000.0, symbol: str = SYMBOL) -> Bar:
        return make_bar(self.clock, price, volume, symbol)

    def request(
        self, quantity: float, price: float = 100.0, symbol: str = SYMBOL, **fields: object
    ) -> TradeRequest:
        """A market order request stamped with the clock's time now (fields override)."""
        fields.setdefault("ts_ns", self.clock.now_ns)
        return make_request(quantity, price, symbol, **fields)

    def engine(self, policy: RiskPolicy | None = None, price: float = 100.0) -> RiskAgentV2:
        return engine_with(self.clock, policy if policy is not None else make_policy(), price)

    def fill(
        self, engine: RiskAgentV2, request: TradeRequest, quantity: float | None = None
    ) -> None:
        fill_all(engine, self.clock, request, request.quantity if quantity is None else quantity)

    @staticmethod
    def property_policy() -> RiskPolicy:
        return property_policy()

    def run(
        self, engine: RiskAgentV2, operations: list[tuple], on_decision=None, clock=None
    ) -> list:
        return run_operations(engine, clock or self.clock, operations, on_decision)


@pytest.fixture
def kit(clock: FixedClock) -> Kit:
    return Kit(clock)


@pytest.fixture(scope="session")
def batch() -> ModuleType:
    """The numpy batch twins of the calculators (``batch_twins.py``, next to this file)."""
    path = Path(__file__).with_name("batch_twins.py")
    spec = importlib.util.spec_from_file_location("risk_batch_twins", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def engine(clock: FixedClock) -> RiskAgentV2:
    """The shipped policy, one bar of SYN at 100 with a large volume."""
    agent = RiskAgentV2(clock=clock)
    agent.update(make_bar(clock))
    return agent


def engine_with(clock: FixedClock, policy: RiskPolicy, price: float = 100.0) -> RiskAgentV2:
    """An engine with ``policy`` and one bar of SYN at ``price``."""
    agent = RiskAgentV2(policy, clock=clock)
    agent.update(make_bar(clock, price))
    return agent


# Operations for property tests: ("bar", symbol, price) | ("order", symbol, quantity, offset_bps)
# | ("fill", index) | ("cancel", index) | ("wait", seconds)
SYMBOLS = ("SYN", "ABC")


def property_policy() -> RiskPolicy:
    """Limits tight enough that random order flows hit them often."""
    return make_policy(
        limits={
            "max_order_quantity": 700.0,
            "max_order_notional": 60_000.0,
            "max_position": 800.0,
            "max_gross_exposure": 150_000.0,
            "max_net_exposure": 100_000.0,
            "max_leverage": 1.5,
            "price_collar_bps": 300.0,
            "order_rate": {"max_count": 1_000, "per_s": 1.0},
            "repeated_execution": {"max_count": 1_000, "per_s": 1.0},
            "max_data_age_s": 1e9,
        },
        symbols={symbol: {} for symbol in SYMBOLS},
    )


def run_operations(
    engine: RiskAgentV2, clock: FixedClock, operations: list[tuple], on_decision=None
) -> list:
    """Apply ``operations``; return the decisions of every order (enforced)."""
    working: list[TradeRequest] = []
    decisions = []
    prices = dict.fromkeys(SYMBOLS, 100.0)
    for number, operation in enumerate(operations):
        kind = operation[0]
        if kind == "bar":
            _, symbol, price = operation
            prices[symbol] = price
            engine.update(Bar(clock.now_ns, symbol, price, price, price, price, 1e6))
        elif kind == "order":
            _, symbol, quantity, offset_bps = operation
            price = prices[symbol] * (1.0 + offset_bps * 1e-4)
            request = TradeRequest(
                clock.now_ns, symbol, quantity, price, client_order_id=f"p{number}"
            )
            decision = engine.evaluate_and_enforce(request)
            decisions.append(decision)
            if on_decision is not None:
                on_decision(engine, request, decision)
            if decision.allowed_quantity != 0.0:
                working.append(replace_quantity(request, decision.allowed_quantity))
        elif kind in ("fill", "cancel") and working:
            request = working.pop(operation[1] % len(working))
            if kind == "fill":
                engine.update(
                    Fill(
                        clock.now_ns,
                        request.symbol,
                        request.quantity,
                        prices[request.symbol],
                        0.0,
                        request.client_order_id,
                    )
                )
            else:
                engine.update(
                    OrderEvent(
                        clock.now_ns,
                        request.symbol,
                        OrderEventKind.CANCELLED,
                        request.client_order_id,
                    )
                )
        elif kind == "wait":
            clock.advance(operation[1])
    return decisions


def replace_quantity(request: TradeRequest, quantity: float) -> TradeRequest:
    from dataclasses import replace

    return replace(request, quantity=quantity)
