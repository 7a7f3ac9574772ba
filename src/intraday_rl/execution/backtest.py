"""run_backtest: the execution engine on a replay feed at full speed, into a paper broker.

The same :class:`OrchestratorAgent`, :class:`ExecutionAgent`, risk engine and broker as paper
trading: the backtest is what a bundle would have done live, bar by bar, every order gated by the
risk engine. The result is a trade log and per-bar equity as pandas DataFrames.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from intraday_rl.bundle.runtime import BundlePolicy
from intraday_rl.execution.agent import ExecutionAgent
from intraday_rl.execution.broker import PaperBroker
from intraday_rl.execution.feed import ReplayFeed, SessionLike
from intraday_rl.execution.orchestrator import DataClock, OrchestratorAgent, SessionCapital
from intraday_rl.market.config import CostConfig
from intraday_rl.risk.config import RiskPolicy, SymbolOverrides, load_default_risk_policy
from intraday_rl.risk.engine import RiskAgentV2
from intraday_rl.shared.errors import ExecutionError


@dataclass(frozen=True)
class BacktestResult:
    """What a backtest did.

    Attributes:
        trades: One row per fill: session, bar, ts_ns, symbol, client_order_id, quantity, price,
            cost, reason (``POLICY``, ``SESSION_CLOSE``, ``KILL_SWITCH``, ...).
        equity: One row per bar and symbol: the action, target, request, the risk decision (action
            and reason codes), allowed quantity, order id, position, cash, equity, costs paid and
            notes (execution reasons such as ``BAD_MARKET_DATA``).
        sessions: One row per session and symbol: net P&L (end equity minus the session's start
            capital), costs, fills.
        refused: Symbols whose bundle was refused at start, with the reason.
    """

    trades: pd.DataFrame
    equity: pd.DataFrame
    sessions: pd.DataFrame
    refused: dict[str, str]


def non_binding_risk_policy(symbols: Sequence[str], capital: float = 100_000.0) -> RiskPolicy:
    """The shipped risk policy with every limit off: the engine checks requests, never binds.

    For parity checks against the env (and for runs whose risk is judged elsewhere): malformed
    requests and bad data are still refused.
    """
    base = load_default_risk_policy()
    limits = {
        name: None
        for name, info in type(base.limits).model_fields.items()
        if name != "concentration_min_gross" and not info.is_required()
    }
    return base.model_copy(
        update={
            "name": "non-binding",
            "capital": capital,
            "limits": base.limits.model_copy(update=limits),
            "symbols": {symbol: SymbolOverrides() for symbol in symbols},
        }
    )


def run_backtest(
    bundle: BundlePolicy | str | Path,
    sessions: Sequence[SessionLike],
    risk_policy: RiskPolicy | None = None,
    *,
    costs: CostConfig | None = None,
    participation_cap: float | None = None,
    session_capital: SessionCapital = "reset",
    run_id: str = "backtest",
) -> BacktestResult:
    """Backtest one bundle on one symbol's sessions through the execution engine.

    Args:
        bundle: A loaded bundle policy, or its folder (verified; a refused bundle holds flat).
        sessions: The sessions to replay (e.g. ``load_market_data(...).split.test``), one symbol.
        risk_policy: The risk policy; :func:`non_binding_risk_policy` when None.
        costs: The broker's cost model (default :class:`CostConfig`); the fill delay is the
            bundle's ``rules.fill_delay_bars``.
        participation_cap: The broker's per-bar participation cap (None: fill every order).
        session_capital: ``"reset"`` (the env's episodes) or ``"carry"``.
        run_id: Prefix of every ``client_order_id``.

    Raises:
        ExecutionError: no sessions, or sessions of more than one symbol.
    """
    feed = ReplayFeed(sessions)
    if len(feed.symbols) != 1:
        raise ExecutionError(f"run_backtest: sessions: expected one symbol, was {feed.symbols}")
    symbol = feed.symbols[0]
    if isinstance(bundle, str | Path):
        agent = ExecutionAgent.from_bundle(bundle, symbol, run_id=run_id)
    else:
        agent = ExecutionAgent(bundle, symbol, run_id=run_id)
    rules = agent.policy.metadata.rules if agent.policy is not None else None
    delay = rules.fill_delay_bars if rules is not None else None
    broker = PaperBroker(costs, fill_delay_bars=delay, participation_cap=participation_cap)
    clock = DataClock()
    policy = risk_policy or non_binding_risk_policy([symbol], agent.capital)
    risk = RiskAgentV2(policy, clock=clock)
    orchestrator = OrchestratorAgent(
        [agent], broker, risk, clock=clock, session_capital=session_capital
    )
    orchestrator.run(feed)
    return _result(orchestrator)


def _result(orchestrator: OrchestratorAgent) -> BacktestResult:
    equity = pd.DataFrame([dataclasses.asdict(record) for record in orchestrator.records])
    trades = pd.DataFrame(
        [
            {
                "session": session,
                "bar": bar,
                "ts_ns": fill.ts_ns,
                "symbol": fill.symbol,
                "client_order_id": fill.client_order_id,
                "quantity": fill.quantity,
                "price": fill.price,
                "cost": fill.cost,
                "reason": reason,
            }
            for session, bar, fill, reason in orchestrator.fills
        ],
        columns=[
            "session",
            "bar",
            "ts_ns",
            "symbol",
            "client_order_id",
            "quantity",
            "price",
            "cost",
            "reason",
        ],
    )
    capital = {symbol: agent.capital for symbol, agent in orchestrator.agents.items()}
    last = equity.groupby(["session_id", "symbol"], sort=False).last().reset_index()
    n_fills = trades.groupby(["session", "symbol"]).size()
    sessions = pd.DataFrame(
        {
            "session": last["session_id"],
            "symbol": last["symbol"],
            "net_pnl": last["equity"] - last["symbol"].map(capital),
            "costs": last["costs_paid"],
            "n_fills": [
                int(n_fills.get((s, y), 0))
                for s, y in zip(last["session_id"], last["symbol"], strict=True)
            ],
        }
    )
    refused = {s: a.refused_reason for s, a in orchestrator.agents.items() if a.refused}
    return BacktestResult(trades, equity, sessions, refused)
