"""What only a human does to the risk engine: the kill switch, re-arming, changing limits.

Each action is logged at WARNING and written to the audit with the operator's name. Nothing here
runs on its own: a halt, a kill switch or a tripped repeated-execution throttle stays until
:meth:`OperatorControls.rearm`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from intraday_rl.risk.audit import AuditSink, flatten_changes, limit_change_record, operator_record
from intraday_rl.risk.book import AccountBook, SymbolBook
from intraday_rl.risk.codes import TradingState
from intraday_rl.risk.config import RiskPolicy
from intraday_rl.risk.limits import CompiledLimits

logger = logging.getLogger(__name__)


class OperatorControls:
    """Operator actions of :class:`~intraday_rl.risk.engine.RiskAgentV2` (a mixin)."""

    _policy: RiskPolicy
    _limits: CompiledLimits
    _clock: Callable[[], int]
    _audit: AuditSink | None
    _trading_state: TradingState
    _kill_switch: bool
    _liquidation_required: bool
    _faulted: bool
    _bad_fills: dict[str, str]
    _account: AccountBook
    _books: dict[str, SymbolBook]

    def _refresh_account(self) -> None:
        raise NotImplementedError

    @property
    def kill_switch_engaged(self) -> bool:
        """True from :meth:`engage_kill_switch` until :meth:`rearm`."""
        return self._kill_switch

    def _operator_time(self) -> object:
        try:
            return self._clock()
        except Exception:
            return time.time_ns()

    def _audit_operator(self, event: str, operator: str, reason: str) -> None:
        logger.warning("risk operator %s: %s (%s)", operator, event, reason)
        if self._audit is not None:
            record = operator_record(
                self._operator_time(), self._limits.policy_hash, event, operator, reason
            )
            self._audit.write(record)

    def engage_kill_switch(self, reason: str, operator: str) -> None:
        """Halt all trading now: every order is refused (KILL_SWITCH) until :meth:`rearm`."""
        self._kill_switch = True
        self._trading_state = TradingState.HALTED
        self._audit_operator("kill_switch", operator, reason)
        self._refresh_account()

    def rearm(self, operator: str, reason: str = "") -> None:
        """Return to ACTIVE: clear the kill switch, a halt, reduce-only, liquidation, faults and
        refused fills (the operator vouches for cash and positions).

        Rules whose metrics are still breached fire again on the next order.
        """
        self._kill_switch = False
        self._trading_state = TradingState.ACTIVE
        self._liquidation_required = False
        self._faulted = False
        self._bad_fills.clear()
        self._audit_operator("rearm", operator, reason)
        self._refresh_account()

    def set_trading_state(self, state: TradingState, operator: str, reason: str = "") -> None:
        """Put the engine in ``state`` by hand (REDUCING ahead of an event, for example)."""
        self._trading_state = state
        self._audit_operator(f"trading_state={state.value}", operator, reason)
        self._refresh_account()

    def set_policy(self, policy: RiskPolicy, operator: str) -> None:
        """Put ``policy`` in force now; positions, orders and history are kept.

        The change is audited key by key with the old and new policy hashes.
        """
        old_policy, old_hash = self._policy, self._limits.policy_hash
        self._policy = policy
        self._limits = CompiledLimits(policy)
        limits = self._limits
        self._account.orders.window_ns = limits.order_rate_window_ns
        self._account.capital = float(policy.capital)
        for book in self._books.values():
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
            if symbol not in self._books:
                self._books[symbol] = SymbolBook(symbol, limits)
                self._books[symbol].refresh(limits)
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
        if self._audit is not None:
            record = limit_change_record(
                self._operator_time(), old_hash, limits.policy_hash, changes, operator
            )
            self._audit.write(record)
        self._refresh_account()
