"""Execution: one event-driven engine for backtests and paper trading.

``OrchestratorAgent`` runs ``ExecutionAgent``s (one bundle, one symbol each) over one feed and one
broker under one ``RiskAgentV2``; ``run_backtest`` is that engine on a ``ReplayFeed`` with a
``PaperBroker``. Imports shared, features, market, risk and bundle only: never SB3, never training.
"""

from intraday_rl.execution.agent import BarRecord, ExecutionAgent, ExecutionReason
from intraday_rl.execution.backtest import BacktestResult, non_binding_risk_policy, run_backtest
from intraday_rl.execution.broker import Broker, PaperBroker
from intraday_rl.execution.feed import FeedBar, ReplayFeed, SessionEnd, SessionStart
from intraday_rl.execution.orchestrator import DataClock, OrchestratorAgent
from intraday_rl.execution.orders import Order, OrderStatus

__all__ = [
    "BacktestResult",
    "BarRecord",
    "Broker",
    "DataClock",
    "ExecutionAgent",
    "ExecutionReason",
    "FeedBar",
    "OrchestratorAgent",
    "Order",
    "OrderStatus",
    "PaperBroker",
    "ReplayFeed",
    "SessionEnd",
    "SessionStart",
    "non_binding_risk_policy",
    "run_backtest",
]
