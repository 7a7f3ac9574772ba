"""Fixtures for the execution tests: one-hour sessions of the built-in market, a tiny bundle.

The bundle's rules are away from every default (decision_every=3, fill delay 2, lots of 5, a
deadband), so a rule the engine ignored would show.
"""

import datetime as dt

import pytest

from intraday_rl.bundle.loading import load_policy
from intraday_rl.data.config import SessionCalendar, SyntheticMarketConfig
from intraday_rl.data.sessions import split_sessions
from intraday_rl.data.synthetic import generate_market
from intraday_rl.env import IntradayTradingEnv, IntradayVecEnv
from intraday_rl.market import CostConfig
from intraday_rl.training.config import TrainEnvConfig
from intraday_rl.training.export import acting_rules, export_sb3_model

SHORT_CALENDAR = SessionCalendar(open_time=dt.time(9, 30), close_time=dt.time(10, 30))


@pytest.fixture(scope="session")
def sessions():
    market = generate_market(SyntheticMarketConfig(n_sessions=6, seed=3, calendar=SHORT_CALENDAR))
    return split_sessions(market.bars, SHORT_CALENDAR)


LINEAGE = {
    "config_hash": "c" * 64,
    "data_fingerprint": "d" * 64,
    "seed": 0,
    "timesteps": 100,
    "git_commit": "0123abc",
    "sessions": {"train": 6},
}
RULES = {
    "initial_capital": 50_000.0,
    "max_exposure": 0.8,
    "min_trade_fraction": 0.1,
    "lot_size": 5.0,
    "decision_every": 3,
    "costs": CostConfig(fill_delay_bars=2),
    "session_order": "sequential",
    "window": 2,
    "position_levels": (-0.8, -0.4, 0.0, 0.4, 0.8),
}


@pytest.fixture(scope="session")
def exported(sessions, tmp_path_factory):
    from stable_baselines3 import DQN

    config = TrainEnvConfig(action_type="discrete", **RULES)
    model = DQN(
        "MlpPolicy",
        IntradayVecEnv(sessions, 2, config),
        learning_starts=50,
        exploration_fraction=0.5,
        seed=0,
        device="cpu",
        policy_kwargs={"net_arch": [16]},
    ).learn(96)
    path = export_sb3_model(
        model,
        tmp_path_factory.mktemp("parity") / "bundle",
        layout=IntradayTradingEnv(sessions, config).layout,
        feature_spec=config.features,
        position_levels=config.position_levels,
        lineage=LINEAGE,
        rules=acting_rules(config),
    )
    return config, load_policy(path), path
