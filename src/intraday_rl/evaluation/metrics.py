"""The one metrics module: performance of a per-session (daily) net P&L series on one account.

Conventions used by every function here:

- A *session* is one trading day. ``daily_pnl[i]`` is session ``i``'s net P&L (after all costs),
  account currency. The daily return is ``daily_pnl[i] / capital``: every session trades with the
  same fixed ``capital`` for sizing, so returns are *not* compounded.
- The account chains sessions additively: its end-of-day equity is ``capital + cumsum(daily_pnl)``
  and it starts at ``capital`` (the first peak).
- Annualization uses ``periods_per_year`` sessions (252 by default); the risk-free rate is 0.
- Undefined ratios (a zero denominator: no volatility, no losing session, no drawdown, no trade)
  are reported as 0.0, never NaN or inf, so every metric can be logged and compared.

Sharpe, Sortino and annualized volatility are exactly quantstats' (``rf=0``, ``periods=252``, std
with ``ddof=1``; Sortino's downside deviation is ``sqrt(sum(min(r, 0)²) / n)``). Max drawdown and
Calmar differ from ``quantstats`` on a return series, which compounds returns: here drawdown is
measured on the additive equity curve (equal to quantstats' ``max_drawdown`` of that curve given as
prices), and the annual return is quantstats' ``cagr(..., compounded=False)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt
from scipy import stats

from intraday_rl.shared.arrays import FloatArray
from intraday_rl.shared.errors import IntradayRLError

TRADING_DAYS_PER_YEAR = 252
EULER_GAMMA = 0.5772156649015329


class EvaluationError(IntradayRLError, ValueError):
    """Evaluation was asked for with invalid input; the message names the argument."""


@dataclass(frozen=True, slots=True)
class PerformanceMetrics:
    """Performance of one policy over a set of sessions (see the module docstring for conventions).

    Attributes:
        n_sessions: Sessions in the series.
        n_trades: Fills over all sessions.
        net_pnl: Sum of daily net P&L, account currency.
        total_return: ``net_pnl / capital`` (additive, not compounded).
        annual_return: ``(1 + total_return) ** (periods_per_year / n_sessions) - 1``; -1 when the
            account ends at or below zero.
        annual_volatility: Std of daily returns (ddof=1) × sqrt(periods_per_year).
        sharpe: Annualized Sharpe: mean / std (ddof=1) of daily returns × sqrt(periods_per_year).
        sortino: Annualized Sortino: mean / sqrt(sum(min(r, 0)²) / n) × sqrt(periods_per_year).
        calmar: ``annual_return / max_drawdown``.
        max_drawdown: Largest fall of end-of-day account equity from its running peak, a fraction
            of that peak (0.25 = 25%); the starting capital is the first peak.
        max_drawdown_duration: Longest run of consecutive sessions ending below the running peak.
        hit_rate: Fraction of sessions with net P&L > 0.
        average_trade: Net P&L per fill, account currency.
        turnover: Mean traded notional per session / capital (1.0 = the capital traded once a day).
        costs: Total costs, account currency (commission + spread + impact).
        commission: Commission paid (proportional and per-share), account currency.
        spread: Half-spread paid, account currency.
        impact: Square-root market impact paid, account currency.
        exposure: Mean over sessions of the session's mean |position value| / equity over bars.
        psr: Probabilistic Sharpe Ratio: P(true per-session Sharpe > 0).
        dsr: Deflated Sharpe Ratio: PSR against the expected best Sharpe of ``n_trials`` trials.
    """

    n_sessions: int
    n_trades: int
    net_pnl: float
    total_return: float
    annual_return: float
    annual_volatility: float
    sharpe: float
    sortino: float
    calmar: float
    max_drawdown: float
    max_drawdown_duration: int
    hit_rate: float
    average_trade: float
    turnover: float
    costs: float
    commission: float
    spread: float
    impact: float
    exposure: float
    psr: float
    dsr: float

    def as_dict(self) -> dict[str, float | int]:
        """Return every metric by its attribute name."""
        return {field.name: getattr(self, field.name) for field in fields(self)}


def daily_returns(daily_pnl: npt.ArrayLike, capital: float) -> FloatArray:
    """Return ``daily_pnl / capital`` as float64, after checking both.

    Raises:
        EvaluationError: If ``daily_pnl`` is not a 1-D finite series or ``capital`` is not > 0.
    """
    return check_series(daily_pnl, "daily_pnl") / check_capital(capital)


def check_series(values: npt.ArrayLike, name: str) -> FloatArray:
    """Return ``values`` as a 1-D float64 array; raise :class:`EvaluationError` naming ``name``."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise EvaluationError(f"{name}: expected a 1-D series, was shape {array.shape}")
    if not np.isfinite(array).all():
        bad = int(np.flatnonzero(~np.isfinite(array))[0])
        raise EvaluationError(f"{name}: expected finite values, was {array[bad]} at index {bad}")
    return array


def check_capital(capital: float) -> float:
    """Return ``capital`` as a float; raise :class:`EvaluationError` unless finite and > 0."""
    if not (math.isfinite(capital) and capital > 0.0):
        raise EvaluationError(f"capital: expected a finite amount > 0, was {capital}")
    return float(capital)


def sharpe_ratio(returns: npt.ArrayLike, periods_per_year: int = TRADING_DAYS_PER_YEAR) -> float:
    """Return mean / std (ddof=1) × sqrt(periods_per_year); 0.0 with < 2 values or zero std.

    Pass ``periods_per_year=1`` for the per-period (non-annualized) ratio.
    """
    values = check_series(returns, "returns")
    std = float(values.std(ddof=1)) if values.size > 1 else 0.0
    if std == 0.0:
        return 0.0
    return float(values.mean()) / std * math.sqrt(periods_per_year)


def sortino_ratio(returns: npt.ArrayLike, periods_per_year: int = TRADING_DAYS_PER_YEAR) -> float:
    """Return mean / sqrt(sum(min(r, 0)²) / n) × sqrt(periods_per_year); 0.0 without a loss."""
    values = check_series(returns, "returns")
    if values.size == 0:
        return 0.0
    downside = math.sqrt(float(np.sum(np.minimum(values, 0.0) ** 2)) / values.size)
    if downside == 0.0:
        return 0.0
    return float(values.mean()) / downside * math.sqrt(periods_per_year)


def annual_volatility(
    returns: npt.ArrayLike, periods_per_year: int = TRADING_DAYS_PER_YEAR
) -> float:
    """Return std (ddof=1) × sqrt(periods_per_year); 0.0 with fewer than 2 values."""
    values = check_series(returns, "returns")
    if values.size < 2:
        return 0.0
    return float(values.std(ddof=1)) * math.sqrt(periods_per_year)


def equity_curve(daily_pnl: npt.ArrayLike, capital: float) -> FloatArray:
    """Return the account's end-of-day equity ``capital + cumsum(daily_pnl)``, one per session."""
    return check_capital(capital) + np.cumsum(check_series(daily_pnl, "daily_pnl"))


def max_drawdown(daily_pnl: npt.ArrayLike, capital: float) -> tuple[float, int]:
    """Return (depth, duration) of the account's worst drawdown, from end-of-day equity.

    Depth is ``max(1 - equity / running_peak)`` with the starting ``capital`` as the first peak (a
    fraction; above 1 only if equity falls below zero). Duration is the longest run of consecutive
    sessions ending below the running peak, in sessions. Both are 0 for an empty series.
    """
    curve = equity_curve(daily_pnl, capital)
    if curve.size == 0:
        return 0.0, 0
    peaks = np.maximum.accumulate(np.concatenate([[capital], curve]))[1:]
    depth = float(np.max(1.0 - curve / peaks))
    longest = run = 0
    for underwater in curve < peaks:
        run = run + 1 if underwater else 0
        longest = max(longest, run)
    return max(depth, 0.0), longest


def annual_return(
    total_return: float, n_sessions: int, periods_per_year: int = TRADING_DAYS_PER_YEAR
) -> float:
    """Return ``(1 + total_return) ** (periods_per_year / n_sessions) - 1`` (quantstats' cagr
    with ``compounded=False``); -1.0 when ``1 + total_return <= 0``, 0.0 for no session."""
    if n_sessions <= 0:
        return 0.0
    wealth = 1.0 + total_return
    if wealth <= 0.0:
        return -1.0
    return float(wealth ** (periods_per_year / n_sessions) - 1.0)


def probabilistic_sharpe_ratio(returns: npt.ArrayLike, benchmark_sharpe: float = 0.0) -> float:
    """Return the Probabilistic Sharpe Ratio (Bailey & López de Prado, 2012).

    ``PSR = Φ((SR - SR*) · sqrt(n - 1) / sqrt(1 - γ3·SR + (γ4 - 1) / 4 · SR²))`` with ``SR`` the
    per-period (non-annualized) Sharpe (std ddof=1), ``γ3`` the skewness and ``γ4`` the (Pearson,
    non-excess) kurtosis of ``returns`` (biased sample moments, as in the paper), and ``SR*`` the
    per-period benchmark Sharpe.

    Returns:
        The probability that the true Sharpe exceeds ``benchmark_sharpe``; 0.0 when undefined
        (fewer than 2 values, zero variance, or a non-positive variance term).
    """
    values = check_series(returns, "returns")
    if values.size < 2 or float(values.std(ddof=1)) == 0.0:
        return 0.0
    sharpe = sharpe_ratio(values, periods_per_year=1)
    skew = float(stats.skew(values))
    kurtosis = float(stats.kurtosis(values, fisher=False))
    variance_term = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    if not variance_term > 0.0:
        return 0.0
    z = (sharpe - benchmark_sharpe) * math.sqrt(values.size - 1) / math.sqrt(variance_term)
    return float(stats.norm.cdf(z))


def expected_max_sharpe(n_trials: int, trials_sharpe_variance: float) -> float:
    """Return the expected best per-period Sharpe of ``n_trials`` skill-less trials (SR₀ of DSR).

    ``SR₀ = sqrt(V) · ((1 - γ) · Φ⁻¹(1 - 1/N) + γ · Φ⁻¹(1 - 1/(N·e)))`` with ``γ`` the
    Euler-Mascheroni constant (Bailey & López de Prado, 2014); 0.0 for a single trial.

    Raises:
        EvaluationError: If ``n_trials < 1`` or the variance is negative or not finite.
    """
    if n_trials < 1:
        raise EvaluationError(f"n_trials: expected >= 1, was {n_trials}")
    if not (math.isfinite(trials_sharpe_variance) and trials_sharpe_variance >= 0.0):
        raise EvaluationError(
            f"trials_sharpe_variance: expected a finite value >= 0, was {trials_sharpe_variance}"
        )
    if n_trials == 1:
        return 0.0
    quantiles = stats.norm.ppf([1.0 - 1.0 / n_trials, 1.0 - 1.0 / (n_trials * math.e)])
    spread = (1.0 - EULER_GAMMA) * float(quantiles[0]) + EULER_GAMMA * float(quantiles[1])
    return math.sqrt(trials_sharpe_variance) * spread


def deflated_sharpe_ratio(
    returns: npt.ArrayLike, n_trials: int, trials_sharpe_variance: float
) -> float:
    """Return the Deflated Sharpe Ratio: PSR against :func:`expected_max_sharpe` (per period).

    Args:
        returns: The selected strategy's per-period returns.
        n_trials: Number of independent trials the strategy was selected from (>= 1).
        trials_sharpe_variance: Variance across trials of their per-period (non-annualized)
            Sharpe ratios.

    Raises:
        EvaluationError: As :func:`expected_max_sharpe`.
    """
    return probabilistic_sharpe_ratio(
        returns, expected_max_sharpe(n_trials, trials_sharpe_variance)
    )


def compute_metrics(
    daily_pnl: npt.ArrayLike,
    capital: float,
    *,
    n_trades: int = 0,
    traded_notional: npt.ArrayLike | None = None,
    commission: float = 0.0,
    spread: float = 0.0,
    impact: float = 0.0,
    exposure: npt.ArrayLike | None = None,
    n_trials: int = 1,
    trials_sharpe_variance: float = 0.0,
    periods_per_year: int = TRADING_DAYS_PER_YEAR,
) -> PerformanceMetrics:
    """Compute every :class:`PerformanceMetrics` field from one daily net P&L series.

    Args:
        daily_pnl: Net P&L per session, account currency (1-D, finite).
        capital: Account capital (> 0) that sizes every session.
        n_trades: Fills over all sessions.
        traded_notional: Traded notional per session (account currency); turnover 0 if omitted.
        commission: Commission paid over all sessions.
        spread: Half-spread paid over all sessions.
        impact: Market impact paid over all sessions.
        exposure: Mean |exposure| per session (fraction of equity); 0 if omitted.
        n_trials: Trials the policy was selected from, for the DSR (1 = no deflation).
        trials_sharpe_variance: Variance of the trials' per-period Sharpes, for the DSR.
        periods_per_year: Sessions per year for annualization.

    Raises:
        EvaluationError: If a series is not 1-D finite, capital is not > 0, a count or cost is
            negative, or a per-session series has a different length than ``daily_pnl``.
    """
    pnl = check_series(daily_pnl, "daily_pnl")
    returns = pnl / check_capital(capital)
    notional = _per_session(traded_notional, pnl.size, "traded_notional")
    exposures = _per_session(exposure, pnl.size, "exposure")
    counts = {"n_trades": n_trades, "commission": commission, "spread": spread, "impact": impact}
    for name, value in counts.items():
        if not value >= 0:
            raise EvaluationError(f"{name}: expected >= 0, was {value}")
    if periods_per_year < 1:
        raise EvaluationError(f"periods_per_year: expected >= 1, was {periods_per_year}")
    n = int(pnl.size)
    net_pnl = float(pnl.sum())
    total_return = net_pnl / capital
    yearly = annual_return(total_return, n, periods_per_year)
    depth, duration = max_drawdown(pnl, capital)
    return PerformanceMetrics(
        n_sessions=n,
        n_trades=int(n_trades),
        net_pnl=net_pnl,
        total_return=total_return,
        annual_return=yearly,
        annual_volatility=annual_volatility(returns, periods_per_year),
        sharpe=sharpe_ratio(returns, periods_per_year),
        sortino=sortino_ratio(returns, periods_per_year),
        calmar=yearly / depth if depth > 0.0 else 0.0,
        max_drawdown=depth,
        max_drawdown_duration=duration,
        hit_rate=float(np.mean(pnl > 0.0)) if n else 0.0,
        average_trade=net_pnl / n_trades if n_trades else 0.0,
        turnover=float(notional.mean()) / capital if n else 0.0,
        costs=float(commission + spread + impact),
        commission=float(commission),
        spread=float(spread),
        impact=float(impact),
        exposure=float(exposures.mean()) if n else 0.0,
        psr=probabilistic_sharpe_ratio(returns),
        dsr=deflated_sharpe_ratio(returns, n_trials, trials_sharpe_variance),
    )


def _per_session(values: npt.ArrayLike | None, n_sessions: int, name: str) -> FloatArray:
    # A per-session series aligned with daily_pnl (zeros when omitted).
    if values is None:
        return np.zeros(n_sessions)
    array = check_series(values, name)
    if array.size != n_sessions:
        raise EvaluationError(
            f"{name}: expected one value per session ({n_sessions}), was {array.size}"
        )
    return array
