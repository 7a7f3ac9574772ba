"""Reward shaping with the risk engine: ``reward = net_pnl_reward − λ · advisor penalty``.

Two forms with the same arithmetic: a gymnasium wrapper around one :class:`IntradayTradingEnv`
and a VecEnv wrapper around an :class:`IntradayVecEnv` (one advisor per env, because an advisor's
calculators follow one stream of snapshots). Both put the gross reward, the penalty, the shaped
reward and the breach severity into each step's info under namespaced keys.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
import numpy.typing as npt
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from stable_baselines3.common.vec_env.base_vec_env import VecEnvObs, VecEnvStepReturn

from intraday_rl.env.trading_env import IntradayTradingEnv
from intraday_rl.env.vec_env import IntradayVecEnv
from intraday_rl.risk.metrics import PENALTY_KEY, SEVERITY_KEY
from intraday_rl.shared.errors import EnvError
from intraday_rl.shared.types import PortfolioState
from intraday_rl.training.interfaces.risk_advisor import RiskAdvisor

PENALTY = PENALTY_KEY  # one definition of each key: the risk engine's metrics own them
SEVERITY = SEVERITY_KEY
GROSS = "reward/gross"
SHAPED = "reward/shaped"


def shaped_reward(gross: float, penalty: float, penalty_weight: float) -> float:
    """The shaped reward: gross (net P&L) reward minus ``penalty_weight`` times the penalty."""
    return gross - penalty_weight * penalty


def _risk_info(
    advisor: RiskAdvisor, state: PortfolioState, gross: float, weight: float
) -> dict[str, float]:
    metrics = advisor.evaluate(state)
    penalty = float(metrics[PENALTY])
    return {
        GROSS: gross,
        PENALTY: penalty,
        SHAPED: shaped_reward(gross, penalty, weight),
        SEVERITY: float(metrics.get(SEVERITY, 0.0)),
    }


def _reset_advisor(advisor: RiskAdvisor) -> None:
    reset = getattr(advisor, "reset", None)
    if callable(reset):
        reset()


class RiskShapingWrapper(gym.Wrapper[npt.NDArray[np.float32], Any, npt.NDArray[np.float32], Any]):
    """Shapes an :class:`IntradayTradingEnv`'s rewards with a risk advisor's penalty."""

    def __init__(self, env: gym.Env[Any, Any], advisor: RiskAdvisor, penalty_weight: float) -> None:
        super().__init__(env)
        if not isinstance(env.unwrapped, IntradayTradingEnv):
            raise EnvError("RiskShapingWrapper: expected an IntradayTradingEnv underneath")
        self.advisor = advisor
        self.penalty_weight = penalty_weight

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[npt.NDArray[np.float32], dict[str, Any]]:
        _reset_advisor(self.advisor)
        return self.env.reset(seed=seed, options=options)

    def step(
        self, action: Any
    ) -> tuple[npt.NDArray[np.float32], SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        base = self.env.unwrapped
        assert isinstance(base, IntradayTradingEnv)
        risk = _risk_info(self.advisor, base.portfolio_state(), float(reward), self.penalty_weight)
        info.update(risk)
        return obs, risk[SHAPED], terminated, truncated, info


class RiskShapingVecEnv(VecEnvWrapper):
    """Shapes an :class:`IntradayVecEnv`'s rewards; one advisor per env from ``make_advisor``."""

    def __init__(
        self,
        venv: IntradayVecEnv,
        make_advisor: Callable[[], RiskAdvisor],
        penalty_weight: float,
    ) -> None:
        if not isinstance(venv, IntradayVecEnv):
            raise EnvError("RiskShapingVecEnv: expected an IntradayVecEnv (it reads env states)")
        super().__init__(venv)
        self.intraday = venv
        self.advisors = [make_advisor() for _ in range(venv.num_envs)]
        self.penalty_weight = penalty_weight

    def reset(self) -> VecEnvObs:
        for advisor in self.advisors:
            _reset_advisor(advisor)
        return self.venv.reset()

    def step_wait(self) -> VecEnvStepReturn:
        obs, rewards, dones, infos = self.venv.step_wait()
        shaped = np.empty_like(rewards)
        for i, advisor in enumerate(self.advisors):
            done = bool(dones[i])
            state = infos[i]["portfolio_state"] if done else self.intraday.portfolio_state(i)
            risk = _risk_info(advisor, state, float(rewards[i]), self.penalty_weight)
            infos[i].update(risk)
            shaped[i] = risk[SHAPED]
            if done:
                _reset_advisor(advisor)
        return obs, shaped, dones, infos


class ScaleReward(VecEnvWrapper):
    """Multiply rewards by a constant (the infos keep the unscaled terms)."""

    def __init__(self, venv: VecEnv, scale: float) -> None:
        super().__init__(venv)
        self.scale = scale

    def reset(self) -> VecEnvObs:
        return self.venv.reset()

    def step_wait(self) -> VecEnvStepReturn:
        obs, rewards, dones, infos = self.venv.step_wait()
        return obs, (rewards * self.scale).astype(np.float32), dones, infos
