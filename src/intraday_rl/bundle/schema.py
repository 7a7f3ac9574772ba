"""The bundle format: file names and the versioned ``metadata.json`` schema.

A bundle is a folder::

    policy.pt          TorchScript: raw observation -> normalization -> network -> action
    policy.onnx        the same graph for ONNX Runtime (outputs "action" and "scores")
    policy.npz         the same network's weights for the numpy runtime (MLP policies only)
    verification.npz   observations with SB3's actions and scores, re-checked at every load
    metadata.json      this schema

``metadata.json`` records the sha256 of every other file and, under ``integrity``, the sha256 of
each of its own top-level fields, so a changed byte or an edited field is caught before anything
runs (see :mod:`intraday_rl.bundle.storage`). See ``docs/bundle.md`` for every key.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import Field

from intraday_rl.bundle.config import ObservationNormalization, TrainingLineage
from intraday_rl.shared.config import FrozenConfig

BUNDLE_SCHEMA_VERSION: Final = 1
SUPPORTED_SCHEMA_VERSIONS: Final = (1,)
BUNDLE_FORMAT: Final = "intraday-rl/policy-bundle"

METADATA_FILE: Final = "metadata.json"
TORCHSCRIPT_FILE: Final = "policy.pt"
ONNX_FILE: Final = "policy.onnx"
NUMPY_FILE: Final = "policy.npz"
VERIFICATION_FILE: Final = "verification.npz"
REQUIRED_FILES: Final = (TORCHSCRIPT_FILE, ONNX_FILE, VERIFICATION_FILE)

ONNX_INPUT: Final = "observation"
ONNX_OUTPUTS: Final = ("action", "scores")

RuntimeName = Literal["onnxruntime", "numpy", "torchscript"]
RUNTIME_NAMES: Final[tuple[RuntimeName, ...]] = ("onnxruntime", "numpy", "torchscript")
"""Runtimes from fastest to slowest (measured: ``intraday-rl bench predict``)."""

RUNTIME_FILES: Final[dict[RuntimeName, str]] = {
    "onnxruntime": ONNX_FILE,
    "numpy": NUMPY_FILE,
    "torchscript": TORCHSCRIPT_FILE,
}

HeadKind = Literal["q_argmax", "quantile_mean_argmax", "categorical_mode", "gaussian_mode"]
SHA256_PATTERN: Final = r"^[0-9a-f]{64}$"


class FileRecord(FrozenConfig):
    """A bundle file's content hash and size."""

    sha256: str = Field(pattern=SHA256_PATTERN, description="sha256 hex digest of the file.")
    size_bytes: int = Field(ge=0, description="File size in bytes.")


class AlgorithmInfo(FrozenConfig):
    """Which algorithm produced the policy and how its greedy action is computed."""

    name: str = Field(description="SB3 algorithm: DQN, QRDQN, PPO or A2C.")
    framework: str = Field(description="Training framework, e.g. 'stable-baselines3'.")
    framework_version: str = Field(description="Version of the training framework.")
    policy_class: str = Field(description="Class name of the SB3 policy.")
    head: HeadKind = Field(
        description="q_argmax (DQN), quantile_mean_argmax (QR-DQN), categorical_mode "
        "(PPO/A2C discrete: argmax of logits), gaussian_mode (PPO/A2C box: mean, clipped)."
    )
    n_quantiles: int | None = Field(None, ge=1, description="QR-DQN only: quantiles per action.")
    squash_output: bool = Field(False, description="Box head only: tanh then rescale to bounds.")
    layers: tuple[str, ...] = Field(
        description="Network after normalization, e.g. ('linear 52x64', 'relu', ...); empty "
        "when it is not a plain MLP (then there is no numpy runtime)."
    )


class ObservationInfo(FrozenConfig):
    """The observation the runtimes take: float32, shape (obs_dim,), built by the layout."""

    dtype: Literal["float32"] = Field("float32", description="Observation dtype.")
    shape: tuple[int] = Field(description="(obs_dim,)")
    layout: dict[str, Any] = Field(description="ObservationLayout.to_dict() at export.")


class ActionInfo(FrozenConfig):
    """What an action means: a position level index, or a continuous target exposure."""

    kind: Literal["discrete", "box"] = Field(description="Discrete index or Box vector.")
    n_actions: int | None = Field(None, ge=2, description="Discrete only: number of actions.")
    position_levels: tuple[float, ...] | None = Field(
        None, description="Discrete only: target exposure of each action index."
    )
    shape: tuple[int, ...] | None = Field(None, description="Box only: action shape.")
    low: tuple[float, ...] | None = Field(None, description="Box only: lower bounds.")
    high: tuple[float, ...] | None = Field(None, description="Box only: upper bounds.")
    n_scores: int = Field(ge=1, description="Width of the 'scores' output (q-values, logits).")


class ActingRules(FrozenConfig):
    """The env rules a policy's actions were trained under, so execution can act the same way."""

    decision_every: int = Field(ge=1, description="Bars between decisions (the policy's clock).")
    min_trade_fraction: float = Field(ge=0.0, description="Rebalance deadband, fraction of equity.")
    lot_size: float = Field(gt=0.0, description="Orders are whole multiples of this size.")
    max_exposure: float = Field(gt=0.0, description="Largest |target exposure|.")
    fill_delay_bars: int = Field(ge=1, description="Bars between a decision and its fill.")
    initial_capital: float = Field(gt=0.0, description="Capital the sizing assumed.")


class RuntimeParity(FrozenConfig):
    """How one runtime compared with SB3 on the parity observations at export."""

    n_observations: int = Field(ge=1, description="Observations compared.")
    n_action_mismatches: int = Field(ge=0, description="Actions that differ (near ties only).")
    max_abs_score_diff: float = Field(ge=0.0, description="Largest |score - SB3 score|.")


class ParityInfo(FrozenConfig):
    """Parity of every runtime with SB3's ``predict(obs, deterministic=True)``."""

    source: Literal["rollouts", "synthetic"] = Field(
        description="Where the parity observations came from."
    )
    n_observations: int = Field(ge=0, description="Parity observations compared at export.")
    n_verification_observations: int = Field(ge=1, description="Rows of verification.npz.")
    score_atol: float = Field(gt=0.0, description="Absolute score tolerance.")
    score_rtol: float = Field(gt=0.0, description="Relative score tolerance.")
    runtimes: dict[str, RuntimeParity] = Field(
        default_factory=dict, description="Per runtime; empty only in the draft written first."
    )


class BundleMetadata(FrozenConfig):
    """Everything ``metadata.json`` holds (schema version 1)."""

    schema_version: Literal[1] = Field(description="Version of this schema.")
    format: Literal["intraday-rl/policy-bundle"] = Field(description="Format marker.")
    created_at: str = Field(description="UTC time of export, ISO 8601.")
    algorithm: AlgorithmInfo = Field(description="Algorithm and greedy head.")
    observation: ObservationInfo = Field(description="Observation dtype, shape and layout.")
    feature_spec: dict[str, Any] = Field(description="FeatureSpec.model_dump(mode='json').")
    feature_spec_hash: str = Field(pattern=SHA256_PATTERN, description="FeatureSpec.spec_hash().")
    action: ActionInfo = Field(description="Action mapping.")
    rules: ActingRules | None = Field(
        None, description="Env rules the actions depend on (absent in bundles before them)."
    )
    normalization: ObservationNormalization | None = Field(
        description="VecNormalize statistics applied inside the graph, or null."
    )
    runtimes: tuple[RuntimeName, ...] = Field(
        min_length=1, description="Runtimes this bundle supports, fastest first."
    )
    files: dict[str, FileRecord] = Field(description="sha256 and size of every other file.")
    lineage: TrainingLineage = Field(description="Training lineage.")
    risk_policy_hash: str | None = Field(description="Hash of the risk policy used in training.")
    validation_metrics: dict[str, float | None] = Field(
        description="Validation metrics at export (NaN / inf recorded as null)."
    )
    parity: ParityInfo = Field(description="Parity with SB3 at export.")
    latency_validation: dict[str, dict[str, Any]] = Field(
        description="LatencyStats of each runtime at export (single thread)."
    )
    package_versions: dict[str, str] = Field(description="Versions of python and packages.")
    integrity: dict[str, Any] = Field(
        description="sha256 of each other top-level field and of them all (see storage)."
    )
