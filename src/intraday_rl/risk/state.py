"""What the risk engine knows, in one object that its collaborators share explicitly.

:class:`EngineState` holds the policy in force, the books, the working orders, the trading state
and the fault flags. ``RiskAgentV2`` owns one and hands it to its :class:`~.intake.EventIntake`
(market data, fills, order events) and its :class:`~.operator.OperatorControls` (kill switch,
re-arm, limit changes); each of them changes it only through its fields and :meth:`refresh`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

from intraday_rl.risk.account_state import account_state_clear
from intraday_rl.risk.book import RESUM_EVERY, AccountBook, SymbolBook
from intraday_rl.risk.codes import TradingState
from intraday_rl.risk.config import RiskPolicy
from intraday_rl.risk.events import WorkingOrders
from intraday_rl.risk.limits import CompiledLimits

logger = logging.getLogger(__name__)

_ACTIVE = TradingState.ACTIVE


class EngineState:
    """The engine's mutable state (see the module docstring).

    Attributes:
        policy: The policy in force; ``limits`` is it compiled.
        account: Cash, equity, peaks, session totals and account-wide exposure sums.
        books: One book per symbol seen (listed symbols from the start).
        working: ``client_order_id`` -> signed quantity still working.
        seen_order_ids: The session's client order ids (duplicate detection).
        trading_state: ACTIVE, REDUCING or HALTED; only an operator goes back to ACTIVE.
        kill_switch: Engaged by an operator until a re-arm.
        liquidation_required: Set by a LIQUIDATE decision until a re-arm.
        faulted: A calculator or an event failed; every order is refused until a re-arm.
        bad_fills: symbol -> evidence of a refused fill, until a snapshot of the symbol or a
            re-arm.
        fast_ok: The fast screen may decide (see :meth:`refresh`).
        metrics_snapshot: The metrics as of now, None once anything changed.
    """

    __slots__ = (
        "account",
        "bad_fills",
        "books",
        "fast_ok",
        "faulted",
        "kill_switch",
        "limits",
        "liquidation_required",
        "metrics_snapshot",
        "policy",
        "seen_order_ids",
        "trading_state",
        "working",
    )

    def __init__(self, policy: RiskPolicy) -> None:
        self.policy = policy
        self.limits = CompiledLimits(policy)
        self.trading_state = _ACTIVE
        self.kill_switch = False
        self.liquidation_required = False
        self.metrics_snapshot: Mapping[str, float] | None = None
        self.reset()

    def reset(self) -> None:
        """Forget positions, working orders, market data, history and faults.

        The trading state, the kill switch and a required liquidation stay as they are.
        """
        self.account = AccountBook(self.policy.capital, self.limits)
        self.books: dict[str, SymbolBook] = {}
        for symbol in self.policy.symbols:
            self.books[symbol] = SymbolBook(symbol, self.limits)
        self.working: WorkingOrders = {}
        self.seen_order_ids: set[str] = set()
        self.faulted = False
        self.bad_fills: dict[str, str] = {}
        for book in self.books.values():
            book.refresh(self.limits)
        self.refresh()

    def book_for(self, symbol: str) -> SymbolBook:
        """The book of ``symbol``, created on first sight.

        Raises:
            TypeError: ``symbol`` is not a non-empty str.
        """
        book = self.books.get(symbol)
        if book is None:
            if not isinstance(symbol, str) or not symbol:
                raise TypeError(f"symbol: expected a non-empty str, was {symbol!r}")
            book = self.books[symbol] = SymbolBook(symbol, self.limits)
        return book

    def set_fault(self) -> None:
        """Refuse every order (CALCULATOR_FAULT) until a re-arm."""
        self.faulted = True
        self.fast_ok = False

    def refresh(self) -> None:
        """Recompute ``fast_ok`` after a change, and drop the metrics snapshot.

        The fast screen may decide only while the engine is ACTIVE with no kill switch, fault
        or refused fill, equity is finite and no account-state rule fires. The account sums are
        re-summed exactly every ``RESUM_EVERY`` incremental changes.
        """
        account = self.account
        if account.n_restated >= RESUM_EVERY:
            account.resum(list(self.books.values()))
        try:
            clear = math.isfinite(account.equity) and account_state_clear(account, self.limits)
        except Exception:
            logger.exception("risk account state failed; refusing orders until re-armed")
            self.faulted = True
            clear = False
        self.fast_ok = (
            clear
            and self.trading_state is _ACTIVE
            and not self.kill_switch
            and not self.faulted
            and not self.bad_fills
        )
        self.metrics_snapshot = None
