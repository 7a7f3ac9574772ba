import math

import numpy as np
import pandas as pd
import pytest
import quantstats as qs
from scipy.stats import norm

from intraday_rl.evaluation import (
    EvaluationError,
    compute_metrics,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    max_drawdown,
    probabilistic_sharpe_ratio,
)

CAPITAL = 100_000.0


@pytest.fixture(scope="module")
def pnl():
    # A year of daily net P&L with a fat left tail, on 100,000 capital.
    rng = np.random.default_rng(7)
    values = rng.normal(60.0, 900.0, 252)
    values[rng.integers(0, 252, 5)] -= 3_000.0
    return values


def _returns_series(pnl):
    return pd.Series(pnl / CAPITAL, index=pd.bdate_range("2024-01-02", periods=len(pnl)))


def _equity_prices(pnl):
    # The account's end-of-day equity, starting capital first, as a quantstats price series.
    equity = np.concatenate([[CAPITAL], CAPITAL + np.cumsum(pnl)])
    return pd.Series(equity, index=pd.bdate_range("2024-01-01", periods=len(equity)))


def test_sharpe_sortino_and_volatility_match_quantstats(pnl):
    metrics = compute_metrics(pnl, CAPITAL)
    returns = _returns_series(pnl)
    assert metrics.sharpe == pytest.approx(qs.stats.sharpe(returns, rf=0.0, periods=252), abs=1e-9)
    assert metrics.sortino == pytest.approx(
        qs.stats.sortino(returns, rf=0.0, periods=252), abs=1e-9
    )
    assert metrics.annual_volatility == pytest.approx(
        qs.stats.volatility(returns, periods=252), abs=1e-9
    )


def test_drawdown_matches_quantstats_on_the_additive_equity_curve(pnl):
    # quantstats compounds a return series; our account chains P&L additively, which is
    # quantstats' max_drawdown of the equity curve given as prices.
    metrics = compute_metrics(pnl, CAPITAL)
    assert metrics.max_drawdown > 0.0
    assert -metrics.max_drawdown == pytest.approx(
        qs.stats.max_drawdown(_equity_prices(pnl)), abs=1e-9
    )
    compounded = qs.stats.max_drawdown(_returns_series(pnl))
    assert abs(-metrics.max_drawdown - compounded) > 1e-6  # the definitions do differ


def test_calmar_is_uncompounded_cagr_over_the_account_drawdown(pnl):
    metrics = compute_metrics(pnl, CAPITAL)
    cagr = qs.stats.cagr(_returns_series(pnl), compounded=False, periods=252)
    assert metrics.annual_return == pytest.approx(cagr, abs=1e-9)
    drawdown = abs(qs.stats.max_drawdown(_equity_prices(pnl)))
    assert metrics.calmar == pytest.approx(cagr / drawdown, abs=1e-9)


def test_drawdown_and_its_duration_by_hand():
    # equity 1100, 1050, 1250, 950, 1000, 1300: worst 950 from the 1250 peak, 2 sessions under it
    depth, duration = max_drawdown([100.0, -50.0, 200.0, -300.0, 50.0, 300.0], 1000.0)
    assert depth == pytest.approx(1 - 950 / 1250)
    assert duration == 2


def test_constant_equity_gives_zeros_and_no_nan():
    metrics = compute_metrics(np.zeros(20), CAPITAL)
    values = metrics.as_dict()
    assert all(math.isfinite(value) for value in values.values())
    assert metrics.sharpe == metrics.sortino == metrics.calmar == 0.0
    assert metrics.max_drawdown == 0.0
    assert metrics.max_drawdown_duration == 0
    assert metrics.hit_rate == 0.0
    assert metrics.psr == metrics.dsr == 0.0


def test_all_losses():
    pnl = np.array([-100.0, -300.0, -50.0, -200.0])
    metrics = compute_metrics(pnl, 10_000.0, n_trades=8)
    assert metrics.hit_rate == 0.0
    assert metrics.net_pnl == -650.0
    assert metrics.total_return == pytest.approx(-0.065)
    assert metrics.max_drawdown == pytest.approx(650.0 / 10_000.0)
    assert metrics.max_drawdown_duration == 4
    assert metrics.sharpe < 0.0
    assert metrics.sortino < 0.0
    assert metrics.calmar < 0.0
    assert metrics.average_trade == pytest.approx(-650.0 / 8)
    assert metrics.psr < 0.05


def test_one_session_one_trade():
    metrics = compute_metrics([250.0], CAPITAL, n_trades=1, traded_notional=[50_000.0])
    assert metrics.average_trade == 250.0
    assert metrics.hit_rate == 1.0
    assert metrics.sharpe == 0.0  # no dispersion from one session
    assert metrics.max_drawdown == 0.0
    assert metrics.turnover == 0.5
    assert metrics.annual_return == pytest.approx(1.0025**252 - 1.0)


def test_turnover_costs_by_kind_and_exposure_are_reported():
    metrics = compute_metrics(
        [10.0, -5.0],
        1_000.0,
        n_trades=4,
        traded_notional=[2_000.0, 4_000.0],
        commission=1.0,
        spread=2.0,
        impact=0.5,
        exposure=[0.4, 0.6],
    )
    assert metrics.turnover == pytest.approx(3.0)
    assert (metrics.commission, metrics.spread, metrics.impact) == (1.0, 2.0, 0.5)
    assert metrics.costs == pytest.approx(3.5)
    assert metrics.exposure == pytest.approx(0.5)


def _hand_psr(returns, benchmark):
    n = returns.size
    sharpe = returns.mean() / returns.std(ddof=1)
    centred = returns - returns.mean()
    m2 = np.mean(centred**2)
    skew = np.mean(centred**3) / m2**1.5
    kurtosis = np.mean(centred**4) / m2**2
    denominator = math.sqrt(1 - skew * sharpe + (kurtosis - 1) / 4 * sharpe**2)
    return norm.cdf((sharpe - benchmark) * math.sqrt(n - 1) / denominator)


def test_probabilistic_sharpe_ratio_by_hand(pnl):
    returns = pnl / CAPITAL
    assert probabilistic_sharpe_ratio(returns) == pytest.approx(_hand_psr(returns, 0.0), abs=1e-12)
    assert probabilistic_sharpe_ratio(returns, 0.05) == pytest.approx(
        _hand_psr(returns, 0.05), abs=1e-12
    )
    assert compute_metrics(pnl, CAPITAL).psr == pytest.approx(_hand_psr(returns, 0.0), abs=1e-12)


def test_deflated_sharpe_ratio_by_hand(pnl):
    returns = pnl / CAPITAL
    n_trials, variance = 25, 0.002
    gamma = 0.5772156649015329
    expected_max = math.sqrt(variance) * (
        (1 - gamma) * norm.ppf(1 - 1 / n_trials) + gamma * norm.ppf(1 - 1 / (n_trials * math.e))
    )
    assert expected_max_sharpe(n_trials, variance) == pytest.approx(expected_max, abs=1e-12)
    dsr = deflated_sharpe_ratio(returns, n_trials, variance)
    assert dsr == pytest.approx(_hand_psr(returns, expected_max), abs=1e-12)
    assert dsr < probabilistic_sharpe_ratio(returns)
    metrics = compute_metrics(pnl, CAPITAL, n_trials=n_trials, trials_sharpe_variance=variance)
    assert metrics.dsr == pytest.approx(dsr, abs=1e-12)


def test_a_single_trial_is_not_deflated(pnl):
    returns = pnl / CAPITAL
    assert deflated_sharpe_ratio(returns, 1, 0.01) == probabilistic_sharpe_ratio(returns)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"daily_pnl": [1.0, float("nan")]},
            "daily_pnl: expected finite values, was nan at index 1",
        ),
        ({"daily_pnl": [[1.0]]}, "daily_pnl: expected a 1-D series"),
        ({"capital": 0.0}, "capital: expected a finite amount > 0, was 0.0"),
        ({"n_trials": 0}, "n_trials: expected >= 1, was 0"),
        ({"trials_sharpe_variance": -1.0}, "trials_sharpe_variance"),
        ({"traded_notional": [1.0]}, r"traded_notional: expected one value per session \(2\)"),
        ({"commission": -1.0}, "commission: expected >= 0, was -1.0"),
    ],
)
def test_bad_input_is_rejected_naming_the_argument(kwargs, match):
    arguments = {"daily_pnl": [1.0, 2.0], "capital": 1_000.0, **kwargs}
    with pytest.raises(EvaluationError, match=match):
        compute_metrics(**arguments)
