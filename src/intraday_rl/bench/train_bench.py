"""``intraday-rl bench train``: DQN training throughput on our env against gym-anytrading.

Both envs train the same SB3 DQN (same hyperparameters, one env each behind a ``DummyVecEnv``,
torch on one thread) for the same number of steps; fps = steps / wall time of ``learn``. The
vectorized env's fps with the default ``n_envs`` is reported beside them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import torch

from intraday_rl.bench.env_bench import _anytrading_env
from intraday_rl.data.config import SyntheticMarketConfig
from intraday_rl.data.sessions import split_sessions
from intraday_rl.data.synthetic import generate_market
from intraday_rl.env import EnvConfig, EpisodeBook, IntradayTradingEnv

TARGET_RATIO = 0.9
DQN_PARAMS: dict[str, Any] = {
    "learning_starts": 1_000,
    "buffer_size": 50_000,
    "batch_size": 32,
    "train_freq": 4,
    "gradient_steps": 1,
    "target_update_interval": 1_000,
    "policy_kwargs": {"net_arch": [64, 64]},
}


@dataclass(frozen=True, slots=True)
class TrainBenchConfig:
    """Steps per measurement and repeats (the best is kept)."""

    steps: int = 20_000
    repeats: int = 2
    n_envs: int = 8
    seed: int = 0


def _fps(make_env: Any, steps: int, seed: int, n_envs: int = 1) -> float:
    from stable_baselines3 import DQN
    from stable_baselines3.common.logger import Logger
    from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv

    env = make_env()
    venv = env if isinstance(env, VecEnv) else DummyVecEnv([lambda: env] * n_envs)
    model = DQN("MlpPolicy", venv, seed=seed, device="cpu", verbose=0, **DQN_PARAMS)
    model.set_logger(Logger(folder=None, output_formats=[]))  # no SB3-* folder in the temp dir
    start = time.perf_counter()
    model.learn(steps)
    return steps / (time.perf_counter() - start)


def run_train_benchmark(config: TrainBenchConfig | None = None) -> dict[str, Any]:
    """Measure DQN fps on IntradayTradingEnv and on gym-anytrading stocks-v0, same run."""
    from intraday_rl.env.vec_env import IntradayVecEnv

    config = config or TrainBenchConfig()
    torch.set_num_threads(1)
    market = generate_market(SyntheticMarketConfig(n_sessions=20, seed=config.seed))
    env_config = EnvConfig()
    book = EpisodeBook(
        split_sessions(market.bars, market.config.calendar), env_config.features, env_config.window
    )
    rates = {"ours": 0.0, "anytrading": 0.0, "vec": 0.0}
    for _ in range(config.repeats):
        rates["anytrading"] = max(
            rates["anytrading"], _fps(_anytrading_env, config.steps, config.seed)
        )
        rates["ours"] = max(
            rates["ours"],
            _fps(lambda: IntradayTradingEnv(book, env_config), config.steps, config.seed),
        )
        rates["vec"] = max(
            rates["vec"],
            _fps(
                lambda: IntradayVecEnv(book, config.n_envs, env_config), config.steps, config.seed
            ),
        )
    ratio = rates["ours"] / rates["anytrading"]
    return {
        "dqn_fps": round(rates["ours"]),
        "dqn_fps_anytrading": round(rates["anytrading"]),
        "dqn_fps_vec_env": round(rates["vec"]),
        "ratio": round(ratio, 3),
        "target_met": ratio >= TARGET_RATIO,
        "steps": config.steps,
        "n_envs_vec": config.n_envs,
        "dqn_params": DQN_PARAMS,
    }
