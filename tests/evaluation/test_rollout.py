import math

import numpy as np
import pytest

from intraday_rl.evaluation import (
    ACCOUNT_FLOOR_FRACTION,
    ConstantExposurePolicy,
    EpisodeResult,
    EvaluationError,
    OraclePolicy,
    RandomPolicy,
    apply_account_floor,
    baseline_policies,
    daily_pnl,
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
    assert not summary.floor_hit
    assert summary.n_sessions_after_floor == 0


def test_intraday_drawdown_counts_when_worse_than_the_daily_curve():
    summary = summarize("x", [_result(10.0, drawdown=0.07), _result(5.0)], capital=1000.0)
    assert summary.max_drawdown == 0.07


def test_the_account_is_liquidated_at_the_floor_and_later_sessions_count_as_flat():
    # equity 800, 450 (<= the 500 floor): the last two sessions are not traded
    results = [_result(p) for p in (-200.0, -350.0, 900.0, -900.0)]
    summary = summarize("x", results, capital=1000.0)
    assert ACCOUNT_FLOOR_FRACTION == 0.5
    assert summary.floor_hit
    assert summary.n_sessions_after_floor == 2
    assert summary.n_sessions == 4
    assert summary.net_pnl == pytest.approx(-550.0)
    assert summary.n_trades == 4
    assert summary.max_drawdown == pytest.approx(0.55)
    assert summary.hit_rate == 0.0
    # a lower floor lets the account trade on
    deeper = summarize("x", results, capital=1000.0, floor_fraction=0.2)
    assert not deeper.floor_hit
    assert deeper.net_pnl == pytest.approx(-550.0)
    assert deeper.max_drawdown == pytest.approx(1 - 450 / 1350)  # 800, 450, 1350, 450


def test_apply_account_floor_zeroes_only_the_sessions_after_liquidation():
    pnl, session = apply_account_floor([-300.0, -200.0, 50.0], 1000.0)
    assert session == 1  # equity 500 reaches the floor exactly
    assert pnl.tolist() == [-300.0, -200.0, 0.0]
    assert apply_account_floor([10.0, -5.0], 1000.0)[1] is None
    with pytest.raises(EvaluationError, match=r"floor_fraction: expected a value in \[0, 1\)"):
        apply_account_floor([1.0], 1000.0, floor_fraction=1.0)


def test_as_dict_keeps_the_summary_fields_and_adds_the_metrics():
    row = summarize("x", [_result(10.0), _result(-5.0)], capital=1000.0).as_dict()
    for key in ("policy", "n_sessions", "net_pnl", "costs", "n_trades", "sharpe"):
        assert key in row
    for key in ("max_drawdown", "hit_rate", "floor_hit", "n_sessions_after_floor"):
        assert key in row
    for key in ("sortino", "calmar", "turnover", "commission", "spread", "impact", "psr", "dsr"):
        assert key in row
    assert "metrics" not in row


def test_buy_and_hold_trades_twice_a_session_and_flat_never(market_env):
    _, env = market_env
    hold, _ = evaluate_policy(env, ConstantExposurePolicy("buy_and_hold", 1.0))
    flat, _ = evaluate_policy(env, ConstantExposurePolicy("flat", 0.0))
    assert hold.n_trades == 2 * env.book.n_sessions
    assert flat.n_trades == 0
    assert flat.net_pnl == 0.0


def test_sessions_report_turnover_costs_by_kind_and_exposure(market_env):
    _, env = market_env
    summary, results = evaluate_policy(env, ConstantExposurePolicy("buy_and_hold", 1.0))
    capital = env.config.initial_capital
    for result in results:
        parts = result.commission + result.spread + result.impact
        assert parts == pytest.approx(result.costs, rel=1e-12)
        assert result.spread > result.commission > 0.0
        # bought ~capital at the open, sold it at the close
        assert result.traded_notional == pytest.approx(2 * capital, rel=0.02)
        assert 0.9 < result.mean_abs_exposure <= 1.05
    metrics = summary.metrics
    assert metrics is not None
    assert metrics.turnover == pytest.approx(2.0, rel=0.02)
    assert metrics.costs == pytest.approx(summary.costs, rel=1e-12)
    assert daily_pnl(results).tolist() == [result.net_pnl for result in results]


def test_the_env_reports_the_sessions_traded_notional_and_cost_parts(market_env):
    _, env = market_env
    env.reset(options={"session_index": 0})
    policy = RandomPolicy(seed=4)
    observation, terminated = None, False
    notional = 0.0
    while not terminated:
        before = env.fill_totals["traded_notional"]
        observation, _, terminated, _, info = env.step(policy.act(observation, env))
        assert (env.fill_totals["traded_notional"] > before) == info["trade"]
        notional = env.fill_totals["traded_notional"]
    totals = env.fill_totals
    paid = totals["commission"] + totals["spread"] + totals["impact"]
    assert paid == pytest.approx(info["costs_paid"], rel=1e-12)
    assert notional > 0.0
    env.reset(options={"session_index": 1})
    assert env.fill_totals["traded_notional"] == 0.0


def test_the_random_baseline_stops_at_the_floor_and_never_loses_the_whole_account(market_env):
    _, env = market_env
    summary, results = evaluate_policy(env, RandomPolicy(seed=0))
    assert summary.floor_hit
    assert summary.n_sessions_after_floor > 0
    assert summary.max_drawdown < 1.0
    assert summary.net_pnl > -env.config.initial_capital
    skipped = results[-summary.n_sessions_after_floor :]
    assert all(not result.played and result.net_pnl == 0.0 for result in skipped)


def test_the_oracle_beats_flat_after_costs(market_env):
    market, env = market_env
    oracle, results = evaluate_policy(env, OraclePolicy(market))
    assert oracle.net_pnl > 0.0
    assert oracle.costs > 0.0
    assert len(results) == env.book.n_sessions


def test_baselines_include_the_rules_and_the_oracle_only_for_the_built_in_market(market_env):
    market, _ = market_env
    rules = ["flat", "buy_and_hold", "random", "momentum", "mean_reversion"]
    assert [p.name for p in baseline_policies(market)] == [*rules, "oracle"]
    assert [p.name for p in baseline_policies(None)] == rules
