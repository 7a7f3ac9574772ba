import numpy as np
import pytest
from stable_baselines3 import DQN
from stable_baselines3.common.vec_env import VecEnv

from intraday_rl.env import EnvConfig, IntradayTradingEnv, IntradayVecEnv
from intraday_rl.market import CostConfig
from intraday_rl.shared.errors import EnvError


@pytest.mark.parametrize(
    "config",
    [
        EnvConfig(),
        EnvConfig(costs=CostConfig(fill_delay_bars=3), min_trade_fraction=0.0),
        EnvConfig(action_type="box", max_exposure=2.0),
    ],
    ids=["discrete", "delay3-nodeadband", "box"],
)
def test_vec_env_matches_n_scalar_envs_step_for_step(book, config):
    n_envs, seed = 5, 123
    vec_env = IntradayVecEnv(book, n_envs, config)
    vec_env.seed(seed)
    scalar_envs = [IntradayTradingEnv(book, config) for _ in range(n_envs)]
    vec_obs = vec_env.reset()
    scalar_obs = [env.reset(seed=seed + i)[0] for i, env in enumerate(scalar_envs)]
    np.testing.assert_array_equal(vec_obs, np.stack(scalar_obs))
    rng = np.random.default_rng(0)
    for _ in range(200):  # > 3 sessions per env: auto-resets included
        if config.action_type == "discrete":
            actions = rng.integers(0, 3, n_envs)
        else:
            actions = rng.uniform(-3, 3, (n_envs, 1)).astype(np.float32)
        vec_obs, vec_rewards, vec_dones, vec_infos = vec_env.step(actions)
        for i, env in enumerate(scalar_envs):
            obs, reward, terminated, _, info = env.step(actions[i])
            assert vec_rewards[i] == np.float32(reward)
            assert vec_dones[i] == terminated
            assert vec_env.costs_paid[i] == info["costs_paid"] or terminated
            if terminated:
                np.testing.assert_array_equal(vec_infos[i]["terminal_observation"], obs)
                assert vec_infos[i]["equity"] == info["equity"]
                assert vec_infos[i]["n_trades"] == info["n_trades"]
                obs, _ = env.reset()
            else:
                assert vec_env.equity[i] == info["equity"]
                assert vec_env.position[i] == info["position"]
            np.testing.assert_array_equal(vec_obs[i], obs)


def test_vec_env_is_an_sb3_vec_env_that_dqn_can_learn_on(book):
    vec_env = IntradayVecEnv(book, 4)
    assert isinstance(vec_env, VecEnv)
    model = DQN("MlpPolicy", vec_env, learning_starts=50, buffer_size=1000, seed=0, device="cpu")
    model.learn(300)
    assert model.num_timesteps >= 300


def test_vec_env_rejects_bad_actions_naming_the_env(book):
    vec_env = IntradayVecEnv(book, 3)
    vec_env.reset()
    with pytest.raises(EnvError, match=r"was 7 \(env 1\)"):
        vec_env.step(np.array([0, 7, 1]))


def test_sequential_vec_env_spreads_sessions_across_envs(book):
    vec_env = IntradayVecEnv(book, 3, EnvConfig(session_order="sequential"))
    vec_env.reset()
    assert vec_env.session_index.tolist() == [0, 1, 2]


def test_vec_env_without_an_observation_table_gives_the_same_observations(sessions, monkeypatch):
    import intraday_rl.env.episodes as book_module

    with_table = IntradayVecEnv(sessions, 3)
    monkeypatch.setattr(book_module, "MAX_OBSERVATION_TABLE_BYTES", 0)
    without_table = IntradayVecEnv(sessions, 3)
    assert without_table.book.stacked.observations is None
    with_table.seed(5)
    without_table.seed(5)
    np.testing.assert_array_equal(with_table.reset(), without_table.reset())
    for actions in np.random.default_rng(1).integers(0, 3, (150, 3)):
        a = with_table.step(actions)
        b = without_table.step(actions)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


def test_vec_env_portfolio_states_match_the_scalar_env(book):
    vec_env = IntradayVecEnv(book, 2, EnvConfig(session_order="sequential"))
    vec_env.reset()
    scalar = IntradayTradingEnv(book, EnvConfig(session_order="sequential"))
    scalar.reset()
    for action in [2, 2, 0, 1, 2]:
        vec_env.step(np.array([action, 1]))
        scalar.step(action)
    assert vec_env.portfolio_state(0) == scalar.portfolio_state()
    for _ in range(60):  # run env 0 to its session end: the terminal state comes in the info
        _, _, dones, infos = vec_env.step(np.array([2, 1]))
        if dones[0]:
            terminal = infos[0]["portfolio_state"]
            assert terminal.position == 0.0
            assert terminal.equity == infos[0]["equity"]
            break
    else:
        raise AssertionError("session did not end")
