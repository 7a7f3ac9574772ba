"""ExecutionAgent: one bundle trading one symbol, bar by bar, exactly as the env would.

Per bar (after the broker has filled what was due at its open)::

    last bar?      cancel working orders, close the position at the close (market-on-close)
    mark           the broker's account at the close -> PortfolioState
    features       ObservationStream.update(bar)              (a bad bar never reaches the policy)
    decide         every ``decision_every`` bars: observation -> predict -> ActionMap -> exposure
    order          target_shares / places_order (market.rules) -> TradeRequest
                   -> RiskAgentV2.evaluate_and_enforce -> only the allowed quantity goes out

The rules come from the bundle's metadata alone (action kind and levels, ``ActingRules``); the
cost model and the fill delay are the broker's. A predict error, a NaN observation or any
exception in a bar's processing means no order for that bar, recorded with a reason; a bundle
that fails verification is refused at start and its symbol holds flat.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from intraday_rl.bundle.loading import load_policy
from intraday_rl.bundle.runtime import BundlePolicy
from intraday_rl.execution.broker import Broker
from intraday_rl.execution.feed import FeedBar, SessionStart
from intraday_rl.execution.orders import Order, OrderStatus
from intraday_rl.features.config import FeatureSpec
from intraday_rl.features.observation_stream import ObservationStream
from intraday_rl.features.portfolio import session_time_left
from intraday_rl.market.rules import ActionMap, places_order, target_shares
from intraday_rl.risk.engine import RiskAgentV2
from intraday_rl.shared.errors import (
    BundleError,
    ExecutionError,
    FeatureError,
    PredictionInputError,
)
from intraday_rl.shared.types import (
    OrderEvent,
    OrderEventKind,
    PortfolioState,
    RiskAction,
    TradeRequest,
)

logger = logging.getLogger(__name__)


class ExecutionReason(StrEnum):
    """Why the engine did (or did not do) something on a bar, besides the risk engine's codes."""

    POLICY = "POLICY"
    SESSION_CLOSE = "SESSION_CLOSE"
    HALTED = "HALTED"
    KILL_SWITCH = "KILL_SWITCH"
    LIQUIDATE = "LIQUIDATE"
    BUNDLE_REFUSED = "BUNDLE_REFUSED"
    BAD_MARKET_DATA = "BAD_MARKET_DATA"
    NAN_OBSERVATION = "NAN_OBSERVATION"
    PREDICT_ERROR = "PREDICT_ERROR"
    BAR_ERROR = "BAR_ERROR"
    BROKER_REJECTED = "BROKER_REJECTED"


@dataclass(slots=True)
class BarRecord:
    """What one agent did on one bar (one row of the backtest's per-bar table)."""

    session_id: str
    symbol: str
    bar: int
    ts_ns: int
    close: float
    action: Any = None
    target_exposure: float = math.nan
    target_shares: float = math.nan
    requested: float = 0.0
    risk_action: str = ""
    reason_codes: tuple[str, ...] = ()
    allowed: float = 0.0
    client_order_id: str = ""
    position: float = 0.0
    cash: float = 0.0
    equity: float = 0.0
    costs_paid: float = 0.0
    notes: list[str] = field(default_factory=list)


class ExecutionAgent:
    """Trades one symbol with one bundle, under the risk engine, through a broker.

    Args:
        policy: A verified bundle policy, or None for a refused bundle (the symbol holds flat).
        symbol: The symbol traded.
        run_id: Prefix of every ``client_order_id`` (``{run_id}-{symbol}-{session}-{bar}``).
        refused_reason: Why the bundle was refused (when ``policy`` is None).
        capital: A refused agent's capital (a verified one takes ``rules.initial_capital``).

    Raises:
        ExecutionError: an empty symbol or run id.
    """

    def __init__(
        self,
        policy: BundlePolicy | None,
        symbol: str,
        *,
        run_id: str = "run",
        refused_reason: str = "",
        capital: float = 100_000.0,
    ) -> None:
        if not symbol:
            raise ExecutionError("ExecutionAgent: symbol: expected a non-empty string, was ''")
        if not run_id:
            raise ExecutionError("ExecutionAgent: run_id: expected a non-empty string, was ''")
        if policy is not None and policy.metadata.rules is None:
            refused_reason = "metadata.json has no acting rules (re-export the bundle)"
            policy = None
        self.policy = policy
        self.symbol = symbol
        self.run_id = run_id
        self.refused_reason = refused_reason
        self.capital, self.lot_size = capital, 1.0
        self._stream: ObservationStream | None = None
        if policy is not None:
            meta = policy.metadata
            rules = meta.rules
            assert rules is not None  # refused above
            self.capital, self.lot_size = rules.initial_capital, rules.lot_size
            self.decision_every = rules.decision_every
            self.deadband = rules.min_trade_fraction
            self.action_map = ActionMap(
                meta.action.kind, meta.action.position_levels or (), rules.max_exposure
            )
            layout = meta.observation.layout
            spec = FeatureSpec.model_validate(meta.feature_spec)
            self._stream = ObservationStream(spec, layout["window"], layout["pnl_scale"])
        self._broker: Broker | None = None
        self._risk: RiskAgentV2 | None = None
        self.session_id = ""
        self._last = 1
        self._exposure: float | None = None
        self._intended = 0.0
        self.last_bar: FeedBar | None = None

    @classmethod
    def from_bundle(
        cls, path: str | Path, symbol: str, *, run_id: str = "run", capital: float = 100_000.0
    ) -> ExecutionAgent:
        """Load and verify the bundle at ``path``; a bundle that fails is refused, not raised."""
        try:
            policy = load_policy(path)
        except BundleError as error:
            logger.error("bundle %s refused for %s: %s", path, symbol, error)
            return cls(None, symbol, run_id=run_id, refused_reason=str(error), capital=capital)
        return cls(policy, symbol, run_id=run_id)

    @property
    def refused(self) -> bool:
        """True when the bundle was refused at start (the symbol holds flat)."""
        return self.policy is None

    def attach(self, broker: Broker, risk: RiskAgentV2) -> None:
        """Give the agent the broker it sends orders to and the risk engine that gates them."""
        self._broker, self._risk = broker, risk

    def _engine(self) -> tuple[Broker, RiskAgentV2]:
        if self._broker is None or self._risk is None:
            raise ExecutionError(f"ExecutionAgent {self.symbol}: call attach(broker, risk) first")
        return self._broker, self._risk

    # -- the session ------------------------------------------------------------------------
    def start_session(self, start: SessionStart) -> None:
        """Reset the features and the decision state for a new session."""
        if start.n_bars < 2:
            raise ExecutionError(
                f"session {start.session_id} {self.symbol}: n_bars: expected at least 2 "
                f"(one decision, one fill), was {start.n_bars}"
            )
        self.session_id = start.session_id
        self._last = start.n_bars - 1
        self._exposure = None
        self._intended = 0.0
        if self._stream is not None:
            self._stream.reset(start.open_ns, start.close_ns, start.bar_ns)

    def on_bar(self, bar: FeedBar) -> BarRecord:
        """Process the bar that just closed (its open's fills are booked): see the module doc."""
        _, risk = self._engine()
        record = BarRecord(self.session_id, self.symbol, bar.index, bar.close_ns, bar.close)
        if bar.is_finite:
            self.last_bar = bar
        halted = _halt_reason(risk)
        if bar.is_last:
            self.flatten(bar, ExecutionReason.SESSION_CLOSE)
        elif halted is not None:
            record.notes.append(halted)
        try:
            self._trade(bar, record, trading=halted is None)
        except _NoOrderError:
            pass
        except Exception as error:  # fail closed: no order on this bar, the loop goes on
            logger.exception("bar %s %s %d failed", self.session_id, self.symbol, bar.index)
            record.notes.append(f"{ExecutionReason.BAR_ERROR} {type(error).__name__}: {error}")
        self.book(bar, record)
        return record

    def _trade(self, bar: FeedBar, record: BarRecord, *, trading: bool) -> None:
        stream = self._stream
        if stream is None:
            record.notes.append(ExecutionReason.BUNDLE_REFUSED)
            return
        if not bar.is_finite:
            record.notes.append(ExecutionReason.BAD_MARKET_DATA)
            return
        stream.update(bar.ts_ns, bar.open, bar.high, bar.low, bar.close, bar.volume)
        if bar.is_last or not trading:
            return
        state = self._state(bar)
        if bar.index % self.decision_every == 0:
            self._decide(stream, record, state)
        exposure = self._exposure
        if exposure is None:
            return
        target = target_shares(exposure, state.equity, bar.close, self.lot_size)
        record.target_exposure, record.target_shares = exposure, target
        if places_order(target, self._intended, bar.close, state.equity, self.deadband):
            self._request(bar, record, target)

    def _decide(self, stream: ObservationStream, record: BarRecord, state: PortfolioState) -> None:
        # Predict on the decision clock; any failure keeps the previous target and sends nothing.
        assert self.policy is not None
        try:
            observation = stream.observation(state)
            action, _ = self.policy.predict(observation)
            self._exposure = self.action_map.target_exposure(action)
        except (FeatureError, PredictionInputError) as error:  # a NaN / inf observation
            record.notes.append(f"{ExecutionReason.NAN_OBSERVATION} {error}")
            raise _NoOrderError from error
        except Exception as error:
            record.notes.append(f"{ExecutionReason.PREDICT_ERROR} {type(error).__name__}: {error}")
            raise _NoOrderError from error
        record.action = action.tolist() if hasattr(action, "tolist") else action

    def _request(self, bar: FeedBar, record: BarRecord, target: float) -> None:
        broker, risk = self._engine()
        quantity = target - self._intended
        order_id = f"{self.run_id}-{self.symbol}-{self.session_id}-{bar.index}"
        request = TradeRequest(
            bar.close_ns, self.symbol, quantity, bar.close, client_order_id=order_id
        )
        decision = risk.evaluate_and_enforce(request)
        record.requested, record.client_order_id = quantity, order_id
        record.risk_action = RiskAction(decision.action).name
        record.reason_codes = tuple(decision.reason_codes)
        allowed = decision.allowed_quantity
        record.allowed = allowed
        if allowed == 0.0:
            return
        order = broker.submit(Order(order_id, self.symbol, allowed, bar.close_ns))
        if order.status is OrderStatus.REJECTED:
            record.notes.append(f"{ExecutionReason.BROKER_REJECTED} {order.reject_reason}")
            risk.update(OrderEvent(bar.close_ns, self.symbol, OrderEventKind.REJECTED, order_id))
            return
        self._intended = target if allowed == quantity else self._intended + allowed

    def flatten(self, bar: FeedBar, reason: str) -> None:
        """Cancel the symbol's working orders and close its position at ``bar``'s close.

        Closing trades only reduce risk: they go to the broker directly (market-on-close), as the
        env closes at the session's end; the orchestrator books their fills with the risk engine.
        """
        broker, risk = self._engine()
        for order in broker.open_orders(self.symbol):
            broker.cancel(order.client_order_id)
            risk.update(
                OrderEvent(
                    bar.close_ns, self.symbol, OrderEventKind.CANCELLED, order.client_order_id
                )
            )
        self._intended = 0.0
        self._exposure = None if reason != ExecutionReason.SESSION_CLOSE else self._exposure
        position = broker.portfolio_state(self.symbol, bar.close_ns, bar.close, 0.0).position
        if position == 0.0 or not math.isfinite(bar.close):
            return
        order_id = f"{self.run_id}-{self.symbol}-{self.session_id}-{bar.index}-{reason.lower()}"
        broker.submit(
            Order(order_id, self.symbol, -position, bar.close_ns, timing="close", reason=reason)
        )

    def _state(self, bar: FeedBar) -> PortfolioState:
        broker, _ = self._engine()
        return broker.portfolio_state(
            self.symbol, bar.close_ns, bar.close, session_time_left(bar.index, self._last)
        )

    def book(self, bar: FeedBar, record: BarRecord) -> None:
        """Write the account at ``bar``'s close into ``record``."""
        if not math.isfinite(bar.close):
            return
        state = self._state(bar)
        record.position, record.cash = state.position, state.cash
        record.equity, record.costs_paid = state.equity, state.costs_paid


class _NoOrderError(Exception):
    # Raised inside a bar to stop it: the reason is already on the record.
    pass


def _halt_reason(risk: RiskAgentV2) -> str | None:
    # The engine state that stops new risk, as an execution reason (None when trading).
    if risk.kill_switch_engaged:
        return ExecutionReason.KILL_SWITCH
    if risk.liquidation_required:
        return ExecutionReason.LIQUIDATE
    if risk.trading_state.name == "HALTED":
        return ExecutionReason.HALTED
    return None
