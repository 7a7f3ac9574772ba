import math
from types import SimpleNamespace

import numpy as np
import pytest

from intraday_rl.env import EnvConfig
from intraday_rl.evaluation import (
    CostAwareOraclePolicy,
    EvaluationError,
    MeanReversionPolicy,
    MomentumPolicy,
    OraclePolicy,
    evaluate_policy,
    fit_cost_aware_oracle,
    fit_rule,
    hysteresis_positions,
)


def _stub_env(open_price, closes, bar_index):
    # What a rule policy reads from the env: the session's prices, the bar index and the config.
    session = SimpleNamespace(open=np.array([open_price]), close=np.asarray(closes, dtype=float))
    return SimpleNamespace(session=session, bar_index=bar_index, config=EnvConfig())


def _exposure(action):
    return EnvConfig().position_levels[action]


def test_momentum_follows_the_sign_of_the_past_return_beyond_the_threshold():
    policy = MomentumPolicy(lookback_bars=2, threshold=0.01)
    closes = [100.0, 100.0, 102.0, 100.5, 100.0, 97.0]
    sides = [_exposure(policy.act(None, _stub_env(100.0, closes, t))) for t in range(6)]
    top = max(EnvConfig().position_levels)
    # t=0,1: too few bars; t=2: +2% long; t=3: +0.5% flat; t=4: -1.96% short; t=5: -3.5% short
    assert sides == [0.0, 0.0, top, 0.0, -top, -top]


def test_mean_reversion_fades_the_move_from_the_first_open():
    policy = MeanReversionPolicy(threshold=0.01)
    top = max(EnvConfig().position_levels)
    closes = [100.5, 102.0, 99.5, 98.0]
    sides = [_exposure(policy.act(None, _stub_env(100.0, closes, t))) for t in range(4)]
    assert sides == [0.0, -top, 0.0, top]


@pytest.mark.parametrize("policy", [MomentumPolicy(5, 0.001), MeanReversionPolicy(0.001)])
def test_rules_never_read_a_price_after_the_current_bar(policy):
    rng = np.random.default_rng(0)
    closes = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.002, 60)))
    for t in range(59):
        future_changed = closes.copy()
        future_changed[t + 1 :] *= rng.uniform(0.5, 1.5, 59 - t)
        assert policy.act(None, _stub_env(100.0, closes, t)) == policy.act(
            None, _stub_env(100.0, future_changed, t)
        )


def test_hysteresis_holds_a_position_until_the_signal_fades_below_exit():
    signal = [0.5e-4, 2e-4, 0.8e-4, 0.3e-4, -0.8e-4, -2e-4, -0.6e-4, -0.2e-4, 1.5e-4]
    positions = hysteresis_positions(signal, enter=1e-4, exit=0.5e-4)
    assert positions.tolist() == [0.0, 1.0, 1.0, 0.0, 0.0, -1.0, -1.0, 0.0, 1.0]
    # with exit == enter it is the plain oracle rule
    plain = hysteresis_positions(signal, enter=1e-4, exit=1e-4)
    assert plain.tolist() == [0.0, 1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 1.0]


def test_cost_aware_oracle_without_hysteresis_is_the_oracle(market_env):
    market, env = market_env
    sessions = range(4)
    plain = evaluate_policy(env, OraclePolicy(market, 1e-4), sessions)[0]
    same = evaluate_policy(env, CostAwareOraclePolicy(market, 1e-4, 1e-4), sessions)[0]
    assert same.net_pnl == plain.net_pnl
    assert same.n_trades == plain.n_trades


def test_fitted_cost_aware_oracle_earns_at_least_the_oracle_on_train_sessions(market_env):
    market, env = market_env
    train = range(6)
    fitted = fit_cost_aware_oracle(market, env, train)
    assert 0.0 <= fitted.exit <= fitted.enter
    fitted_pnl = evaluate_policy(env, fitted, train)[0].net_pnl
    assert fitted_pnl >= evaluate_policy(env, OraclePolicy(market), train)[0].net_pnl


def test_fit_rule_picks_the_candidate_with_the_highest_net_pnl(market_env):
    _, env = market_env
    candidates = [MomentumPolicy(30, threshold) for threshold in (0.0, 0.004)]
    best = fit_rule(candidates, env, range(3))
    scores = [evaluate_policy(env, policy, range(3))[0].net_pnl for policy in candidates]
    assert best is candidates[int(np.argmax(scores))]
    with pytest.raises(EvaluationError, match="candidates: expected at least one policy"):
        fit_rule([], env)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: MomentumPolicy(lookback_bars=0), "lookback_bars: expected >= 1, was 0"),
        (lambda: MeanReversionPolicy(threshold=-0.1), "threshold: expected a finite value >= 0"),
        (lambda: CostAwareOraclePolicy(None, 1e-4, 2e-4), r"exit: expected 0 <= exit <= enter"),
        (lambda: CostAwareOraclePolicy(None, math.nan, 0.0), "enter: expected a finite value"),
    ],
)
def test_bad_rule_parameters_are_rejected_naming_them(build, match):
    with pytest.raises(EvaluationError, match=match):
        build()
