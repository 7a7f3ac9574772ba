"""The demo job: train the default risk-aware agent on the built-in market and judge it.

Prints the agent beside flat, buy-and-hold, random and the oracle on the validation sessions
(where the best model was chosen) and on the untouched test sessions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from intraday_rl.bundle import validate_bundle_latency
from intraday_rl.data.sessions import Session
from intraday_rl.env import IntradayTradingEnv
from intraday_rl.evaluation import EnvPolicy, PolicySummary, baseline_policies, evaluate_policy
from intraday_rl.training.config import load_training_config
from intraday_rl.training.trainer_agent import SB3EnvPolicy, TrainerAgent, TrainingResult


@dataclass(frozen=True, slots=True)
class DemoResult:
    """The training run and each policy's summary on validation and test sessions."""

    training: TrainingResult
    validation: list[PolicySummary]
    test: list[PolicySummary]
    latency: dict[str, Any] | None = None


def run_demo(
    config_path: Path, total_timesteps: int | None = None, callbacks: Sequence[Any] = ()
) -> DemoResult:
    """Train from ``config_path`` (optionally fewer steps) and compare against the baselines."""
    config = load_training_config(config_path)
    if total_timesteps is not None:
        params = config.training_params.model_copy(update={"total_timesteps": total_timesteps})
        config = config.model_copy(update={"training_params": params})
    trainer = TrainerAgent(config)
    training = trainer.train(callbacks=callbacks)
    agent = SB3EnvPolicy(training.load_best_model(), name=f"{config.algorithm} (risk-aware)")
    split = trainer.market.split
    env_config = trainer.config.env.env_config(session_order="sequential")

    def judge(sessions: Sequence[Session]) -> list[PolicySummary]:
        env = IntradayTradingEnv(sessions, env_config)
        baselines = baseline_policies(trainer.market.market, config.training_params.seed)
        policies: list[EnvPolicy] = [agent, *baselines]
        return [evaluate_policy(env, policy)[0] for policy in policies]

    latency = None
    if training.bundle_path is not None:  # the exported bundle, reloaded, verified and timed
        latency = dict(validate_bundle_latency(training.bundle_path, num_trials=10_000))
    return DemoResult(training, judge(split.validation), judge(split.test), latency)
