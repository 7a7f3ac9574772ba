"""Play policies through sessions and summarize what they earned, paid and risked."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from intraday_rl.env.trading_env import IntradayTradingEnv
from intraday_rl.evaluation.baselines import EnvPolicy

TRADING_DAYS_PER_YEAR = 252


@dataclass(frozen=True, slots=True)
class EpisodeResult:
    """One session played by one policy."""

    session_index: int
    net_pnl: float
    costs: float
    n_trades: int
    max_drawdown: float
    reward_sum: float


@dataclass(frozen=True, slots=True)
class PolicySummary:
    """A policy's results over a set of sessions (daily returns = net P&L / capital)."""

    policy: str
    n_sessions: int
    net_pnl: float
    costs: float
    n_trades: int
    sharpe: float
    max_drawdown: float
    hit_rate: float

    def as_dict(self) -> dict[str, float | int | str]:
        return {name: getattr(self, name) for name in self.__slots__}


def play_session(env: IntradayTradingEnv, policy: EnvPolicy, session_index: int) -> EpisodeResult:
    """Play ``policy`` through one session from its first bar to the forced close."""
    observation, info = env.reset(options={"session_index": session_index})
    capital = env.config.initial_capital
    reward_sum = 0.0
    max_drawdown = 0.0
    terminated = False
    while not terminated:
        observation, reward, terminated, _, info = env.step(policy.act(observation, env))
        reward_sum += float(reward)
        max_drawdown = max(max_drawdown, info["drawdown"])
    return EpisodeResult(
        session_index=session_index,
        net_pnl=info["equity"] - capital,
        costs=info["costs_paid"],
        n_trades=info["n_trades"],
        max_drawdown=max_drawdown,
        reward_sum=reward_sum,
    )


def evaluate_policy(
    env: IntradayTradingEnv, policy: EnvPolicy, session_indices: Sequence[int] | None = None
) -> tuple[PolicySummary, list[EpisodeResult]]:
    """Play every session (all of the env's by default) and summarize."""
    indices = range(env.book.n_sessions) if session_indices is None else session_indices
    results = [play_session(env, policy, index) for index in indices]
    return summarize(policy.name, results, env.config.initial_capital), results


def summarize(name: str, results: Sequence[EpisodeResult], capital: float) -> PolicySummary:
    """Aggregate episode results; Sharpe is annualized from daily (per-session) net returns."""
    daily = np.array([result.net_pnl / capital for result in results])
    std = float(daily.std(ddof=1)) if daily.size > 1 else 0.0
    sharpe = float(daily.mean()) / std * math.sqrt(TRADING_DAYS_PER_YEAR) if std > 0 else 0.0
    # Drawdown over the chained sessions' equity curve (end-of-day), and the worst intraday one.
    curve = capital + np.cumsum(daily * capital)
    peaks = np.maximum.accumulate(np.concatenate([[capital], curve]))[1:]
    daily_drawdown = float(np.max(1.0 - curve / peaks)) if curve.size else 0.0
    intraday = max((result.max_drawdown for result in results), default=0.0)
    return PolicySummary(
        policy=name,
        n_sessions=len(results),
        net_pnl=float(sum(result.net_pnl for result in results)),
        costs=float(sum(result.costs for result in results)),
        n_trades=int(sum(result.n_trades for result in results)),
        sharpe=sharpe,
        max_drawdown=max(daily_drawdown, intraday),
        hit_rate=float(np.mean(daily > 0)) if daily.size else 0.0,
    )
