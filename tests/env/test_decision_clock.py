"""decision_every and the forecast control variate: same numbers in the scalar and the vec env."""

import numpy as np
import pytest

from intraday_rl.env import EnvConfig, EpisodeBook, IntradayTradingEnv, IntradayVecEnv
from intraday_rl.features import FeatureDef, FeatureSpec, fit_feature_spec


@pytest.fixture(scope="module")
def regime_spec(sessions):
    spec = FeatureSpec(features=(FeatureDef(kind="log_return"), FeatureDef(kind="regime")))
    return fit_feature_spec(spec, sessions)


def _config(spec, **fields):
    return EnvConfig(features=spec, window=2, **fields)


@pytest.mark.parametrize(
    ("every", "beta"), [(1, 1.0), (5, 0.0), (7, 0.5)], ids=["cv", "every5", "every7-cv"]
)
def test_vec_env_matches_scalar_env_with_decision_clock_and_control_variate(
    sessions, regime_spec, every, beta
):
    config = _config(regime_spec, decision_every=every, reward_control_variate=beta)
    book = EpisodeBook(sessions, config.features, config.window)
    n_envs, seed = 3, 11
    vec_env = IntradayVecEnv(book, n_envs, config)
    vec_env.seed(seed)
    scalar = [IntradayTradingEnv(book, config) for _ in range(n_envs)]
    vec_obs = vec_env.reset()
    obs = [env.reset(seed=seed + i)[0] for i, env in enumerate(scalar)]
    np.testing.assert_array_equal(vec_obs, np.stack(obs))
    rng = np.random.default_rng(1)
    for _ in range(60):
        actions = rng.integers(0, 3, n_envs)
        vec_obs, vec_rewards, vec_dones, _ = vec_env.step(actions)
        for i, env in enumerate(scalar):
            ob, reward, terminated, _, _ = env.step(actions[i])
            assert vec_rewards[i] == np.float32(reward)
            assert vec_dones[i] == terminated
            if terminated:
                ob, _ = env.reset()
            np.testing.assert_array_equal(vec_obs[i], ob)


def test_one_step_of_k_bars_equals_k_steps_of_one_bar(sessions, regime_spec):
    slow = IntradayTradingEnv(sessions, _config(regime_spec, reward_control_variate=0.3))
    fast = IntradayTradingEnv(
        sessions, _config(regime_spec, decision_every=4, reward_control_variate=0.3)
    )
    slow.reset(options={"session_index": 2})
    fast.reset(options={"session_index": 2})
    terminated = False
    rng = np.random.default_rng(0)
    while not terminated:
        action = int(rng.integers(0, 3))
        total = 0.0
        for _ in range(4):
            slow_obs, reward, done, _, slow_info = slow.step(action)
            total += float(reward)
            if done:
                break
        fast_obs, fast_reward, terminated, _, fast_info = fast.step(action)
        assert done == terminated
        assert fast_reward == pytest.approx(total, abs=1e-15)
        np.testing.assert_array_equal(fast_obs, slow_obs)
        assert fast_info["equity"] == slow_info["equity"]


def test_control_variate_moves_the_reward_not_the_money(sessions, regime_spec):
    plain = IntradayTradingEnv(sessions, _config(regime_spec))
    shaped = IntradayTradingEnv(sessions, _config(regime_spec, reward_control_variate=1.0))
    rewards = {}
    for name, env in (("plain", plain), ("shaped", shaped)):
        env.reset(options={"session_index": 0})
        total, terminated = 0.0, False
        while not terminated:
            _, reward, terminated, _, info = env.step(2)  # always long: the forecast matters
            total += float(reward)
        rewards[name] = (total, info["equity"])
    assert rewards["plain"][1] == rewards["shaped"][1]  # same fills, same money
    assert rewards["plain"][0] != rewards["shaped"][0]  # a different learning signal


def test_control_variate_without_a_regime_feature_is_refused():
    with pytest.raises(ValueError, match="reward_control_variate: needs a 'regime' feature"):
        EnvConfig(reward_control_variate=0.5)
