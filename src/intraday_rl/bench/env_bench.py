"""``intraday-rl bench env``: env throughput against gym-anytrading ``stocks-v0``, same run.

Every env gets the same pre-drawn random actions, so only the env's own step and reset cost is
measured; resets are included. The reference is the unwrapped gym-anytrading env (no wrappers
around either side).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from intraday_rl.data.config import SyntheticMarketConfig
from intraday_rl.data.sessions import split_sessions
from intraday_rl.data.synthetic import generate_market
from intraday_rl.env import EnvConfig, EpisodeBook, IntradayTradingEnv
from intraday_rl.shared.errors import IntradayRLError

TARGET_SINGLE_RATIO = 0.75
TARGET_VEC_RATIO = 10.0


@dataclass(frozen=True, slots=True)
class EnvBenchConfig:
    """How long each measurement runs."""

    steps: int = 100_000
    vec_steps: int = 4_000
    n_envs: int = 64
    n_sessions: int = 20
    repeats: int = 3
    seed: int = 0


def _single_env_run(env: Any, actions: list[int]) -> int:
    env.reset(seed=0)
    step, reset = env.step, env.reset
    for action in actions:
        _, _, terminated, truncated, _ = step(action)
        if terminated or truncated:
            reset()
    return len(actions)


def _vec_env_run(vec_env: Any, actions: np.ndarray) -> int:
    vec_env.seed(0)
    vec_env.reset()
    for batch in actions:
        vec_env.step_async(batch)
        vec_env.step_wait()
    return int(actions.shape[0] * actions.shape[1])


def _anytrading_env() -> Any:
    try:
        import gym_anytrading  # noqa: F401  (registers stocks-v0)
        import gymnasium as gym
    except ImportError as error:
        raise IntradayRLError(
            "bench env needs gym-anytrading for its reference: pip install -e '.[dev]'"
        ) from error
    return gym.make("stocks-v0").unwrapped


def run_env_benchmark(config: EnvBenchConfig | None = None) -> dict[str, Any]:
    """Measure env steps/s (single, vectorized) and gym-anytrading's in the same run."""
    config = config or EnvBenchConfig()
    from intraday_rl.env.vec_env import IntradayVecEnv

    market = generate_market(SyntheticMarketConfig(n_sessions=config.n_sessions, seed=config.seed))
    env_config = EnvConfig()
    sessions = split_sessions(market.bars, market.config.calendar)
    book = EpisodeBook(sessions, env_config.features, env_config.window)
    env = IntradayTradingEnv(book, env_config)
    vec_env = IntradayVecEnv(book, config.n_envs, env_config)
    reference = _anytrading_env()

    rng = np.random.default_rng(config.seed)
    ours_actions = rng.integers(0, 3, config.steps).tolist()
    reference_actions = rng.integers(0, 2, config.steps).tolist()
    vec_actions = rng.integers(0, 3, (config.vec_steps, config.n_envs))

    runs: dict[str, Callable[[], int]] = {
        "anytrading": lambda: _single_env_run(reference, reference_actions),
        "env": lambda: _single_env_run(env, ours_actions),
        "vec": lambda: _vec_env_run(vec_env, vec_actions),
    }
    rates = dict.fromkeys(runs, 0.0)
    # Interleaved repeats, best kept: drift on a shared machine hits every env alike.
    for _ in range(config.repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            steps = run()
            rates[name] = max(rates[name], steps / (time.perf_counter() - start))

    single_ratio = rates["env"] / rates["anytrading"]
    vec_ratio = rates["vec"] / rates["anytrading"]
    return {
        "env_steps_per_s": round(rates["env"]),
        "vec_env_steps_per_s": round(rates["vec"]),
        "anytrading_steps_per_s": round(rates["anytrading"]),
        "single_vs_anytrading": round(single_ratio, 3),
        "vec_vs_anytrading": round(vec_ratio, 3),
        "single_target_met": single_ratio >= TARGET_SINGLE_RATIO,
        "vec_target_met": vec_ratio >= TARGET_VEC_RATIO,
        "n_envs": config.n_envs,
        "obs_dim": book.layout.obs_dim,
        "steps": config.steps,
        "repeats": config.repeats,
    }
