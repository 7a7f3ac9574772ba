"""Incremental calculators against their numpy batch twins and independent computations."""

import math
from statistics import NormalDist

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from intraday_rl.risk.calculators import (
    EwmaVariance,
    PeakTracker,
    RollingMean,
    RunningSum,
    WindowCounter,
    normal_cvar_multiplier,
    parametric_cvar,
    parametric_var,
)

TOL = 1e-9
EXAMPLES = 1_000

positive = st.floats(min_value=1.0, max_value=1e6, allow_nan=False, allow_infinity=False)
returns = st.floats(min_value=-0.2, max_value=0.2, allow_nan=False, allow_infinity=False)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=TOL, abs_tol=TOL)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(positive, min_size=1, max_size=200))
def test_peak_tracker_drawdown_equals_batch_at_every_step(batch, values):
    tracker = PeakTracker()
    expected = batch.drawdown_series(values)
    for index, value in enumerate(values):
        tracker.update(value)
        assert _close(tracker.drawdown, float(expected[index]))
        assert tracker.peak == max(values[: index + 1])


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    st.lists(returns, min_size=1, max_size=600),
    st.floats(min_value=0.5, max_value=0.999),
    st.floats(min_value=1e-8, max_value=1e-2),
)
def test_ewma_variance_equals_batch_at_every_step(batch, values, lam, initial):
    estimator = EwmaVariance(lam, initial)
    expected = batch.ewma_variance_series(values, lam, initial)
    for index, value in enumerate(values):
        estimator.update(value)
        assert math.isclose(estimator.variance, float(expected[index]), rel_tol=TOL, abs_tol=1e-15)


def test_ewma_volatility_agrees_with_a_direct_weighted_sum():
    rng = np.random.default_rng(4)
    values = rng.normal(0.0, 0.01, 2_000)
    lam, initial = 0.94, 1e-4
    estimator = EwmaVariance(lam, initial)
    for value in values:
        estimator.update(float(value))
    weights = (1 - lam) * lam ** np.arange(values.size - 1, -1, -1)
    direct = lam**values.size * initial + float(np.sum(weights * values**2))
    assert math.isclose(estimator.variance, direct, rel_tol=TOL)
    # A long stationary series: the EWMA volatility is near the true one.
    assert abs(estimator.volatility - 0.01) < 0.004


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=5_000), min_size=1, max_size=200),
    st.integers(min_value=1, max_value=2_000),
)
def test_window_counter_equals_batch(batch, gaps, window):
    times = np.cumsum(gaps).tolist()
    counter = WindowCounter(window)
    expected = batch.window_counts(times, window)
    for index, now in enumerate(times):
        counter.record(now)
        assert counter.count(now) == int(expected[index])


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(positive, min_size=1, max_size=300), st.integers(min_value=1, max_value=40))
def test_rolling_mean_equals_batch(batch, values, size):
    rolling = RollingMean(size)
    expected = batch.rolling_mean_series(values, size)
    for index, value in enumerate(values):
        rolling.push(value)
        assert math.isclose(rolling.mean, float(expected[index]), rel_tol=TOL)


def test_rolling_mean_resize_keeps_the_latest_values():
    rolling = RollingMean(5)
    for value in range(1, 9):
        rolling.push(float(value))
    rolling.resize(3)
    assert rolling.mean == 7.0
    rolling.push(9.0)
    assert rolling.mean == 8.0


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(st.floats(min_value=-1e9, max_value=1e9), min_size=1, max_size=300))
def test_running_sum_equals_math_fsum(values):
    total = RunningSum()
    for value in values:
        total.add(value)
    assert math.isclose(total.value, math.fsum(values), rel_tol=TOL, abs_tol=1e-6)


def test_turnover_and_daily_loss_batch_twins(
    batch,
):
    quantities, prices = [100.0, -50.0, 25.0], [10.0, 12.0, 8.0]
    total = RunningSum()
    for quantity, price in zip(quantities, prices, strict=True):
        total.add(abs(quantity) * price)
    assert math.isclose(
        total.value / 1_000.0, float(batch.turnover_series(quantities, prices, 1_000.0)[-1])
    )
    assert batch.daily_loss_series([100.0, 97.0], 100.0, 100.0).tolist() == [0.0, 0.03]


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    st.floats(min_value=1e-5, max_value=0.05),
    st.floats(min_value=-1e7, max_value=1e7),
    st.floats(min_value=0.9, max_value=0.999),
    st.integers(min_value=1, max_value=500),
)
def test_parametric_var_and_cvar_agree_with_an_independent_normal(
    batch, sigma, exposure, confidence, horizon
):
    normal = NormalDist(0.0, sigma * math.sqrt(horizon) * abs(exposure) or 1e-300)
    expected_var = -normal.inv_cdf(1.0 - confidence) if exposure else 0.0
    assert math.isclose(
        parametric_var(sigma, exposure, confidence, horizon),
        expected_var,
        rel_tol=1e-7,
        abs_tol=1e-9,
    )
    series = batch.parametric_var_series(
        [sigma], [exposure], NormalDist().inv_cdf(confidence), horizon
    )
    assert math.isclose(float(series[0]), expected_var, rel_tol=1e-7, abs_tol=1e-9)
    cvar = parametric_cvar(sigma, exposure, confidence, horizon)
    assert cvar >= parametric_var(sigma, exposure, confidence, horizon)


def test_cvar_multiplier_matches_a_monte_carlo_tail_mean():
    rng = np.random.default_rng(0)
    draws = rng.standard_normal(2_000_000)
    tail = np.sort(draws)[-20_000:]  # the worst 1%
    assert abs(float(tail.mean()) - normal_cvar_multiplier(0.99)) < 0.02


def test_engine_drawdown_var_and_volatility_match_batch_computations(
    batch,
):
    from intraday_rl.risk import Bar, Fill, RiskAgentV2, load_default_risk_policy

    policy = load_default_risk_policy()
    rng = np.random.default_rng(11)
    prices = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.002, 300))
    clock_ns = [1_700_000_000_000_000_000]
    engine = RiskAgentV2(policy, clock=lambda: clock_ns[0])
    engine.update(Bar(clock_ns[0], "SYN", 100.0, 100.0, 100.0, 100.0, 1e6))
    engine.update(Fill(clock_ns[0], "SYN", 500.0, 100.0))
    equity = []
    for price in prices:
        clock_ns[0] += 60_000_000_000
        engine.update(Bar(clock_ns[0], "SYN", price, price, price, price, 1e6))
        equity.append(100_000.0 - 50_000.0 + 500.0 * price)
    metrics = engine.metrics
    full_equity = np.concatenate(([100_000.0], equity))
    assert math.isclose(
        metrics["risk/drawdown"], float(batch.drawdown_series(full_equity)[-1]), abs_tol=TOL
    )
    bar_returns = np.diff(np.concatenate(([100.0], prices))) / np.concatenate(
        ([100.0], prices[:-1])
    )
    prior = policy.models.initial_volatility**2 / policy.models.bars_per_year
    variance = float(batch.ewma_variance_series(bar_returns, policy.models.ewma_lambda, prior)[-1])
    annualized = math.sqrt(variance * policy.models.bars_per_year)
    assert math.isclose(metrics["risk/volatility"], annualized, rel_tol=TOL)
    z = NormalDist().inv_cdf(policy.models.var_confidence)
    var = batch.parametric_var_series(
        [math.sqrt(variance)], [500.0 * prices[-1]], z, policy.models.var_horizon_bars
    )
    assert math.isclose(metrics["risk/var"], float(var[0]) / equity[-1], rel_tol=TOL)
