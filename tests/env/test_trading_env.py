import dataclasses

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from intraday_rl.env import EnvConfig, IntradayTradingEnv
from intraday_rl.market import CostConfig, trade_cost
from intraday_rl.shared.errors import EnvError


def test_discrete_env_passes_gymnasium_and_sb3_checkers(book):
    check_env(IntradayTradingEnv(book), skip_render_check=True)
    sb3_check_env(IntradayTradingEnv(book), warn=True)


def test_box_env_passes_gymnasium_and_sb3_checkers(sessions):
    config = EnvConfig(action_type="box")
    check_env(IntradayTradingEnv(sessions, config), skip_render_check=True)
    sb3_check_env(IntradayTradingEnv(sessions, config), warn=True)


def test_spaces_follow_layout_and_levels(book):
    env = IntradayTradingEnv(book)
    assert env.observation_space.shape == (book.layout.obs_dim,)
    assert env.observation_space.dtype == np.float32
    assert env.action_space == gym.spaces.Discrete(3)


def _play(env, actions, session_index=0):
    observation, info = env.reset(options={"session_index": session_index})
    history = [(observation, 0.0, info)]
    for action in actions:
        observation, reward, terminated, _, info = env.step(action)
        history.append((observation, reward, info))
        if terminated:
            break
    return history, terminated


@settings(max_examples=60, deadline=None)
@given(
    actions=st.lists(st.integers(0, 2), min_size=60, max_size=60),
    session_index=st.integers(0, 7),
    delay=st.integers(1, 3),
    deadband=st.sampled_from([0.0, 0.05, 0.5]),
)
def test_accounting_invariants_hold_for_any_action_sequence(
    book, actions, session_index, delay, deadband
):
    config = EnvConfig(costs=CostConfig(fill_delay_bars=delay), min_trade_fraction=deadband)
    env = IntradayTradingEnv(book, config)
    history, terminated = _play(env, actions, session_index)
    assert terminated  # 60 actions cover a 60-bar session
    capital = config.initial_capital
    previous_costs = 0.0
    for _, _, info in history:
        assert info["equity"] == pytest.approx(info["cash"] + info["position"] * info["price"])
        assert info["costs"] >= 0.0
        assert info["costs_paid"] >= previous_costs
        assert 0.0 <= info["drawdown"] < 1.0
        previous_costs = info["costs_paid"]
    final = history[-1][2]
    assert final["position"] == 0.0  # flat at the session end
    assert final["equity"] == pytest.approx(final["cash"])
    reward_sum = sum(reward for _, reward, _ in history)
    assert reward_sum * capital == pytest.approx(final["equity"] - capital, rel=1e-9, abs=1e-6)
    assert final["costs_paid"] == pytest.approx(sum(info["costs"] for _, _, info in history))


def test_order_at_close_t_fills_at_next_open_with_costs(book):
    env = IntradayTradingEnv(book)
    session = book.sessions[2]
    env.reset(options={"session_index": 2})
    _, _, _, _, info = env.step(2)  # go long at the close of bar 0
    shares = np.trunc(env.config.initial_capital / session.close[0])
    expected_cost = trade_cost(
        shares, session.open[1], max(session.volume[1], 1.0), env.config.costs
    )
    assert info["position"] == shares
    assert info["trade"]
    assert info["costs"] == pytest.approx(expected_cost)
    assert info["cash"] == pytest.approx(
        env.config.initial_capital - shares * session.open[1] - expected_cost
    )


def test_fill_delay_of_two_bars_fills_at_the_open_two_bars_later(book):
    env = IntradayTradingEnv(book, EnvConfig(costs=CostConfig(fill_delay_bars=2)))
    session = book.sessions[1]
    env.reset(options={"session_index": 1})
    _, _, _, _, info = env.step(0)  # short at the close of bar 0
    assert info["position"] == 0.0
    assert not info["trade"]
    _, _, _, _, info = env.step(0)
    shares = -np.trunc(env.config.initial_capital / session.close[0])
    assert info["position"] == shares
    cost = trade_cost(shares, session.open[2], max(session.volume[2], 1.0), env.config.costs)
    assert info["cash"] == pytest.approx(
        env.config.initial_capital - shares * session.open[2] - cost
    )


def test_repeating_an_action_does_not_trade_again_inside_the_deadband(book):
    env = IntradayTradingEnv(book)
    history, _ = _play(env, [2] * 59, session_index=4)
    n_trades = history[-1][2]["n_trades"]
    assert n_trades == 2  # the entry and the forced close


def test_zero_costs_and_buy_and_hold_earn_the_open_to_close_move(book):
    config = EnvConfig(costs=CostConfig(commission_bps=0, half_spread_bps=0, impact_bps=0))
    env = IntradayTradingEnv(book, config)
    session = book.sessions[5]
    history, _ = _play(env, [2] * 59, session_index=5)
    shares = np.trunc(config.initial_capital / session.close[0])
    expected = shares * (session.close[-1] - session.open[1])
    assert history[-1][2]["equity"] - config.initial_capital == pytest.approx(expected)


def _perturb_after(session, t, factor):
    def scaled(values):
        out = values.copy()
        out[t + 1 :] *= factor
        return out

    return dataclasses.replace(
        session,
        open=scaled(session.open),
        high=scaled(session.high),
        low=scaled(session.low),
        close=scaled(session.close),
        volume=scaled(session.volume),
    )


@pytest.mark.parametrize("t", [0, 7, 30, 57])
def test_changing_future_bars_changes_no_observation_or_reward_up_to_t(sessions, t):
    actions = np.random.default_rng(t).integers(0, 3, 59).tolist()
    original, _ = _play(IntradayTradingEnv([sessions[3]]), actions)
    changed, _ = _play(IntradayTradingEnv([_perturb_after(sessions[3], t, 1.07)]), actions)
    for step in range(t + 1):
        np.testing.assert_array_equal(original[step][0], changed[step][0])
        assert original[step][1] == changed[step][1]
    # The perturbation is visible after t (so this test can fail).
    assert any(
        not np.array_equal(a[0], b[0])
        for a, b in zip(original[t + 1 :], changed[t + 1 :], strict=True)
    )


def test_out_of_range_and_non_finite_actions_are_rejected(book):
    env = IntradayTradingEnv(book)
    env.reset(seed=0)
    with pytest.raises(EnvError, match=r"action: expected 0\.\.2, was 3"):
        env.step(3)
    with pytest.raises(EnvError, match="was -1"):
        env.step(-1)
    box = IntradayTradingEnv(book, EnvConfig(action_type="box"))
    box.reset(seed=0)
    with pytest.raises(EnvError, match="finite target exposure"):
        box.step(np.array([np.nan], dtype=np.float32))


def test_step_after_the_end_asks_for_reset(book):
    env = IntradayTradingEnv(book)
    _play(env, [1] * 59)
    with pytest.raises(EnvError, match="call reset"):
        env.step(1)


def test_unknown_session_index_is_rejected(book):
    with pytest.raises(EnvError, match=r"session_index: expected 0\.\.7, was 8"):
        IntradayTradingEnv(book).reset(options={"session_index": 8})


def test_too_short_session_is_rejected(sessions):
    one_bar = dataclasses.replace(
        sessions[0],
        ts_ns=sessions[0].ts_ns[:1],
        open=sessions[0].open[:1],
        high=sessions[0].high[:1],
        low=sessions[0].low[:1],
        close=sessions[0].close[:1],
        volume=sessions[0].volume[:1],
    )
    with pytest.raises(EnvError, match="at least 2 bars"):
        IntradayTradingEnv([one_bar])


def test_same_seed_draws_the_same_sessions(book):
    def draws(seed):
        env = IntradayTradingEnv(book)
        env.reset(seed=seed)
        picks = [env.session.date]
        for _ in range(5):
            env.reset()
            picks.append(env.session.date)
        return picks

    assert draws(11) == draws(11)
    assert len(set(draws(11) + draws(12))) > 1


def test_sequential_order_visits_every_session_in_order(book):
    env = IntradayTradingEnv(book, EnvConfig(session_order="sequential"))
    seen = []
    for _ in range(book.n_sessions + 1):
        env.reset()
        seen.append(env.session.date)
    assert seen == [s.date for s in book.sessions] + [book.sessions[0].date]


def test_box_action_is_clipped_to_max_exposure(book):
    env = IntradayTradingEnv(book, EnvConfig(action_type="box", max_exposure=0.5))
    env.reset(options={"session_index": 0})
    _, _, _, _, info = env.step(np.array([3.0], dtype=np.float32))
    exposure = info["position"] * info["price"] / info["equity"]
    assert 0.45 < exposure <= 0.55


def test_portfolio_state_matches_info(book):
    env = IntradayTradingEnv(book)
    env.reset(options={"session_index": 0})
    _, _, _, _, info = env.step(2)
    state = env.portfolio_state()
    assert state.equity == pytest.approx(info["equity"])
    assert state.position == info["position"]
    assert state.realized_pnl + state.unrealized_pnl - state.costs_paid == pytest.approx(
        state.equity - state.initial_capital
    )
