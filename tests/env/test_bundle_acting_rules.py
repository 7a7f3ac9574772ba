"""A bundle's metadata alone reproduces the env's action -> order mapping (market.rules).

Execution will trade a bundle bar by bar with :class:`ObservationStream` and the functions of
:mod:`intraday_rl.market.rules`, configured from ``metadata.json`` (the action kind and levels,
``ActingRules``). Here a tiny exported bundle drives both the env and such a replica built from
its metadata; orders, positions, equity and observations must agree on every decision.

Two things the replica takes from the env rather than from the metadata, as execution will take
them from its broker and its session calendar: the cost model (the broker's fills; the env floors
a bar's volume at 1 share for impact) and the rule that the position is closed at the session's
last close.
"""

from __future__ import annotations

import numpy as np
import pytest

from intraday_rl.bundle.loading import load_policy
from intraday_rl.env import IntradayTradingEnv, IntradayVecEnv
from intraday_rl.env.trading_env import action_map
from intraday_rl.features import FeatureSpec, ObservationStream, session_time_left
from intraday_rl.market import CostConfig, Portfolio, fill_cost
from intraday_rl.market.rules import (
    ActionMap,
    due_quantity,
    new_fill_queue,
    places_order,
    queue_order,
    target_shares,
)
from intraday_rl.training.config import TrainEnvConfig
from intraday_rl.training.export import acting_rules, export_sb3_model

LINEAGE = {
    "config_hash": "c" * 64,
    "data_fingerprint": "d" * 64,
    "seed": 0,
    "timesteps": 100,
    "git_commit": "0123abc",
    "sessions": {"train": 8},
}
# Rules away from every default, so a field the replica ignored would show.
RULES = {
    "initial_capital": 50_000.0,
    "max_exposure": 0.8,
    "min_trade_fraction": 0.1,
    "lot_size": 5.0,
    "decision_every": 3,
    "costs": CostConfig(fill_delay_bars=2),
    "session_order": "sequential",
    "window": 2,
}


def _train(config: TrainEnvConfig, sessions):
    from stable_baselines3 import DQN, PPO

    vec_env = IntradayVecEnv(sessions, 2, config)
    common = {"seed": 0, "device": "cpu", "policy_kwargs": {"net_arch": [16]}}
    if config.action_type == "discrete":
        model = DQN("MlpPolicy", vec_env, learning_starts=50, exploration_fraction=0.5, **common)
    else:
        # Without SB3's small orthogonal init the untrained means are far enough from 0 to
        # trade through the deadband.
        common["policy_kwargs"] = {"net_arch": [16], "ortho_init": False}
        model = PPO("MlpPolicy", vec_env, n_steps=32, batch_size=32, n_epochs=1, **common)
    return model.learn(96)


@pytest.fixture(scope="module", params=["discrete", "box"])
def exported(request, sessions, tmp_path_factory):
    levels = (-0.8, -0.4, 0.0, 0.4, 0.8)
    config = TrainEnvConfig(action_type=request.param, position_levels=levels, **RULES)
    model = _train(config, sessions)
    path = export_sb3_model(
        model,
        tmp_path_factory.mktemp(request.param) / "bundle",
        layout=IntradayTradingEnv(sessions, config).layout,
        feature_spec=config.features,
        position_levels=config.position_levels,
        lineage=LINEAGE,
        rules=acting_rules(config),
    )
    return config, load_policy(path)


class Replica:
    """What execution will do per bar, configured from the bundle's metadata only."""

    def __init__(self, policy, costs: CostConfig) -> None:
        meta = policy.metadata
        self.policy, self.rules, self.costs = policy, meta.rules, costs
        self.actions = ActionMap(
            meta.action.kind, meta.action.position_levels or (), meta.rules.max_exposure
        )
        layout = meta.observation.layout
        spec = FeatureSpec.model_validate(meta.feature_spec)
        self.stream = ObservationStream(spec, layout["window"], layout["pnl_scale"])

    def start(self, session):
        self.session, self.last = session, session.n_bars - 1
        self.portfolio = Portfolio(self.rules.initial_capital)
        self.queue = new_fill_queue(self.rules.fill_delay_bars)
        self.intended, self.equity, self.t = 0.0, self.rules.initial_capital, 0
        self.stream.reset(session.open_ns, session.close_ns, session.bar_ns)
        self._feed(0)
        return self.observation()

    def _feed(self, t):
        s = self.session
        self.stream.update(s.ts_ns[t], s.open[t], s.high[t], s.low[t], s.close[t], s.volume[t])

    def observation(self):
        s, t = self.session, self.t
        state = self.portfolio.snapshot(
            int(s.ts_ns[t]), s.symbol, float(s.close[t]), session_time_left(t, self.last)
        )
        return self.stream.observation(state)

    def _fill(self, quantity, price, t):
        volume = max(float(self.session.volume[t]), 1.0)
        self.portfolio.fill(quantity, price, fill_cost(quantity, price, volume, *self.costs.rates))

    def decide(self, action):
        """Hold ``action``'s target for decision_every bars (fewer at the session's end)."""
        exposure = self.actions.target_exposure(action)
        s, rules = self.session, self.rules
        for _ in range(rules.decision_every):
            t, close = self.t, float(s.close[self.t])
            target = target_shares(exposure, self.equity, close, rules.lot_size)
            if places_order(target, self.intended, close, self.equity, rules.min_trade_fraction):
                queue_order(self.queue, t, target)
                self.intended = target
            self.t = t = t + 1
            quantity = due_quantity(self.queue, t, self.portfolio.position)
            if quantity != 0.0:
                self._fill(quantity, float(s.open[t]), t)
            self._feed(t)
            if t == self.last and self.portfolio.position != 0.0:  # flat at the close
                self._fill(-self.portfolio.position, float(s.close[t]), t)
                self.intended = 0.0
            self.equity = self.portfolio.mark(float(s.close[t]))
            if t == self.last:
                break
        return self.observation()


def test_action_map_from_metadata_equals_the_envs(exported):
    config, policy = exported
    meta = policy.metadata
    from_bundle = ActionMap(
        meta.action.kind, meta.action.position_levels or (), meta.rules.max_exposure
    )
    env_map = action_map(config)
    if config.action_type == "discrete":
        actions = list(range(len(config.position_levels)))
    else:
        actions = [np.array([value], np.float32) for value in (-3.0, -0.8, -0.1, 0.5, 0.81, 9.0)]
    for action in actions:
        assert from_bundle.target_exposure(action) == env_map.target_exposure(action)


def test_metadata_replica_trades_like_the_env_on_every_decision(exported, sessions):
    config, policy = exported
    env = IntradayTradingEnv(sessions, config)
    replica = Replica(policy, config.costs)
    n_trades = 0
    for index, session in enumerate(sessions):
        env_obs, _ = env.reset(options={"session_index": index})
        obs = replica.start(session)
        terminated = False
        while not terminated:
            np.testing.assert_array_equal(obs, env_obs)
            action, _ = policy.predict(obs)
            env_obs, _, terminated, _, info = env.step(action)
            obs = replica.decide(action)
            assert replica.portfolio.position == info["position"]
            assert replica.equity == info["equity"]
            assert replica.portfolio.costs_paid == info["costs_paid"]
        np.testing.assert_array_equal(obs, env_obs)
        n_trades += info["n_trades"]
    assert n_trades > len(sessions)  # the policy traded, not only the closing fills
