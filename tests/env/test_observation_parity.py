"""Execution's observation path (ObservationStream) equals the env's on every bar of a session."""

import numpy as np
import pytest

from intraday_rl.env import EnvConfig, IntradayTradingEnv
from intraday_rl.features import FeatureDef, FeatureSpec, ObservationStream, fit_feature_spec
from intraday_rl.features.layout import state_fields
from intraday_rl.market import CostConfig

N_PORTFOLIO = 4


@pytest.fixture(scope="module")
def regime_config(sessions):
    spec = FeatureSpec(features=(*FeatureSpec.default().features, FeatureDef(kind="regime")))
    return EnvConfig(
        features=fit_feature_spec(spec, sessions[:6]),
        window=5,
        costs=CostConfig(fill_delay_bars=2),
        session_order="sequential",
    )


def _trading_action(t: int, rng: np.random.Generator) -> int:
    # Holds a level for a few bars, then switches: long, short and flat spells with P&L.
    return int(rng.integers(3)) if t % 6 == 0 else -1


def _run_session(env, stream, session, rng):
    """Step the env through one session; return (env obs, stream obs) for every bar."""
    env_obs, stream_obs = [], []
    obs, _ = env.reset(options={"session_index": env.book.sessions.index(session)})
    stream.reset(session.open_ns, session.close_ns, session.bar_ns)
    action = 1
    for t in range(session.n_bars):
        stream.update(
            session.ts_ns[t],
            session.open[t],
            session.high[t],
            session.low[t],
            session.close[t],
            session.volume[t],
        )
        env_obs.append(obs)
        stream_obs.append(stream.observation(env.portfolio_state()))
        if t < session.n_bars - 1:
            choice = _trading_action(t, rng)
            action = action if choice < 0 else choice
            obs, *_ = env.step(action)
    return np.array(env_obs), np.array(stream_obs)


def test_stream_observation_equals_the_env_on_every_bar_of_every_session(sessions, regime_config):
    env = IntradayTradingEnv(sessions, regime_config)
    stream = ObservationStream(regime_config.features, regime_config.window)
    assert stream.layout.field_names == env.layout.field_names
    rng = np.random.default_rng(0)
    portfolios = []
    for session in sessions:
        env_obs, stream_obs = _run_session(env, stream, session, rng)
        # Bit for bit: the portfolio fields are one function on the same numbers; the features,
        # streamed here and batch-computed by the env, agree to 1e-9 in float64, well inside
        # float32 rounding.
        np.testing.assert_array_equal(stream_obs, env_obs)
        # Padding: the first W-1 bars' windows start with zero rows, as the env's.
        n_features = env.layout.n_features
        assert not stream_obs[0, : (regime_config.window - 1) * n_features].any()
        portfolios.append(env_obs[:, -N_PORTFOLIO:])
    fields = np.concatenate(portfolios)
    # The policy traded: exposure, unrealized P&L and drawdown all moved.
    assert (fields[:, 0] > 0.5).any()
    assert (fields[:, 0] < -0.5).any()
    assert (fields[:, 1] != 0.0).mean() > 0.3
    assert (fields[:, 3] > 0.0).mean() > 0.3


def test_env_portfolio_fields_equal_the_layouts_fields_from_its_portfolio_state(sessions):
    # The env and ObservationLayout.build_from_state compute the fields with one function.
    config = EnvConfig(session_order="sequential")
    env = IntradayTradingEnv(sessions, config)
    rng = np.random.default_rng(1)
    no_features = np.zeros(env.layout.window * env.layout.n_features, np.float32)
    obs, _ = env.reset()
    for _ in range(300):
        state = env.portfolio_state()
        from_state = env.layout.build_from_state(no_features, state)
        np.testing.assert_array_equal(from_state[-N_PORTFOLIO:], obs[-N_PORTFOLIO:])
        assert obs[-N_PORTFOLIO] == np.float32(state_fields(state)[0])
        obs, _, terminated, _, _ = env.step(int(rng.integers(3)))
        if terminated:
            obs, _ = env.reset()
