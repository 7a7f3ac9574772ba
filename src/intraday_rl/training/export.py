"""Export SB3 models as verified bundles: any model, or a run's best (``<run_dir>/bundle``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy.typing as npt

import intraday_rl.training.run_dir as runs
from intraday_rl.bundle import export_bundle
from intraday_rl.bundle.export import ReferencePredict
from intraday_rl.bundle.normalization import (
    ExportConfig,
    ObservationNormalization,
    VecNormalizeLike,
)
from intraday_rl.bundle.schema import ActingRules
from intraday_rl.env.trading_env import IntradayTradingEnv
from intraday_rl.evaluation.rollout import PolicySummary
from intraday_rl.features.config import FeatureSpec
from intraday_rl.features.layout import ObservationLayout
from intraday_rl.training.config import TrainEnvConfig
from intraday_rl.training.rollouts import collect_rollout_observations

if TYPE_CHECKING:
    from intraday_rl.bundle.graph import ExtractedPolicy

_LOG = logging.getLogger(__name__)
BUNDLE_DIR = "bundle"
N_PARITY_OBSERVATIONS = 1_000


def export_trained_bundle(
    policy: ExtractedPolicy,
    reference_predict: ReferencePredict,
    *,
    run_dir: Path,
    validation_env: IntradayTradingEnv,
    env_config: TrainEnvConfig,
    seed: int,
    summary: PolicySummary,
) -> Path:
    """Write ``<run_dir>/bundle`` from a trained network, parity-checked on validation rollouts.

    ``policy`` and ``reference_predict`` come from the training backend
    (:meth:`~intraday_rl.training.backend.TrainedModel.extract`).
    """
    observations = collect_rollout_observations(
        reference_predict, validation_env, N_PARITY_OBSERVATIONS, seed=seed
    )
    lineage = runs.read_lineage(run_dir)
    metrics = {
        f"validation/{key}": float(value)
        for key, value in summary.as_dict().items()
        if isinstance(value, int | float)
    }
    path = export_bundle(
        policy,
        run_dir / BUNDLE_DIR,
        reference_predict=reference_predict,
        layout=validation_env.layout,
        feature_spec=env_config.features,
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


def export_sb3_model(
    model: Any,
    out_dir: str | Path,
    *,
    layout: ObservationLayout,
    feature_spec: FeatureSpec,
    position_levels: tuple[float, ...],
    lineage: Mapping[str, Any],
    validation_metrics: Mapping[str, float] | None = None,
    risk_policy_hash: str | None = None,
    normalization: ObservationNormalization | VecNormalizeLike | None = None,
    parity_observations: npt.ArrayLike | None = None,
    overwrite: bool = False,
    config: ExportConfig | None = None,
    rules: ActingRules | None = None,
) -> Path:
    """Export an SB3 DQN / QR-DQN / PPO / A2C model as a verified bundle folder.

    Extracts the greedy network (:func:`~intraday_rl.training.extraction.extract_sb3_policy`)
    and exports it against SB3's own ``predict(obs, deterministic=True)``; the other arguments
    are :func:`~intraday_rl.bundle.export_bundle`'s. ``normalization`` is the run's
    ``VecNormalize`` (or its record): the bundle then takes raw observations.

    Raises:
        BundleExportError: Bad arguments, an unsupported model, or ``out_dir`` exists.
        BundleVerificationError: A runtime (or the extracted graph) disagrees with SB3.
    """
    from intraday_rl.training.extraction import extract_sb3_policy, sb3_reference_predict

    norm = (
        normalization
        if normalization is None or isinstance(normalization, ObservationNormalization)
        else ObservationNormalization.from_vec_normalize(normalization)
    )
    return export_bundle(
        extract_sb3_policy(model, norm, tuple(position_levels)),
        out_dir,
        reference_predict=sb3_reference_predict(model, norm),
        layout=layout,
        feature_spec=feature_spec,
        lineage=lineage,
        validation_metrics=validation_metrics,
        risk_policy_hash=risk_policy_hash,
        parity_observations=parity_observations,
        overwrite=overwrite,
        config=config,
        rules=rules,
    )
