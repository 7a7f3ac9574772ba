"""Export a trained run's best model as a verified policy bundle (``<run_dir>/bundle``)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from intraday_rl.bundle import collect_rollout_observations, export_bundle
from intraday_rl.bundle.schema import ActingRules
from intraday_rl.evaluation.rollout import PolicySummary
from intraday_rl.training import run_dir as runs

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm

    from intraday_rl.training.trainer_agent import TrainerAgent

_LOG = logging.getLogger(__name__)
BUNDLE_DIR = "bundle"
N_PARITY_OBSERVATIONS = 1_000


def export_trained_bundle(
    trainer: TrainerAgent, model: BaseAlgorithm, summary: PolicySummary
) -> Path:
    """Write ``<run_dir>/bundle`` from ``model``, parity-checked on validation rollouts."""
    assert trainer.run_dir is not None
    env = trainer.validation_env()
    observations = collect_rollout_observations(
        model, env, N_PARITY_OBSERVATIONS, seed=trainer.config.training_params.seed
    )
    lineage = runs.read_lineage(trainer.run_dir)
    metrics = {
        f"validation/{key}": float(value)
        for key, value in summary.as_dict().items()
        if isinstance(value, int | float)
    }
    path = export_bundle(
        model,
        trainer.run_dir / BUNDLE_DIR,
        layout=env.layout,
        feature_spec=trainer.config.env.features,
        position_levels=trainer.config.env.position_levels,
        lineage=lineage,
        validation_metrics=metrics,
        risk_policy_hash=lineage.get("risk_policy_hash"),
        parity_observations=observations,
        overwrite=True,
        rules=acting_rules(trainer),
    )
    _LOG.info("exported bundle %s", path)
    return path


def acting_rules(trainer: TrainerAgent) -> ActingRules:
    """The env rules of the trainer's config that a policy's actions depend on."""
    env = trainer.config.env
    return ActingRules(
        decision_every=env.decision_every,
        min_trade_fraction=env.min_trade_fraction,
        lot_size=env.lot_size,
        max_exposure=env.max_exposure,
        fill_delay_bars=env.costs.fill_delay_bars,
        initial_capital=env.initial_capital,
    )
