import math

import numpy as np
import pytest

from intraday_rl.data import SessionCalendar, SyntheticMarketConfig, generate_market, split_sessions
from intraday_rl.env import EnvConfig, IntradayTradingEnv
from intraday_rl.evaluation import (
    ConstantExposurePolicy,
    EpisodeResult,
    OraclePolicy,
    baseline_policies,
    evaluate_policy,
    summarize,
)


def _result(pnl, drawdown=0.0):
    return EpisodeResult(0, pnl, 1.0, 2, drawdown, pnl / 1000.0)


def test_summary_sharpe_drawdown_and_hit_rate_from_daily_pnl():
    results = [_result(p) for p in (100.0, -50.0, 200.0, -300.0)]
    summary = summarize("x", results, capital=1000.0)
    daily = np.array([0.1, -0.05, 0.2, -0.3])
    assert summary.sharpe == pytest.approx(daily.mean() / daily.std(ddof=1) * math.sqrt(252))
    assert summary.net_pnl == pytest.approx(-50.0)
    assert summary.hit_rate == 0.5
    # chained equity 1100, 1050, 1250, 950: worst fall from the 1250 peak
    assert summary.max_drawdown == pytest.approx(1 - 950 / 1250)


def test_intraday_drawdown_counts_when_worse_than_the_daily_curve():
    summary = summarize("x", [_result(10.0, drawdown=0.07), _result(5.0)], capital=1000.0)
    assert summary.max_drawdown == 0.07


@pytest.fixture(scope="module")
def market_env():
    calendar = SessionCalendar(open_time="09:30", close_time="11:30")
    market = generate_market(SyntheticMarketConfig(n_sessions=20, seed=11, calendar=calendar))
    env = IntradayTradingEnv(
        split_sessions(market.bars, calendar), EnvConfig(session_order="sequential")
    )
    return market, env


def test_buy_and_hold_trades_twice_a_session_and_flat_never(market_env):
    _, env = market_env
    hold, _ = evaluate_policy(env, ConstantExposurePolicy("buy_and_hold", 1.0))
    flat, _ = evaluate_policy(env, ConstantExposurePolicy("flat", 0.0))
    assert hold.n_trades == 2 * env.book.n_sessions
    assert flat.n_trades == 0
    assert flat.net_pnl == 0.0


def test_the_oracle_beats_flat_after_costs(market_env):
    market, env = market_env
    oracle, results = evaluate_policy(env, OraclePolicy(market))
    assert oracle.net_pnl > 0.0
    assert oracle.costs > 0.0
    assert len(results) == env.book.n_sessions


def test_baselines_include_the_oracle_only_for_the_built_in_market(market_env):
    market, _ = market_env
    assert [p.name for p in baseline_policies(market)] == [
        "flat",
        "buy_and_hold",
        "random",
        "oracle",
    ]
    assert [p.name for p in baseline_policies(None)] == ["flat", "buy_and_hold", "random"]
