"""Reference policies to judge agents against, on the same env, costs and capital.

A policy here acts on an :class:`IntradayTradingEnv`: ``act(observation, env) -> action``.

- ``flat``, ``buy_and_hold`` and ``random``: the trivial references.
- ``momentum`` and ``mean_reversion``: simple rules on the session's own prices, read only up to
  the current bar (``env.session.close[: env.bar_index + 1]``), with documented default parameters
  (:data:`MOMENTUM_LOOKBACK_BARS`, ...) or parameters chosen on given sessions by :func:`fit_rule`.
- ``oracle`` and ``cost_aware_oracle``: read the built-in market's exact expected next-bar return,
  which no agent can observe; they are upper references, not strategies.

Every rule trades the largest position level (long, short) or flat.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from intraday_rl.data.synthetic import (
    DEFAULT_ORACLE_THRESHOLD,
    GeneratedMarket,
    oracle_positions,
)
from intraday_rl.env.trading_env import IntradayTradingEnv
from intraday_rl.evaluation.metrics import EvaluationError
from intraday_rl.evaluation.rollout import EnvPolicy, evaluate_policy

MOMENTUM_LOOKBACK_BARS = 30
"""Momentum looks at the log return over the last 30 bars (half an hour of 1-minute bars)."""
MOMENTUM_THRESHOLD = 0.002
"""Momentum trades when that return is beyond ±20 bps (about half its typical size)."""
MEAN_REVERSION_THRESHOLD = 0.005
"""Mean reversion fades a close more than ±50 bps (log) away from the session's first open."""
PolicyT = TypeVar("PolicyT", bound=EnvPolicy)

ORACLE_ENTER_GRID = (1.0e-4, 2.0e-4, 3.0e-4)
"""Entry thresholds (expected next-bar log return) tried by :func:`fit_cost_aware_oracle`."""
ORACLE_EXIT_FRACTIONS = (0.0, 0.5, 1.0)
"""Exit thresholds tried, as fractions of the entry one (1.0 = no hysteresis: the plain oracle)."""


def level_index(levels: tuple[float, ...], exposure: float) -> int:
    """Index of the discrete level closest to ``exposure``."""
    return int(np.argmin(np.abs(np.asarray(levels) - exposure)))


def exposure_action(env: IntradayTradingEnv, exposure: float) -> Any:
    """Return the env action asking for target ``exposure`` (nearest level if discrete)."""
    if env.config.action_type == "box":
        return np.array([exposure], dtype=np.float32)
    return level_index(env.config.position_levels, exposure)


def _top_level(env: IntradayTradingEnv) -> float:
    return max(abs(level) for level in env.config.position_levels)


class ConstantExposurePolicy:
    """Always asks for the same target exposure (0 = flat, max level = buy-and-hold)."""

    def __init__(self, name: str, exposure: float) -> None:
        self.name = name
        self.exposure = exposure

    def act(self, observation: npt.NDArray[np.float32], env: IntradayTradingEnv) -> Any:
        return exposure_action(env, self.exposure)


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


class MomentumPolicy:
    """Long when the last ``lookback_bars`` log return is above ``threshold``, short below minus.

    Flat otherwise and before ``lookback_bars`` bars have closed. Reads closes up to the current
    bar only.

    Raises:
        EvaluationError: If ``lookback_bars < 1`` or ``threshold < 0``.
    """

    name = "momentum"

    def __init__(
        self, lookback_bars: int = MOMENTUM_LOOKBACK_BARS, threshold: float = MOMENTUM_THRESHOLD
    ) -> None:
        if lookback_bars < 1:
            raise EvaluationError(f"lookback_bars: expected >= 1, was {lookback_bars}")
        _check_threshold("threshold", threshold)
        self.lookback_bars = lookback_bars
        self.threshold = threshold

    def act(self, observation: npt.NDArray[np.float32], env: IntradayTradingEnv) -> Any:
        closes = env.session.close[: env.bar_index + 1]
        signal = 0.0
        if closes.size > self.lookback_bars:
            past_return = math.log(float(closes[-1]) / float(closes[-1 - self.lookback_bars]))
            signal = _side(past_return, self.threshold)
        return exposure_action(env, signal * _top_level(env))


class MeanReversionPolicy:
    """Short when the close's log deviation from the session's first open exceeds ``threshold``.

    Long when it is below ``-threshold``, flat otherwise. Reads prices up to the current bar only.

    Raises:
        EvaluationError: If ``threshold < 0``.
    """

    name = "mean_reversion"

    def __init__(self, threshold: float = MEAN_REVERSION_THRESHOLD) -> None:
        _check_threshold("threshold", threshold)
        self.threshold = threshold

    def act(self, observation: npt.NDArray[np.float32], env: IntradayTradingEnv) -> Any:
        session = env.session
        close = float(session.close[env.bar_index])
        deviation = math.log(close / float(session.open[0]))
        return exposure_action(env, -_side(deviation, self.threshold) * _top_level(env))


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
        if t == 0:  # the whole session's positions at once, from the exact signal
            self._positions = self.positions(self.market.oracle_signal(env.session))
        return exposure_action(env, float(self._positions[t]) * _top_level(env))

    def positions(self, signal: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The session's positions (+1 / -1 / 0 per bar) for its expected returns."""
        return oracle_positions(signal, self.threshold)


class CostAwareOraclePolicy(OraclePolicy):
    """The oracle with hysteresis, so that it does not pay a round trip for a fleeting signal.

    With ``E`` the expected next-bar log return: go long when ``E > enter``, short when
    ``E < -enter``; a long goes flat only when ``E < exit`` (the signal faded below ``exit`` or
    flipped sign), a short when ``E > -exit``; a flat position stays flat inside ``±enter``.

    Raises:
        EvaluationError: Unless ``0 <= exit <= enter``.
    """

    name = "cost_aware_oracle"

    def __init__(self, market: GeneratedMarket, enter: float, exit: float) -> None:
        _check_threshold("enter", enter)
        if not 0.0 <= exit <= enter:
            raise EvaluationError(f"exit: expected 0 <= exit <= enter ({enter}), was {exit}")
        super().__init__(market, threshold=enter)
        self.enter = enter
        self.exit = exit

    def positions(self, signal: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The session's positions with hysteresis (:func:`hysteresis_positions`)."""
        return hysteresis_positions(signal, self.enter, self.exit)


def hysteresis_positions(
    signal: npt.ArrayLike, enter: float, exit: float
) -> npt.NDArray[np.float64]:
    """Map a signal to positions +1 / -1 / 0 with the :class:`CostAwareOraclePolicy` rule.

    >>> hysteresis_positions([2e-4, 0.6e-4, 0.4e-4, -2e-4], enter=1e-4, exit=0.5e-4).tolist()
    [1.0, 1.0, 0.0, -1.0]
    """
    values = np.asarray(signal, dtype=np.float64)
    positions = np.zeros(values.shape[0])
    position = 0.0
    for t, value in enumerate(values.tolist()):
        if value > enter:
            position = 1.0
        elif value < -enter:
            position = -1.0
        elif (position > 0.0 and value < exit) or (position < 0.0 and value > -exit):
            position = 0.0
        positions[t] = position
    return positions


def fit_rule(
    candidates: Sequence[PolicyT],
    env: IntradayTradingEnv,
    session_indices: Sequence[int] | None = None,
) -> PolicyT:
    """Return the candidate with the highest net P&L on the given sessions (first one on ties).

    Use validation (or training) sessions here and judge the winner on other sessions.

    Raises:
        EvaluationError: If ``candidates`` is empty.
    """
    if not candidates:
        raise EvaluationError("candidates: expected at least one policy, was none")
    scores = [evaluate_policy(env, policy, session_indices)[0].net_pnl for policy in candidates]
    return candidates[int(np.argmax(scores))]


def fit_cost_aware_oracle(
    market: GeneratedMarket,
    train_env: IntradayTradingEnv,
    session_indices: Sequence[int] | None = None,
) -> CostAwareOraclePolicy:
    """Choose (enter, exit) on :data:`ORACLE_ENTER_GRID` × :data:`ORACLE_EXIT_FRACTIONS` by net
    P&L on ``train_env``'s sessions (all by default) and return that policy."""
    candidates = [
        CostAwareOraclePolicy(market, enter, enter * fraction)
        for enter in ORACLE_ENTER_GRID
        for fraction in ORACLE_EXIT_FRACTIONS
    ]
    return fit_rule(candidates, train_env, session_indices)


def baseline_policies(market: GeneratedMarket | None, seed: int = 0) -> list[EnvPolicy]:
    """Flat, buy-and-hold, random, momentum, mean reversion and, for the built-in market, the
    oracle (rules with their default parameters)."""
    policies: list[EnvPolicy] = [
        ConstantExposurePolicy("flat", 0.0),
        ConstantExposurePolicy("buy_and_hold", 1.0),
        RandomPolicy(seed),
        MomentumPolicy(),
        MeanReversionPolicy(),
    ]
    if market is not None:
        policies.append(OraclePolicy(market))
    return policies


def _side(value: float, threshold: float) -> float:
    # +1 beyond +threshold, -1 beyond -threshold, 0 inside.
    return 1.0 if value > threshold else -1.0 if value < -threshold else 0.0


def _check_threshold(name: str, value: float) -> None:
    if not (math.isfinite(value) and value >= 0.0):
        raise EvaluationError(f"{name}: expected a finite value >= 0, was {value}")
