"""What only a human does to the risk engine: the kill switch, re-arming, changing limits.

Each action is logged at WARNING and written to the audit with the operator's name. Nothing here
runs on its own: a halt, a kill switch or a tripped repeated-execution throttle stays until
:meth:`OperatorControls.rearm`. ``RiskAgentV2``'s operator methods delegate here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from intraday_rl.risk.audit import AuditSink, flatten_changes, limit_change_record, operator_record
from intraday_rl.risk.book import SymbolBook
from intraday_rl.risk.codes import TradingState
from intraday_rl.risk.config import RiskPolicy
from intraday_rl.risk.limits import CompiledLimits
from intraday_rl.risk.state import EngineState

logger = logging.getLogger(__name__)


class OperatorControls:
    """Operator actions on an :class:`~.state.EngineState`, audited to ``audit``.

    Args:
        state: The engine's state (shared with the engine).
        clock: The engine's clock (audit times; ``time.time_ns`` when it fails).
        audit: Receives one record per action, or None.
    """

    def __init__(
        self, state: EngineState, clock: Callable[[], int], audit: AuditSink | None
    ) -> None:
        self.state = state
        self.clock = clock
        self.audit = audit

    def _operator_time(self) -> object:
        try:
            return self.clock()
        except Exception:
            return time.time_ns()

    def _audit_operator(self, event: str, operator: str, reason: str) -> None:
        logger.warning("risk operator %s: %s (%s)", operator, event, reason)
        if self.audit is not None:
            record = operator_record(
                self._operator_time(), self.state.limits.policy_hash, event, operator, reason
            )
            self.audit.write(record)

    def engage_kill_switch(self, reason: str, operator: str) -> None:
        """Halt all trading now: every order is refused (KILL_SWITCH) until :meth:`rearm`."""
        self.state.kill_switch = True
        self.state.trading_state = TradingState.HALTED
        self._audit_operator("kill_switch", operator, reason)
        self.state.refresh()

    def rearm(self, operator: str, reason: str = "") -> None:
        """Return to ACTIVE: clear the kill switch, a halt, reduce-only, liquidation, faults and
        refused fills (the operator vouches for cash and positions).

        Rules whose metrics are still breached fire again on the next order.
        """
        state = self.state
        state.kill_switch = False
        state.trading_state = TradingState.ACTIVE
        state.liquidation_required = False
        state.faulted = False
        state.bad_fills.clear()
        self._audit_operator("rearm", operator, reason)
        state.refresh()

    def set_trading_state(self, state: TradingState, operator: str, reason: str = "") -> None:
        """Put the engine in ``state`` by hand (REDUCING ahead of an event, for example)."""
        self.state.trading_state = state
        self._audit_operator(f"trading_state={state.value}", operator, reason)
        self.state.refresh()

    def set_policy(self, policy: RiskPolicy, operator: str) -> None:
        """Put ``policy`` in force now; positions, orders and history are kept.

        The change is audited key by key with the old and new policy hashes.
        """
        state = self.state
        old_policy, old_hash = state.policy, state.limits.policy_hash
        state.policy = policy
        state.limits = limits = CompiledLimits(policy)
        state.account.orders.window_ns = limits.order_rate_window_ns
        state.account.capital = float(policy.capital)
        for book in state.books.values():
            book.limits = limits.symbol_limits(book.symbol)
            book.restricted = book.symbol in limits.restricted_symbols
            book.listed = limits.is_tradable_universe(book.symbol)
            book.tradable = book.listed and not book.restricted
            book.buys.window_ns = book.sells.window_ns = limits.repeat_window_ns
            book.volatility.lam = limits.ewma_lambda
            book.volatility.initial_variance = limits.bar_return_prior_variance
            book.adv.resize(limits.adv_window_sessions)
            book.refresh(limits)
        for symbol in policy.symbols:
            if symbol not in state.books:
                state.books[symbol] = SymbolBook(symbol, limits)
                state.books[symbol].refresh(limits)
        changes = flatten_changes(
            old_policy.model_dump(mode="json"), policy.model_dump(mode="json")
        )
        logger.warning(
            "risk policy changed by %s: %s -> %s (%d keys)",
            operator,
            old_hash,
            limits.policy_hash,
            len(changes),
        )
        if self.audit is not None:
            record = limit_change_record(
                self._operator_time(), old_hash, limits.policy_hash, changes, operator
            )
            self.audit.write(record)
        state.refresh()
