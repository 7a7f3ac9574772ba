"""Reference policies to judge agents against: flat, buy-and-hold, random and the oracle.

A policy here acts on an :class:`IntradayTradingEnv`: ``act(observation, env) -> action``. The
oracle reads the built-in market's exact expected next-bar return, which no agent can observe; it
is an upper reference, not a strategy.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from intraday_rl.data.synthetic import (
    DEFAULT_ORACLE_THRESHOLD,
    GeneratedMarket,
    oracle_positions,
)
from intraday_rl.env.trading_env import IntradayTradingEnv


class EnvPolicy(Protocol):
    """Anything that picks an action for the env's current observation."""

    name: str

    def act(self, observation: npt.NDArray[np.float32], env: IntradayTradingEnv) -> Any: ...


def level_index(levels: tuple[float, ...], exposure: float) -> int:
    """Index of the discrete level closest to ``exposure``."""
    return int(np.argmin(np.abs(np.asarray(levels) - exposure)))


class ConstantExposurePolicy:
    """Always asks for the same target exposure (0 = flat, max level = buy-and-hold)."""

    def __init__(self, name: str, exposure: float) -> None:
        self.name = name
        self.exposure = exposure

    def act(self, observation: npt.NDArray[np.float32], env: IntradayTradingEnv) -> Any:
        if env.config.action_type == "box":
            return np.array([self.exposure], dtype=np.float32)
        return level_index(env.config.position_levels, self.exposure)


class RandomPolicy:
    """Samples the action space with its own seeded RNG."""

    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._rng = np.random.default_rng(seed)

    def act(self, observation: npt.NDArray[np.float32], env: IntradayTradingEnv) -> Any:
        if env.config.action_type == "discrete":
            return int(self._rng.integers(len(env.config.position_levels)))
        limit = env.config.max_exposure
        return self._rng.uniform(-limit, limit, (1,)).astype(np.float32)


class OraclePolicy:
    """Trades the built-in market's exact expected next-bar return (see ``oracle_positions``).

    Long the largest level when the expected return exceeds ``threshold`` (a log return), short
    below ``-threshold``, flat otherwise: the generator's own oracle rule, through the env's costs.
    """

    name = "oracle"

    def __init__(
        self, market: GeneratedMarket, threshold: float = DEFAULT_ORACLE_THRESHOLD
    ) -> None:
        self.market = market
        self.threshold = threshold
        self._positions: npt.NDArray[np.float64] = np.zeros(0)

    def act(self, observation: npt.NDArray[np.float32], env: IntradayTradingEnv) -> Any:
        t = env.bar_index
        if t == 0:
            signal = self.market.oracle_signal(env.session)
            self._positions = oracle_positions(signal, self.threshold)
        top = max(abs(level) for level in env.config.position_levels)
        exposure = float(self._positions[t]) * top
        if env.config.action_type == "box":
            return np.array([exposure], dtype=np.float32)
        return level_index(env.config.position_levels, exposure)


def baseline_policies(market: GeneratedMarket | None, seed: int = 0) -> list[EnvPolicy]:
    """Flat, buy-and-hold, random and, for the built-in market, the oracle."""
    policies: list[EnvPolicy] = [
        ConstantExposurePolicy("flat", 0.0),
        ConstantExposurePolicy("buy_and_hold", 1.0),
        RandomPolicy(seed),
    ]
    if market is not None:
        policies.append(OraclePolicy(market))
    return policies
