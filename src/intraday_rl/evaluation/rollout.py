"""Play policies through sessions and summarize what they earned, paid and risked, on one account.

The account. Sessions are chained on one account that starts with the env's capital ``C``; its
equity at the end of session ``i`` is ``C + (net P&L of sessions 0..i)``. Every session still trades
with the env's fixed capital ``C`` for sizing (as the env does), so daily returns are
``net P&L / C`` and are not compounded. When the account's end-of-session equity falls to or below
the floor ``floor_fraction · C`` (:data:`ACCOUNT_FLOOR_FRACTION` = 0.5 by default), the account is
liquidated: the policy trades no further session, each later session counts with a net P&L of 0
(no trade, no cost), and the summary reports ``floor_hit`` and how many sessions were lost that way
(``n_sessions_after_floor``). Agents and baselines alike are judged this way, so a drawdown can
exceed ``1 - floor_fraction`` only by the loss of the session that crossed the floor, and never
reaches 100% unless one session loses more than the remaining equity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from intraday_rl.env.trading_env import IntradayTradingEnv
from intraday_rl.evaluation.metrics import (
    TRADING_DAYS_PER_YEAR,
    EvaluationError,
    PerformanceMetrics,
    check_capital,
    check_series,
    compute_metrics,
)
from intraday_rl.shared.arrays import FloatArray

__all__ = [
    "ACCOUNT_FLOOR_FRACTION",
    "TRADING_DAYS_PER_YEAR",
    "EnvPolicy",
    "EpisodeResult",
    "PolicySummary",
    "apply_account_floor",
    "daily_pnl",
    "evaluate_policy",
    "play_session",
    "summarize",
]

ACCOUNT_FLOOR_FRACTION = 0.5
"""Liquidate the account when its end-of-session equity is at or below this fraction of capital."""


class EnvPolicy(Protocol):
    """Anything that picks an action for the env's current observation."""

    name: str

    def act(self, observation: npt.NDArray[np.float32], env: IntradayTradingEnv) -> Any: ...


@dataclass(frozen=True, slots=True)
class EpisodeResult:
    """One session played by one policy (money in account currency).

    Attributes:
        session_index: Index of the session in the env's book.
        net_pnl: Equity at the session's end minus capital, after all costs.
        costs: Costs paid in the session.
        n_trades: Fills in the session.
        max_drawdown: Worst intraday fall of the session's equity from its peak (a fraction).
        reward_sum: Sum of the env's rewards.
        traded_notional: Sum of |shares| × fill price over the session's fills.
        commission: Commission part of ``costs``.
        spread: Half-spread part of ``costs``.
        impact: Market-impact part of ``costs``.
        mean_abs_exposure: Mean over the session's steps of |position × close| / equity.
        played: False for a session not traded because the account was liquidated at the floor.
    """

    session_index: int
    net_pnl: float
    costs: float
    n_trades: int
    max_drawdown: float
    reward_sum: float
    traded_notional: float = 0.0
    commission: float = 0.0
    spread: float = 0.0
    impact: float = 0.0
    mean_abs_exposure: float = 0.0
    played: bool = True


@dataclass(frozen=True, slots=True)
class PolicySummary:
    """A policy's results over a set of sessions on one account (see the module docstring).

    ``max_drawdown`` is the worse of the account's end-of-day drawdown and the worst intraday one;
    ``metrics`` holds every :class:`PerformanceMetrics` figure (its ``max_drawdown`` is the
    end-of-day one only).
    """

    policy: str
    n_sessions: int
    net_pnl: float
    costs: float
    n_trades: int
    sharpe: float
    max_drawdown: float
    hit_rate: float
    floor_hit: bool = False
    n_sessions_after_floor: int = 0
    metrics: PerformanceMetrics | None = None

    def as_dict(self) -> dict[str, float | int | str]:
        """Return the summary's fields, then the metrics not already among them, flat."""
        row: dict[str, float | int | str] = {
            field.name: getattr(self, field.name)
            for field in fields(self)
            if field.name != "metrics"
        }
        if self.metrics is not None:
            for name, value in self.metrics.as_dict().items():
                row.setdefault(name, value)
        return row


def play_session(env: IntradayTradingEnv, policy: EnvPolicy, session_index: int) -> EpisodeResult:
    """Play ``policy`` through one session from its first bar to the forced close."""
    observation, info = env.reset(options={"session_index": session_index})
    capital = env.config.initial_capital
    reward_sum = max_drawdown = exposure_sum = 0.0
    n_steps = 0
    terminated = False
    while not terminated:
        observation, reward, terminated, _, info = env.step(policy.act(observation, env))
        reward_sum += float(reward)
        max_drawdown = max(max_drawdown, info["drawdown"])
        equity = info["equity"] if info["equity"] > 0 else capital
        exposure_sum += abs(info["position"] * info["price"]) / equity
        n_steps += 1
    fills = env.fill_totals
    return EpisodeResult(
        session_index=session_index,
        net_pnl=info["equity"] - capital,
        costs=info["costs_paid"],
        n_trades=info["n_trades"],
        max_drawdown=max_drawdown,
        reward_sum=reward_sum,
        traded_notional=fills["traded_notional"],
        commission=fills["commission"],
        spread=fills["spread"],
        impact=fills["impact"],
        mean_abs_exposure=exposure_sum / n_steps if n_steps else 0.0,
    )


def evaluate_policy(
    env: IntradayTradingEnv,
    policy: EnvPolicy,
    session_indices: Sequence[int] | None = None,
    *,
    floor_fraction: float = ACCOUNT_FLOOR_FRACTION,
) -> tuple[PolicySummary, list[EpisodeResult]]:
    """Play the sessions in order (all of the env's by default) on one account and summarize.

    Once the account is liquidated at the floor the remaining sessions are not played: they are
    returned as ``played=False`` results with zero P&L.

    Raises:
        EvaluationError: If ``floor_fraction`` is not in [0, 1).
    """
    _check_floor(floor_fraction)
    capital = env.config.initial_capital
    indices = range(env.book.n_sessions) if session_indices is None else session_indices
    results: list[EpisodeResult] = []
    equity = capital
    for index in indices:
        if equity <= floor_fraction * capital:
            results.append(EpisodeResult(index, 0.0, 0.0, 0, 0.0, 0.0, played=False))
            continue
        result = play_session(env, policy, index)
        equity += result.net_pnl
        results.append(result)
    summary = summarize(policy.name, results, capital, floor_fraction=floor_fraction)
    return summary, results


def daily_pnl(results: Sequence[EpisodeResult]) -> FloatArray:
    """Return each result's net P&L (account currency), in order: the daily P&L series."""
    return np.array([result.net_pnl for result in results], dtype=np.float64)


def apply_account_floor(
    pnl: Sequence[float] | FloatArray,
    capital: float,
    floor_fraction: float = ACCOUNT_FLOOR_FRACTION,
) -> tuple[FloatArray, int | None]:
    """Return (the daily P&L with every session after liquidation zeroed, the liquidation index).

    The account is liquidated after the first session whose end equity ``capital + cumsum(pnl)``
    is <= ``floor_fraction * capital``; its index is returned (None if the floor is never hit).

    Raises:
        EvaluationError: If ``pnl`` is not 1-D finite, ``capital`` is not > 0, or
            ``floor_fraction`` is not in [0, 1).
    """
    values = check_series(pnl, "pnl").copy()
    capital = check_capital(capital)
    _check_floor(floor_fraction)
    below = np.flatnonzero(capital + np.cumsum(values) <= floor_fraction * capital)
    if below.size == 0:
        return values, None
    first = int(below[0])
    values[first + 1 :] = 0.0
    return values, first


def summarize(
    name: str,
    results: Sequence[EpisodeResult],
    capital: float,
    *,
    floor_fraction: float = ACCOUNT_FLOOR_FRACTION,
    n_trials: int = 1,
    trials_sharpe_variance: float = 0.0,
) -> PolicySummary:
    """Aggregate episode results on one account (see the module docstring).

    Sessions after the account's liquidation count as flat, whatever their results say. Sharpe
    and the other metrics come from :func:`~intraday_rl.evaluation.metrics.compute_metrics` on
    the daily net P&L; ``n_trials`` and ``trials_sharpe_variance`` feed its Deflated Sharpe.

    Raises:
        EvaluationError: If ``capital`` is not > 0, ``floor_fraction`` is not in [0, 1), or a
            result's P&L is not finite.
    """
    pnl, floor_session = apply_account_floor(daily_pnl(results), capital, floor_fraction)
    n_active = len(results) if floor_session is None else floor_session + 1
    active = results[:n_active]
    padding = [0.0] * (len(results) - n_active)
    metrics = compute_metrics(
        pnl,
        capital,
        n_trades=sum(result.n_trades for result in active),
        traded_notional=[result.traded_notional for result in active] + padding,
        commission=sum(result.commission for result in active),
        spread=sum(result.spread for result in active),
        impact=sum(result.impact for result in active),
        exposure=[result.mean_abs_exposure for result in active] + padding,
        n_trials=n_trials,
        trials_sharpe_variance=trials_sharpe_variance,
    )
    intraday = max((result.max_drawdown for result in active), default=0.0)
    return PolicySummary(
        policy=name,
        n_sessions=len(results),
        net_pnl=metrics.net_pnl,
        costs=float(sum(result.costs for result in active)),
        n_trades=metrics.n_trades,
        sharpe=metrics.sharpe,
        max_drawdown=max(metrics.max_drawdown, intraday),
        hit_rate=metrics.hit_rate,
        floor_hit=floor_session is not None,
        n_sessions_after_floor=len(results) - n_active,
        metrics=metrics,
    )


def _check_floor(floor_fraction: float) -> None:
    if not (math.isfinite(floor_fraction) and 0.0 <= floor_fraction < 1.0):
        raise EvaluationError(f"floor_fraction: expected a value in [0, 1), was {floor_fraction}")
