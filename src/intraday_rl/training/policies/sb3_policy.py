"""``SB3Policy``: a trained SB3 model as an :class:`~intraday_rl.shared.policy.RLPolicy`.

``predict`` runs SB3's own ``model.predict`` (applying the run's observation normalization
first), ``save_bundle`` exports a verified bundle
(:func:`intraday_rl.training.export.export_sb3_model`), and
``load_bundle`` opens a bundle with the fastest installed runtime: an SB3 model cannot be rebuilt
from a bundle, which holds only the greedy network.

This module never imports SB3 (the wrapped model brings it) and re-exports
:class:`~intraday_rl.bundle.TorchScriptPolicy`, so the seed's
``from intraday_rl.training.policies.sb3_policy import TorchScriptPolicy`` works where SB3 is not
installed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from intraday_rl.bundle.inputs import ObservationChecker
from intraday_rl.bundle.latency import measure_predict_latency
from intraday_rl.bundle.loading import load_policy
from intraday_rl.bundle.normalization import (
    ExportConfig,
    ObservationNormalization,
    VecNormalizeLike,
)
from intraday_rl.bundle.runtime import BundlePolicy
from intraday_rl.bundle.torchscript_runtime import TorchScriptPolicy
from intraday_rl.features.config import FeatureSpec
from intraday_rl.features.layout import ObservationLayout
from intraday_rl.shared.errors import BundleExportError
from intraday_rl.shared.policy import DEFAULT_LATENCY_SLO_US, LatencyStats
from intraday_rl.training.export import export_sb3_model


class SB3Policy:
    """A trained SB3 model (DQN, QR-DQN, PPO, A2C) with what a bundle needs to describe it.

    Args:
        model: The trained SB3 model.
        layout: The observation layout it was trained on.
        feature_spec: The feature spec behind the layout.
        position_levels: Target exposure of each discrete action.
        lineage: Training lineage (required by :meth:`save_bundle`; see ``export_sb3_model``).
        normalization: The run's ``VecNormalize`` (or its statistics), if it normalized
            observations; ``predict`` then takes raw observations like the bundle does.
        risk_policy_hash: Hash of the risk policy used in training.
        validation_metrics: Metrics recorded in the bundle.
        parity_observations: Raw rollout observations for the export's parity check.
    """

    runtime = "sb3"

    def __init__(
        self,
        model: Any,
        *,
        layout: ObservationLayout,
        feature_spec: FeatureSpec,
        position_levels: tuple[float, ...],
        lineage: Mapping[str, Any] | None = None,
        normalization: ObservationNormalization | VecNormalizeLike | None = None,
        risk_policy_hash: str | None = None,
        validation_metrics: Mapping[str, float] | None = None,
        parity_observations: npt.ArrayLike | None = None,
    ) -> None:
        self.model = model
        self.layout = layout
        self.feature_spec = feature_spec
        self.position_levels = tuple(position_levels)
        self.lineage = lineage
        self.normalization = (
            normalization
            if normalization is None or isinstance(normalization, ObservationNormalization)
            else ObservationNormalization.from_vec_normalize(normalization)
        )
        self.risk_policy_hash = risk_policy_hash
        self.validation_metrics = validation_metrics
        self.parity_observations = parity_observations
        self._checker = ObservationChecker(layout.field_names)
        self._discrete = type(model.action_space).__name__ == "Discrete"

    def predict(
        self, observation: npt.ArrayLike, deterministic: bool = True
    ) -> tuple[Any, dict[str, Any]]:
        """Return ``(action, info)`` from SB3's ``model.predict`` (same input rules as bundles).

        Unlike a bundle, ``deterministic=False`` samples (or explores) as SB3 does.

        Raises:
            PredictionInputError: Wrong shape, a dtype that cannot be cast safely, or NaN / inf.
        """
        array = self._checker.convert(observation)
        normalization = self.normalization
        seen = array if normalization is None else _normalized(normalization, array)
        action, _ = self.model.predict(seen, deterministic=deterministic)
        if not self._discrete:
            return np.asarray(action, dtype=np.float32), {}
        if array.ndim == 2:
            actions = np.asarray(action, dtype=np.int64)
            levels = np.asarray(self.position_levels, dtype=np.float64)
            return actions, {"target_positions": levels[actions]}
        index = int(action)
        return index, {"target_position": self.position_levels[index]}

    def save_bundle(
        self, path: str | Path, *, overwrite: bool = False, config: ExportConfig | None = None
    ) -> Path:
        """Export the model as a verified bundle at ``path`` (see ``export_sb3_model``).

        Raises:
            BundleExportError: No lineage was given, or the export's own checks failed.
        """
        if self.lineage is None:
            raise BundleExportError(
                "lineage: required to save a bundle (config_hash, data_fingerprint, seed, "
                "timesteps); pass lineage= to SB3Policy"
            )
        return export_sb3_model(
            self.model,
            path,
            layout=self.layout,
            feature_spec=self.feature_spec,
            position_levels=self.position_levels,
            lineage=self.lineage,
            validation_metrics=self.validation_metrics,
            risk_policy_hash=self.risk_policy_hash,
            normalization=self.normalization,
            parity_observations=self.parity_observations,
            overwrite=overwrite,
            config=config,
        )

    @classmethod
    def load_bundle(cls, path: str | Path) -> BundlePolicy:
        """Open a bundle with the fastest installed runtime (not an SB3 model: see the module)."""
        return load_policy(path)

    def validate_prediction_latency(
        self,
        observation: npt.ArrayLike,
        num_trials: int = 100,
        *,
        slo_us: float = DEFAULT_LATENCY_SLO_US,
        n_warmup: int | None = None,
    ) -> LatencyStats:
        """Time ``num_trials`` calls of :meth:`predict` on one observation (single thread)."""
        return measure_predict_latency(
            self._checker,
            self.predict,
            observation,
            num_trials,
            runtime=self.runtime,
            slo_us=slo_us,
            n_warmup=n_warmup,
        )


def _normalized(
    normalization: ObservationNormalization, array: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    # One observation or a batch, normalized as VecNormalize does.
    return normalization.apply(array.reshape(-1, array.shape[-1])).reshape(array.shape)


__all__ = ["SB3Policy", "TorchScriptPolicy"]
