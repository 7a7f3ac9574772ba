"""Configuration of bundle export, observation normalization and training lineage.

Three frozen models: :class:`ExportConfig` (how an export is verified), and the two value types a
bundle records about training, :class:`ObservationNormalization` (a ``VecNormalize``'s running
statistics, applied inside the exported graph) and :class:`TrainingLineage`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from intraday_rl.shared.config import FrozenConfig, format_validation_error
from intraday_rl.shared.errors import BundleExportError
from intraday_rl.shared.policy import DEFAULT_LATENCY_SLO_US

MAX_SCORE_TOLERANCE: Final = 1e-2
"""Largest parity tolerance (absolute and relative) an export or a bundle may use.

A looser tolerance would let a runtime that computes another policy pass verification.
"""


class ExportConfig(FrozenConfig):
    """How an export verifies the bundle before it is renamed into place."""

    opset_version: int = Field(17, ge=13, le=21, description="ONNX opset of policy.onnx.")
    n_verification_observations: int = Field(
        256,
        ge=1,
        le=100_000,
        description="Parity observations stored in verification.npz; every load re-checks them.",
    )
    n_synthetic_observations: int = Field(
        1000,
        ge=1,
        description="Observations drawn when no parity observations are given (not recommended: "
        "pass observations from real env rollouts).",
    )
    score_atol: float = Field(
        1e-4,
        gt=0.0,
        le=MAX_SCORE_TOLERANCE,
        description="Absolute tolerance between a runtime's and SB3's action scores (<= 1e-2).",
    )
    score_rtol: float = Field(
        1e-4,
        gt=0.0,
        le=MAX_SCORE_TOLERANCE,
        description="Relative tolerance (times the largest |score| of the observation, <= 1e-2).",
    )
    latency_trials: int = Field(
        2000, ge=10, description="Timed predicts per runtime for the recorded latency."
    )
    latency_slo_us: float = Field(
        DEFAULT_LATENCY_SLO_US, gt=0.0, description="Latency objective recorded with the stats."
    )
    require_latency_slo: bool = Field(
        False,
        description="Fail the export when the fastest runtime misses the latency objective at "
        "p99 (off by default: a busy machine would fail a finished training run).",
    )


class VecNormalizeLike(Protocol):
    """What export reads from an SB3 ``VecNormalize`` (no SB3 import needed)."""

    norm_obs: bool
    clip_obs: float
    epsilon: float

    @property
    def obs_rms(self) -> Any:
        """Running statistics with ``mean`` and ``var`` arrays."""
        ...


class ObservationNormalization(FrozenConfig):
    """``clip((obs - mean) / sqrt(var + epsilon), -clip_obs, clip_obs)``, as SB3's VecNormalize."""

    mean: tuple[float, ...] = Field(description="Running mean of each observation element.")
    var: tuple[float, ...] = Field(description="Running variance of each element, >= 0.")
    clip_obs: float = Field(10.0, gt=0.0, description="Normalized values are clipped to ±this.")
    epsilon: float = Field(1e-8, gt=0.0, description="Added to var before the square root.")

    @model_validator(mode="after")
    def _check_statistics(self) -> ObservationNormalization:
        if len(self.mean) != len(self.var):
            raise ValueError(
                f"var: expected {len(self.mean)} values (one per mean), was {len(self.var)}"
            )
        if not all(math.isfinite(value) for value in self.mean):
            raise ValueError("mean: expected finite values, found NaN or inf")
        if not all(math.isfinite(value) and value >= 0.0 for value in self.var):
            raise ValueError("var: expected finite values >= 0, found a negative, NaN or inf")
        if not (math.isfinite(self.clip_obs) and math.isfinite(self.epsilon)):
            raise ValueError("clip_obs, epsilon: expected finite values")
        return self

    @classmethod
    def from_vec_normalize(cls, vec_normalize: VecNormalizeLike) -> ObservationNormalization | None:
        """Read a ``VecNormalize``'s observation statistics; ``None`` when ``norm_obs`` is off."""
        if not vec_normalize.norm_obs:
            return None
        rms = vec_normalize.obs_rms
        if isinstance(rms, Mapping):
            raise BundleExportError(
                "normalization: dict observation spaces are not supported, was a VecNormalize "
                f"with keys {sorted(rms)}"
            )
        mean = np.asarray(rms.mean, dtype=np.float64).reshape(-1)
        var = np.asarray(rms.var, dtype=np.float64).reshape(-1)
        return cls(
            mean=tuple(mean.tolist()),
            var=tuple(var.tolist()),
            clip_obs=float(vec_normalize.clip_obs),
            epsilon=float(vec_normalize.epsilon),
        )

    @property
    def size(self) -> int:
        """Number of observation elements these statistics cover."""
        return len(self.mean)

    def float32_arrays(self) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """Return ``(mean, 1 / sqrt(var + epsilon))`` as float32: what every runtime applies."""
        mean = np.asarray(self.mean, dtype=np.float64)
        inv_std = 1.0 / np.sqrt(np.asarray(self.var, dtype=np.float64) + self.epsilon)
        return mean.astype(np.float32), inv_std.astype(np.float32)

    def apply(self, observations: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.float32]:
        """Normalize like SB3's ``VecNormalize.normalize_obs`` (float64, then float32)."""
        mean = np.asarray(self.mean, dtype=np.float64)
        std = np.sqrt(np.asarray(self.var, dtype=np.float64) + self.epsilon)
        scaled = (observations.astype(np.float64) - mean) / std
        return np.clip(scaled, -self.clip_obs, self.clip_obs).astype(np.float32)


_LINEAGE_ALIASES = {"total_timesteps": "timesteps", "num_timesteps": "timesteps"}


class TrainingLineage(BaseModel):
    """Where a bundle's policy came from; other keys the trainer records go to ``extra``.

    Frozen and strict like :class:`FrozenConfig`, but not one: its ``config_hash`` field is the
    training config's hash, which would shadow ``FrozenConfig.config_hash()``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    config_hash: str = Field(min_length=1, description="Hash of the training run's config.")
    data_fingerprint: str = Field(min_length=1, description="sha256 of the training bars.")
    seed: int = Field(description="Root seed of the training run.")
    timesteps: int = Field(ge=0, description="Environment steps the policy was trained for.")
    git_commit: str | None = Field(None, description="Commit of the training code, if known.")
    extra: dict[str, Any] = Field(
        default_factory=dict, description="Any other lineage the trainer recorded (JSON values)."
    )

    @classmethod
    def from_mapping(cls, lineage: Mapping[str, Any]) -> TrainingLineage:
        """Validate a trainer's lineage mapping; unknown keys are kept under ``extra``.

        Raises:
            BundleExportError: A required key is missing, a value has the wrong type, or a value
                is not JSON-serializable.
        """
        known = set(cls.model_fields) - {"extra"}
        data: dict[str, Any] = {"extra": dict(lineage.get("extra", {}))}
        for key, value in lineage.items():
            name = _LINEAGE_ALIASES.get(key, key)
            if name in known:
                data[name] = value
            elif key != "extra":
                data["extra"][key] = value
        try:
            json.dumps(data["extra"], allow_nan=False)
        except (TypeError, ValueError) as error:
            raise BundleExportError(f"lineage: values must be JSON-serializable: {error}") from None
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            raise BundleExportError(format_validation_error(error, "lineage")) from None
