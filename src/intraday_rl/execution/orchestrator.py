"""OrchestratorAgent: one feed, one broker, one risk engine, one ExecutionAgent per symbol.

Per feed event:

- ``SessionStart``: the symbol's agent and broker bar clock restart (with ``session_capital=
  "reset"`` the symbol's account returns to its capital, as each env episode does).
- ``FeedBar``: the clock moves to the bar's close; the broker fills what is due at the bar's open;
  the risk engine gets the fills and the bar (a bad bar is the risk engine's to refuse); the agent
  trades the bar; fills of closing trades go to the risk engine. If the risk engine is halted, in
  liquidation or its kill switch is engaged, every agent flattens and no new risk goes out.
- ``SessionEnd``: working orders are cancelled (and reported to the risk engine).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Literal

from intraday_rl.execution.agent import BarRecord, ExecutionAgent, _halt_reason
from intraday_rl.execution.broker import PaperBroker
from intraday_rl.execution.feed import FeedBar, FeedEvent, SessionEnd, SessionStart
from intraday_rl.risk.engine import RiskAgentV2
from intraday_rl.shared.errors import ExecutionError
from intraday_rl.shared.types import Bar, Fill, OrderEvent, OrderEventKind

logger = logging.getLogger(__name__)

SessionCapital = Literal["reset", "carry"]


class DataClock:
    """The engine's clock in a replay: the close time of the bar being processed (UTC ns)."""

    __slots__ = ("now_ns",)

    def __init__(self, now_ns: int = 0) -> None:
        self.now_ns = now_ns

    def __call__(self) -> int:
        return self.now_ns


class OrchestratorAgent:
    """Runs agents over a feed, through one broker, under one risk engine (module docstring).

    Args:
        agents: One :class:`ExecutionAgent` per symbol.
        broker: The broker (a :class:`PaperBroker` in backtests and paper trading).
        risk: The risk engine; its clock should be ``clock`` in a replay.
        clock: The replay clock the orchestrator advances (None: the risk engine keeps its own).
        session_capital: ``"reset"`` returns each account to its capital at every session start
            (the env's episodes); ``"carry"`` keeps the P&L.

    Raises:
        ExecutionError: no agents, two agents for one symbol, or a bad ``session_capital``.
    """

    def __init__(
        self,
        agents: Sequence[ExecutionAgent],
        broker: PaperBroker,
        risk: RiskAgentV2,
        *,
        clock: DataClock | None = None,
        session_capital: SessionCapital = "reset",
    ) -> None:
        if not agents:
            raise ExecutionError("OrchestratorAgent: agents: expected at least one, was none")
        symbols = [agent.symbol for agent in agents]
        if len(set(symbols)) != len(symbols):
            raise ExecutionError(f"OrchestratorAgent: agents: one agent per symbol, was {symbols}")
        if session_capital not in ("reset", "carry"):
            raise ExecutionError(
                f"session_capital: expected 'reset' or 'carry', was {session_capital!r}"
            )
        self.agents = {agent.symbol: agent for agent in agents}
        self.broker, self.risk, self.clock = broker, risk, clock
        self.session_capital = session_capital
        self.records: list[BarRecord] = []
        self.fills: list[tuple[str, int, Fill, str]] = []  # (session, bar, fill, order reason)
        for agent in agents:
            broker.open_account(agent.symbol, agent.capital, agent.lot_size)
            agent.attach(broker, risk)
            if agent.refused:
                logger.error(
                    "%s holds flat: bundle refused: %s", agent.symbol, agent.refused_reason
                )

    def run(self, feed: Iterable[FeedEvent]) -> None:
        """Process every event of ``feed`` in order."""
        for event in feed:
            self.on_event(event)

    def on_event(self, event: FeedEvent) -> None:
        """Process one feed event (events of symbols without an agent are ignored)."""
        agent = self.agents.get(event.symbol)
        if agent is None:
            return
        if isinstance(event, FeedBar):
            self._on_bar(agent, event)
        elif isinstance(event, SessionStart):
            if self.session_capital == "reset":
                self.broker.reset_account(event.symbol)
            self.broker.start_session(event.symbol)
            agent.start_session(event)
        elif isinstance(event, SessionEnd):
            for order in self.broker.end_session(event.symbol):
                self.risk.update(
                    OrderEvent(
                        self._now(), event.symbol, OrderEventKind.CANCELLED, order.client_order_id
                    )
                )

    def _now(self) -> int:
        return self.clock.now_ns if self.clock is not None else 0

    def _on_bar(self, agent: ExecutionAgent, bar: FeedBar) -> None:
        if self.clock is not None:
            self.clock.now_ns = bar.close_ns
        self.broker.on_bar(
            bar.symbol, bar.ts_ns, bar.open, bar.close, bar.volume, close_ts_ns=bar.close_ns
        )
        self._book_fills(bar)
        self.risk.update(
            Bar(bar.close_ns, bar.symbol, bar.open, bar.high, bar.low, bar.close, bar.volume)
        )
        record = agent.on_bar(bar)
        self._book_fills(bar)
        halted = _halt_reason(self.risk)
        if halted is not None:
            self._flatten_all(bar, halted)
        self.records.append(record)
        if halted is not None:
            agent.book(bar, record)  # the record shows the position after the flattening

    def _flatten_all(self, bar: FeedBar, reason: str) -> None:
        # No new risk: every agent cancels and closes at this bar's close (its own last close).
        for agent in self.agents.values():
            last = bar if agent.symbol == bar.symbol else agent.last_bar
            if last is None:
                continue
            if (
                self.broker.open_orders(agent.symbol)
                or self.broker.portfolio(agent.symbol).position
            ):
                logger.warning("%s: flattening %s", reason, agent.symbol)
                agent.flatten(last, reason)
        self._book_fills(bar)

    def _book_fills(self, bar: FeedBar) -> None:
        for fill in self.broker.drain_fills():
            self.risk.update(fill)
            order = self.broker.order(fill.client_order_id or "")
            self.fills.append(
                (bar.session_id, bar.index, fill, order.reason if order is not None else "")
            )
