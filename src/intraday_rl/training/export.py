"""Export a trained run's best model as a verified policy bundle (``<run_dir>/bundle``)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import intraday_rl.training.run_dir as runs
from intraday_rl.bundle import collect_rollout_observations, export_bundle
from intraday_rl.bundle.schema import ActingRules
from intraday_rl.env.trading_env import IntradayTradingEnv
from intraday_rl.evaluation.rollout import PolicySummary
from intraday_rl.training.config import TrainEnvConfig

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm

_LOG = logging.getLogger(__name__)
BUNDLE_DIR = "bundle"
N_PARITY_OBSERVATIONS = 1_000


def export_trained_bundle(
    model: BaseAlgorithm,
    *,
    run_dir: Path,
    validation_env: IntradayTradingEnv,
    env_config: TrainEnvConfig,
    seed: int,
    summary: PolicySummary,
) -> Path:
    """Write ``<run_dir>/bundle`` from ``model``, parity-checked on validation rollouts."""
    observations = collect_rollout_observations(
        model, validation_env, N_PARITY_OBSERVATIONS, seed=seed
    )
    lineage = runs.read_lineage(run_dir)
    metrics = {
        f"validation/{key}": float(value)
        for key, value in summary.as_dict().items()
        if isinstance(value, int | float)
    }
    path = export_bundle(
        model,
        run_dir / BUNDLE_DIR,
        layout=validation_env.layout,
        feature_spec=env_config.features,
        position_levels=env_config.position_levels,
        lineage=lineage,
        validation_metrics=metrics,
        risk_policy_hash=lineage.get("risk_policy_hash"),
        parity_observations=observations,
        overwrite=True,
        rules=acting_rules(env_config),
    )
    _LOG.info("exported bundle %s", path)
    return path


def acting_rules(env: TrainEnvConfig) -> ActingRules:
    """The env rules that a policy's actions depend on, as the bundle records them."""
    return ActingRules(
        decision_every=env.decision_every,
        min_trade_fraction=env.min_trade_fraction,
        lot_size=env.lot_size,
        max_exposure=env.max_exposure,
        fill_delay_bars=env.costs.fill_delay_bars,
        initial_capital=env.initial_capital,
    )
