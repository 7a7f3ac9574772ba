"""How sure are we? Stationary-bootstrap confidence intervals and beats-the-baseline tests.

Every resampling here is ``arch``'s stationary bootstrap (Politis & Romano, 1994) of the daily
(per-session) net P&L, which keeps the serial dependence of sessions within blocks of random,
geometrically distributed length. The expected block length is Politis & White's (2004) optimal one
(``arch.bootstrap.optimal_block_length``, as corrected by Patton, Politis & White, 2009), rounded
and clipped to [1, n]; when it is undefined (a constant series) it is ``round(n ** (1/3))``.
Intervals are percentile intervals. Each call seeds its own generator, so the same inputs and
``seed`` give the same numbers.

The beats-the-baseline question is answered two ways by :func:`compare_to_baselines`:

- paired tests: for each baseline, the stationary bootstrap of the daily differences
  ``agent - baseline`` gives a CI of the mean difference and the one-sided p-value of
  ``H0: mean difference <= 0``. The agent beats *every* baseline at level ``alpha`` when the
  largest of these p-values is below ``alpha`` (an intersection-union test, which needs no
  multiple-testing correction);
- Hansen's (2005) test of Superior Predictive Ability (``arch.bootstrap.SPA``) with the agent as the
  benchmark and the baselines as the alternatives, losses = −daily net P&L: a small p-value says
  that some baseline is significantly better than the agent, allowing for the number of baselines.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from arch.bootstrap import SPA, StationaryBootstrap, optimal_block_length

from intraday_rl.evaluation.metrics import (
    TRADING_DAYS_PER_YEAR,
    EvaluationError,
    check_series,
    sharpe_ratio,
)
from intraday_rl.shared.arrays import FloatArray

DEFAULT_LEVEL = 0.95
DEFAULT_N_RESAMPLES = 2_000
MIN_SESSIONS = 2
MIN_SESSIONS_FOR_OPTIMAL_BLOCK = 20


@dataclass(frozen=True, slots=True)
class ConfidenceInterval:
    """A bootstrap percentile interval around a statistic's estimate on the original series.

    Attributes:
        low: Lower bound, in the statistic's units.
        high: Upper bound.
        estimate: The statistic on the original series.
        level: Coverage (0.95 = 95%).
        n_resamples: Bootstrap resamples drawn.
        block_length: Expected block length of the stationary bootstrap, sessions.
    """

    low: float
    high: float
    estimate: float
    level: float
    n_resamples: int
    block_length: int


@dataclass(frozen=True, slots=True)
class PairedTest:
    """Agent vs one baseline on the same sessions: daily net P&L differences (agent - baseline).

    Attributes:
        baseline: The baseline's name.
        mean_difference: Interval of the mean daily difference, account currency per session.
        p_value: One-sided bootstrap p-value of ``H0: mean difference <= 0``.
    """

    baseline: str
    mean_difference: ConfidenceInterval
    p_value: float


@dataclass(frozen=True, slots=True)
class SPAResult:
    """Hansen's SPA test of ``H0: no alternative's mean daily net P&L beats the benchmark's``.

    Attributes:
        benchmark: The benchmark's name.
        alternatives: The alternatives' names, in order.
        p_value: Hansen's consistent p-value.
        p_value_lower: The lower (liberal) p-value.
        p_value_upper: The upper (conservative, White's Reality Check) p-value.
        n_resamples: Bootstrap resamples drawn.
        block_length: Expected block length of the stationary bootstrap, sessions.
    """

    benchmark: str
    alternatives: tuple[str, ...]
    p_value: float
    p_value_lower: float
    p_value_upper: float
    n_resamples: int
    block_length: int


@dataclass(frozen=True, slots=True)
class BaselineComparison:
    """Does the agent beat the baselines? (see the module docstring for the tests).

    Attributes:
        best_baseline: The baseline with the highest mean daily net P&L.
        versus_best: The paired test against it.
        versus_each: The paired test against every baseline, in the given order.
        p_value_beats_all: Largest paired p-value: ``H0: some baseline is at least as good``.
        spa: SPA with the agent as benchmark: small p = some baseline beats the agent.
    """

    best_baseline: str
    versus_best: PairedTest
    versus_each: tuple[PairedTest, ...]
    p_value_beats_all: float
    spa: SPAResult

    def beats_baselines(self, alpha: float = 0.05) -> bool:
        """Return True when the agent beats every baseline at significance level ``alpha``."""
        return self.p_value_beats_all < alpha


def block_length(values: npt.ArrayLike) -> int:
    """Return the stationary bootstrap's expected block length for ``values`` (sessions, >= 1).

    Raises:
        EvaluationError: If ``values`` is not a 1-D finite series of at least 2 sessions.
    """
    series = _checked(values, "values")
    n = series.size
    optimal = float("nan")
    # arch's estimator needs a few dozen sessions; shorter series take the n^(1/3) rule.
    if n >= MIN_SESSIONS_FOR_OPTIMAL_BLOCK and float(series.std()) > 0.0:
        with np.errstate(divide="ignore", invalid="ignore"):  # arch on short, flat stretches
            optimal = float(optimal_block_length(series)["stationary"].iloc[0])
    if not math.isfinite(optimal):
        optimal = n ** (1.0 / 3.0)
    return min(max(round(optimal), 1), n)


def bootstrap_mean_ci(
    daily_pnl: npt.ArrayLike,
    *,
    level: float = DEFAULT_LEVEL,
    n_resamples: int = DEFAULT_N_RESAMPLES,
    seed: int = 0,
    block_length_sessions: int | None = None,
) -> ConfidenceInterval:
    """Return a CI of the mean daily net P&L (account currency per session).

    Args:
        daily_pnl: Net P&L per session (1-D, finite, at least 2 sessions).
        level: Coverage in (0, 1).
        n_resamples: Bootstrap resamples (>= 1).
        seed: Seed of the resampling generator.
        block_length_sessions: Expected block length; :func:`block_length` when omitted.

    Raises:
        EvaluationError: On a short or non-finite series, or a bad level, count or block length.
    """
    series = _checked(daily_pnl, "daily_pnl")
    return _interval(series, _mean, level, n_resamples, seed, block_length_sessions)[0]


def bootstrap_sharpe_ci(
    daily_pnl: npt.ArrayLike,
    *,
    level: float = DEFAULT_LEVEL,
    n_resamples: int = DEFAULT_N_RESAMPLES,
    seed: int = 0,
    block_length_sessions: int | None = None,
    periods_per_year: int = TRADING_DAYS_PER_YEAR,
) -> ConfidenceInterval:
    """Return a CI of the annualized Sharpe of the daily net P&L (as ``metrics.sharpe_ratio``).

    The Sharpe does not depend on the capital, so P&L and returns give the same interval.

    Raises:
        EvaluationError: As :func:`bootstrap_mean_ci`.
    """
    series = _checked(daily_pnl, "daily_pnl")

    def statistic(values: FloatArray) -> float:
        return sharpe_ratio(values, periods_per_year)

    return _interval(series, statistic, level, n_resamples, seed, block_length_sessions)[0]


def paired_bootstrap_test(
    agent_pnl: npt.ArrayLike,
    baseline_pnl: npt.ArrayLike,
    *,
    baseline: str = "baseline",
    level: float = DEFAULT_LEVEL,
    n_resamples: int = DEFAULT_N_RESAMPLES,
    seed: int = 0,
    block_length_sessions: int | None = None,
) -> PairedTest:
    """Test ``H0: mean(agent - baseline) <= 0`` on the same sessions' daily net P&L.

    The p-value is ``(1 + #{b : mean*_b - mean >= mean}) / (1 + B)`` over the ``B`` resampled
    means ``mean*_b`` of the differences, centred on their observed mean.

    Raises:
        EvaluationError: If the series differ in length, or as :func:`bootstrap_mean_ci`.
    """
    agent = _checked(agent_pnl, "agent_pnl")
    other = _checked(baseline_pnl, "baseline_pnl")
    if agent.size != other.size:
        raise EvaluationError(
            f"baseline_pnl: expected {agent.size} sessions like agent_pnl, was {other.size}"
        )
    differences = agent - other
    interval, resampled = _interval(
        differences, _mean, level, n_resamples, seed, block_length_sessions
    )
    observed = interval.estimate
    exceed = int(np.count_nonzero(resampled - observed >= observed))
    return PairedTest(baseline, interval, (1 + exceed) / (1 + resampled.size))


def spa_test(
    benchmark_pnl: npt.ArrayLike,
    alternatives: Mapping[str, npt.ArrayLike],
    *,
    benchmark: str = "benchmark",
    n_resamples: int = DEFAULT_N_RESAMPLES,
    seed: int = 0,
    block_length_sessions: int | None = None,
) -> SPAResult:
    """Run Hansen's SPA: does any alternative beat the benchmark's mean daily net P&L?

    Raises:
        EvaluationError: If ``alternatives`` is empty, a series differs in length from the
            benchmark's, or as :func:`bootstrap_mean_ci`.
    """
    reference = _checked(benchmark_pnl, "benchmark_pnl")
    if not alternatives:
        raise EvaluationError("alternatives: expected at least one series, was none")
    columns = [
        _aligned(values, f"alternatives[{name!r}]", reference.size)
        for name, values in alternatives.items()
    ]
    models = np.column_stack(columns)
    _check_resampling(DEFAULT_LEVEL, n_resamples)
    block = _block(models.mean(axis=1) - reference, block_length_sessions)
    spa = SPA(
        -reference, -models, block_size=block, reps=n_resamples, seed=np.random.default_rng(seed)
    )
    spa.compute()
    p_values = spa.pvalues
    return SPAResult(
        benchmark=benchmark,
        alternatives=tuple(alternatives),
        p_value=float(p_values["consistent"]),
        p_value_lower=float(p_values["lower"]),
        p_value_upper=float(p_values["upper"]),
        n_resamples=n_resamples,
        block_length=block,
    )


def compare_to_baselines(
    agent_pnl: npt.ArrayLike,
    baselines: Mapping[str, npt.ArrayLike],
    *,
    level: float = DEFAULT_LEVEL,
    n_resamples: int = DEFAULT_N_RESAMPLES,
    seed: int = 0,
) -> BaselineComparison:
    """Test whether the agent's daily net P&L beats each baseline's on the same sessions.

    Raises:
        EvaluationError: If ``baselines`` is empty, lengths differ, or as
            :func:`paired_bootstrap_test`.
    """
    if not baselines:
        raise EvaluationError("baselines: expected at least one series, was none")
    agent = _checked(agent_pnl, "agent_pnl")
    tests = tuple(
        paired_bootstrap_test(
            agent,
            _aligned(values, f"baselines[{name!r}]", agent.size),
            baseline=name,
            level=level,
            n_resamples=n_resamples,
            seed=seed,
        )
        for name, values in baselines.items()
    )
    means = [float(np.mean(check_series(values, name))) for name, values in baselines.items()]
    best = int(np.argmax(means))
    spa = spa_test(agent, baselines, benchmark="agent", n_resamples=n_resamples, seed=seed)
    return BaselineComparison(
        best_baseline=tests[best].baseline,
        versus_best=tests[best],
        versus_each=tests,
        p_value_beats_all=max(test.p_value for test in tests),
        spa=spa,
    )


def _interval(
    series: FloatArray,
    statistic: Callable[[FloatArray], float],
    level: float,
    n_resamples: int,
    seed: int,
    block_length_sessions: int | None,
) -> tuple[ConfidenceInterval, FloatArray]:
    # Percentile interval of ``statistic`` over stationary-bootstrap resamples of ``series``.
    _check_resampling(level, n_resamples)
    block = _block(series, block_length_sessions)
    bootstrap = StationaryBootstrap(block, series, seed=np.random.default_rng(seed))

    def resample_statistic(values: FloatArray) -> FloatArray:
        return np.array([statistic(values)])

    resampled = np.asarray(bootstrap.apply(resample_statistic, n_resamples), dtype=np.float64)
    resampled = resampled.ravel()
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(resampled, [tail, 1.0 - tail])
    interval = ConfidenceInterval(
        float(low), float(high), statistic(series), level, n_resamples, block
    )
    return interval, resampled


def _mean(values: FloatArray) -> float:
    return float(np.mean(values))


def _block(series: FloatArray, requested: int | None) -> int:
    if requested is None:
        return block_length(series)
    if not 1 <= requested <= series.size:
        raise EvaluationError(
            f"block_length_sessions: expected 1..{series.size} (the sessions), was {requested}"
        )
    return requested


def _checked(values: npt.ArrayLike, name: str) -> FloatArray:
    series = check_series(values, name)
    if series.size < MIN_SESSIONS:
        raise EvaluationError(
            f"{name}: expected at least {MIN_SESSIONS} sessions to resample, was {series.size}"
        )
    return series


def _aligned(values: npt.ArrayLike, name: str, n_sessions: int) -> FloatArray:
    series = check_series(values, name)
    if series.size != n_sessions:
        raise EvaluationError(f"{name}: expected {n_sessions} sessions, was {series.size}")
    return series


def _check_resampling(level: float, n_resamples: int) -> None:
    if not 0.0 < level < 1.0:
        raise EvaluationError(f"level: expected a coverage in (0, 1), was {level}")
    if n_resamples < 1:
        raise EvaluationError(f"n_resamples: expected >= 1, was {n_resamples}")
