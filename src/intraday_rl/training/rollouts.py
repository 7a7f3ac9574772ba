"""Parity observations from real env rollouts (what export should check parity on)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from intraday_rl.shared.arrays import Float32Array
from intraday_rl.shared.errors import BundleExportError


def collect_rollout_observations(
    predict: Callable[[Float32Array], npt.NDArray[Any]],
    env: Any,
    n_observations: int,
    *,
    random_action_fraction: float = 0.3,
    seed: int = 0,
) -> Float32Array:
    """Step a gymnasium env and return the raw observations it emits, (n, obs_dim) float32.

    ``predict`` maps raw observations (n, obs_dim) to greedy actions (the export's reference
    predict, e.g. :func:`~intraday_rl.training.extraction.sb3_reference_predict`). Actions are
    its greedy ones, replaced by a random action with probability
    ``random_action_fraction`` so that positions and drawdowns the greedy policy avoids are
    covered too. ``env`` is a plain gymnasium env (e.g. ``IntradayTradingEnv``), not a VecEnv.

    Raises:
        BundleExportError: ``n_observations`` < 1 or the fraction is outside [0, 1].
    """
    if n_observations < 1:
        raise BundleExportError(f"n_observations: expected >= 1, was {n_observations}")
    if not 0.0 <= random_action_fraction <= 1.0:
        raise BundleExportError(
            f"random_action_fraction: expected in [0, 1], was {random_action_fraction}"
        )
    rng = np.random.default_rng(seed)
    env.action_space.seed(seed)
    observation, _ = env.reset(seed=seed)
    rows: list[npt.NDArray[np.float32]] = []
    while len(rows) < n_observations:
        raw = np.asarray(observation, dtype=np.float32)
        rows.append(raw)
        if rng.random() < random_action_fraction:
            action = env.action_space.sample()
        else:
            action = np.asarray(predict(raw[None, :]))[0]
        observation, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            observation, _ = env.reset()
    return np.stack(rows)
