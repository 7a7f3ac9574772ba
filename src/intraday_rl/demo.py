"""The demo job: train the default risk-aware agent on the built-in market and judge it.

Prints the agent beside flat, buy-and-hold, random, momentum, mean reversion, the supervised
(ridge) forecaster and the oracle on the validation sessions (where the best model was chosen)
and on the untouched test sessions, then the evidence: a stationary-bootstrap CI of the agent's
mean daily net P&L and a paired test against the better of flat and buy-and-hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from intraday_rl.bundle import validate_bundle_latency
from intraday_rl.data.sessions import Session
from intraday_rl.env import IntradayTradingEnv
from intraday_rl.evaluation import (
    ConfidenceInterval,
    EnvPolicy,
    PairedTest,
    PolicySummary,
    baseline_policies,
    bootstrap_mean_ci,
    daily_pnl,
    evaluate_policy,
    fit_supervised_baseline,
    paired_bootstrap_test,
)
from intraday_rl.training.config import load_training_config
from intraday_rl.training.trainer_agent import TrainerAgent, TrainingResult


@dataclass(frozen=True, slots=True)
class DemoResult:
    """The training run, each policy's summary on validation and test, and the test evidence."""

    training: TrainingResult
    validation: list[PolicySummary]
    test: list[PolicySummary]
    latency: dict[str, Any] | None = None
    test_ci: ConfidenceInterval | None = None
    test_versus_best_simple: PairedTest | None = None


def run_demo(
    config_path: Path, total_timesteps: int | None = None, callbacks: Sequence[Any] = ()
) -> DemoResult:
    """Train from ``config_path`` (optionally fewer steps) and compare against the baselines.

    The agent and the supervised forecaster act on the config's decision clock; the rules and
    the oracle act every bar (their own clock), all with the same costs and capital.
    """
    config = load_training_config(config_path)
    if total_timesteps is not None:
        params = config.training_params.model_copy(update={"total_timesteps": total_timesteps})
        config = config.model_copy(update={"training_params": params})
    trainer = TrainerAgent(config)
    training = trainer.train(callbacks=callbacks)
    agent = training.best_policy(f"{config.algorithm} (risk-aware)")
    split = trainer.market.split
    agent_clock = trainer.config.env.env_config(session_order="sequential")
    every_bar = agent_clock.model_copy(update={"decision_every": 1})
    supervised, _ = fit_supervised_baseline(
        IntradayTradingEnv(split.train, agent_clock),
        IntradayTradingEnv(split.validation, agent_clock),
        kind="ridge",
    )

    def judge(sessions: Sequence[Session]) -> tuple[list[PolicySummary], dict[str, list[float]]]:
        on_clock = IntradayTradingEnv(sessions, agent_clock)
        on_bars = IntradayTradingEnv(sessions, every_bar)
        runs: list[tuple[IntradayTradingEnv, EnvPolicy]] = [
            (on_clock, agent),
            (on_clock, supervised),
        ]
        runs += [
            (on_bars, p)
            for p in baseline_policies(trainer.market.market, config.training_params.seed)
        ]
        summaries, series = [], {}
        for env, policy in runs:
            summary, episodes = evaluate_policy(env, policy)
            summaries.append(summary)
            series[policy.name] = daily_pnl(episodes).tolist()
        return summaries, series

    validation, _ = judge(split.validation)
    test, series = judge(split.test)
    simple = max(("flat", "buy_and_hold"), key=lambda name: sum(series[name]))
    test_ci = paired = None
    if len(split.test) >= 2:
        test_ci = bootstrap_mean_ci(series[agent.name], seed=0)
        paired = paired_bootstrap_test(series[agent.name], series[simple], baseline=simple)
    latency = None
    if training.bundle_path is not None:  # the exported bundle, reloaded, verified and timed
        latency = dict(validate_bundle_latency(training.bundle_path, num_trials=10_000))
    return DemoResult(training, validation, test, latency, test_ci, paired)
