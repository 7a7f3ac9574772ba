"""The bundle format: file names and the versioned ``metadata.json`` schema.

A bundle is a folder::

    policy.pt          TorchScript: raw observation -> normalization -> network -> action
    policy.onnx        the same graph for ONNX Runtime (outputs "action" and "scores")
    policy.npz         the same network's weights for the numpy runtime (MLP policies only)
    verification.npz   observations with SB3's actions and scores, re-checked at every load
    metadata.json      this schema

``metadata.json`` records the sha256 of every other file and, under ``integrity``, the sha256 of
each of its own top-level fields, so a changed byte or an edited field is caught before anything
runs (see :mod:`intraday_rl.bundle.storage`). An optional ``signature.json`` (not listed in
``files``) signs ``metadata.json`` (see :mod:`intraday_rl.bundle.signing`).

:class:`BundleMetadata` also checks the rules that tie its fields together (one position level
per action, levels within ``rules.max_exposure``, layer widths chaining from ``obs_dim`` to
``n_scores``, ...) and bounds the values that must stay sane whatever a signature says (parity
tolerances <= :data:`~intraday_rl.bundle.normalization.MAX_SCORE_TOLERANCE`, |exposure| <=
:data:`MAX_EXPOSURE_BOUND`, finite numbers). See ``docs/bundle.md`` for every key.
"""

from __future__ import annotations

import math
import re
import struct
from typing import Annotated, Any, Final, Literal

from pydantic import Field, model_validator

from intraday_rl.bundle.normalization import (
    MAX_SCORE_TOLERANCE,
    ObservationNormalization,
    TrainingLineage,
)
from intraday_rl.shared.config import FrozenConfig

BUNDLE_SCHEMA_VERSION: Final = 1
SUPPORTED_SCHEMA_VERSIONS: Final = (1,)
BUNDLE_FORMAT: Final = "intraday-rl/policy-bundle"

METADATA_FILE: Final = "metadata.json"
TORCHSCRIPT_FILE: Final = "policy.pt"
ONNX_FILE: Final = "policy.onnx"
NUMPY_FILE: Final = "policy.npz"
VERIFICATION_FILE: Final = "verification.npz"
SIGNATURE_FILE: Final = "signature.json"
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

MAX_EXPOSURE_BOUND: Final = 10.0
"""Largest |target exposure| any bundle may ask for (the bound of ``EnvConfig.max_exposure``)."""

LAYER_ACTIVATIONS: Final = ("relu", "tanh", "identity")
"""Activations ``algorithm.layers`` may name (what the numpy runtime evaluates)."""

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]

_LINEAR_LAYER: Final = re.compile(r"linear ([1-9][0-9]*)x([1-9][0-9]*)")


def parse_linear(layer: str) -> tuple[int, int] | None:
    """Return ``(in_features, out_features)`` of a ``"linear AxB"`` layer, else ``None``.

    >>> parse_linear("linear 52x64"), parse_linear("relu")
    ((52, 64), None)
    """
    match = _LINEAR_LAYER.fullmatch(layer)
    return None if match is None else (int(match.group(1)), int(match.group(2)))


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
    shape: tuple[Annotated[int, Field(ge=1)]] = Field(description="(obs_dim,)")
    layout: dict[str, Any] = Field(description="ObservationLayout.to_dict() at export.")


class ActionInfo(FrozenConfig):
    """What an action means: a position level index, or a continuous target exposure."""

    kind: Literal["discrete", "box"] = Field(description="Discrete index or Box vector.")
    n_actions: int | None = Field(None, ge=2, description="Discrete only: number of actions.")
    position_levels: tuple[FiniteFloat, ...] | None = Field(
        None, description="Discrete only: target exposure of each action index."
    )
    shape: tuple[Annotated[int, Field(ge=1)], ...] | None = Field(
        None, description="Box only: action shape."
    )
    low: tuple[FiniteFloat, ...] | None = Field(None, description="Box only: lower bounds.")
    high: tuple[FiniteFloat, ...] | None = Field(None, description="Box only: upper bounds.")
    n_scores: int = Field(ge=1, description="Width of the 'scores' output (q-values, logits).")


class ActingRules(FrozenConfig):
    """The env rules a policy's actions were trained under, so execution can act the same way."""

    decision_every: int = Field(
        ge=1, le=10_000, description="Bars between decisions (the policy's clock)."
    )
    min_trade_fraction: float = Field(
        ge=0.0, lt=1.0, description="Rebalance deadband, fraction of equity."
    )
    lot_size: float = Field(
        gt=0.0, allow_inf_nan=False, description="Orders are whole multiples of this size."
    )
    max_exposure: float = Field(
        gt=0.0, le=MAX_EXPOSURE_BOUND, description="Largest |target exposure| (<= 10)."
    )
    fill_delay_bars: int = Field(ge=1, le=60, description="Bars between a decision and its fill.")
    initial_capital: float = Field(
        gt=0.0, allow_inf_nan=False, description="Capital the sizing assumed."
    )


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
    score_atol: float = Field(
        gt=0.0, le=MAX_SCORE_TOLERANCE, description="Absolute score tolerance (<= 1e-2)."
    )
    score_rtol: float = Field(
        gt=0.0, le=MAX_SCORE_TOLERANCE, description="Relative score tolerance (<= 1e-2)."
    )
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

    @model_validator(mode="after")
    def _check_cross_field_rules(self) -> BundleMetadata:
        obs_dim = self.observation.shape[0]
        problems = [
            *_action_problems(self.algorithm, self.action, self.rules),
            *_network_problems(self.algorithm.layers, obs_dim, self.action.n_scores),
            *_runtime_problems(self.runtimes, self.files, self.algorithm.layers),
            *_parity_problems(self.parity, self.runtimes),
        ]
        if self.normalization is not None and self.normalization.size != obs_dim:
            problems.append(
                f"normalization.mean: expected {obs_dim} values (observation.shape[0]), "
                f"was {self.normalization.size}"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self


# -- cross-field rules: each returns "field: expected X, was Y" problems -----------------------
def _action_problems(
    algorithm: AlgorithmInfo, action: ActionInfo, rules: ActingRules | None
) -> list[str]:
    problems: list[str] = []
    box_head = algorithm.head == "gaussian_mode"
    if box_head != (action.kind == "box"):
        expected = "box" if box_head else "discrete"
        problems.append(
            f"action.kind: expected {expected!r} for algorithm.head {algorithm.head!r}, "
            f"was {action.kind!r}"
        )
    quantiles = algorithm.head == "quantile_mean_argmax"
    if quantiles != (algorithm.n_quantiles is not None):
        expected = "a quantile count" if quantiles else "null"
        problems.append(
            f"algorithm.n_quantiles: expected {expected} for algorithm.head "
            f"{algorithm.head!r}, was {algorithm.n_quantiles!r}"
        )
    limit, source = (
        (rules.max_exposure, "rules.max_exposure")
        if rules is not None
        else (MAX_EXPOSURE_BOUND, "the bound of any bundle")
    )
    if action.kind == "discrete":
        return problems + _discrete_problems(action, limit, source)
    return problems + _box_problems(action, limit, source)


def _discrete_problems(action: ActionInfo, limit: float, source: str) -> list[str]:
    levels, n_actions = action.position_levels, action.n_actions
    if levels is None or n_actions is None:
        return [
            f"action: expected n_actions and position_levels for a discrete action, was "
            f"n_actions={n_actions!r}, position_levels={levels!r}"
        ]
    problems: list[str] = []
    if len(levels) != n_actions:
        problems.append(
            f"action.position_levels: expected {n_actions} levels (one per action, "
            f"action.n_actions), was {len(levels)}: {list(levels)}"
        )
    if action.n_scores != n_actions:
        problems.append(
            f"action.n_scores: expected {n_actions} (one score per action), was {action.n_scores}"
        )
    beyond = [level for level in levels if abs(level) > limit]
    if beyond:
        problems.append(
            f"action.position_levels: expected every |level| <= {limit} ({source}), was {beyond}"
        )
    for name in ("shape", "low", "high"):
        if getattr(action, name) is not None:
            problems.append(f"action.{name}: expected null for a discrete action")
    return problems


def _box_problems(action: ActionInfo, limit: float, source: str) -> list[str]:
    shape, low, high = action.shape, action.low, action.high
    if shape is None or low is None or high is None:
        return [
            f"action: expected shape, low and high for a box action, was shape={shape!r}, "
            f"low={low!r}, high={high!r}"
        ]
    size = math.prod(shape)
    problems: list[str] = []
    for name, bounds in (("low", low), ("high", high)):
        if len(bounds) != size:
            problems.append(
                f"action.{name}: expected {size} bounds (action.shape {list(shape)}), "
                f"was {len(bounds)}"
            )
    if action.n_scores != size:
        problems.append(
            f"action.n_scores: expected {size} (one mean per action element), was {action.n_scores}"
        )
    inverted = [index for index, (lo, hi) in enumerate(zip(low, high, strict=False)) if lo > hi]
    if inverted:
        problems.append(f"action.low: expected <= action.high, was greater at {inverted}")
    # The env's Box space is float32: its bounds are the limit rounded to float32 (0.8 is
    # recorded as 0.800000011920929), which must not count as outside the limit.
    float32_limit = struct.unpack("f", struct.pack("f", limit))[0]
    outside = [bound for bound in (*low, *high) if abs(bound) > max(limit, float32_limit)]
    if outside:
        problems.append(
            f"action.low, action.high: expected within ±{limit} ({source}), was {outside}"
        )
    for name in ("n_actions", "position_levels"):
        if getattr(action, name) is not None:
            problems.append(f"action.{name}: expected null for a box action")
    return problems


def _network_problems(layers: tuple[str, ...], obs_dim: int, n_scores: int) -> list[str]:
    # Widths must chain: obs_dim -> linear -> ... -> linear -> n_scores (empty: not an MLP).
    if not layers:
        return []
    problems: list[str] = []
    width, source = obs_dim, "observation.shape[0]"
    for index, name in enumerate(layers):
        sizes = parse_linear(name)
        if sizes is None:
            if name not in LAYER_ACTIVATIONS:
                problems.append(
                    f"algorithm.layers[{index}]: expected 'linear AxB' or one of "
                    f"{', '.join(LAYER_ACTIVATIONS)}, was {name!r}"
                )
            continue
        if sizes[0] != width:
            problems.append(
                f"algorithm.layers[{index}]: expected input width {width} ({source}), "
                f"was {sizes[0]} ({name!r})"
            )
        width, source = sizes[1], f"algorithm.layers[{index}] output"
    for index in (0, len(layers) - 1):
        if parse_linear(layers[index]) is None:
            problems.append(
                f"algorithm.layers[{index}]: expected a linear layer, was {layers[index]!r}"
            )
    if parse_linear(layers[-1]) is not None and width != n_scores:
        problems.append(
            f"algorithm.layers[{len(layers) - 1}]: expected output width {n_scores} "
            f"(action.n_scores), was {width}"
        )
    return problems


def _runtime_problems(
    runtimes: tuple[RuntimeName, ...], files: dict[str, FileRecord], layers: tuple[str, ...]
) -> list[str]:
    problems: list[str] = []
    if len(set(runtimes)) != len(runtimes):
        problems.append(f"runtimes: expected each runtime once, was {list(runtimes)}")
    for name in runtimes:
        if RUNTIME_FILES[name] not in files:
            problems.append(
                f"files: expected an entry for {RUNTIME_FILES[name]!r} (runtime {name!r}), "
                "none found"
            )
    if "numpy" in runtimes and not layers:
        problems.append("runtimes: 'numpy' needs algorithm.layers (a plain MLP), was empty")
    return problems


def _parity_problems(parity: ParityInfo, runtimes: tuple[RuntimeName, ...]) -> list[str]:
    problems: list[str] = []
    if parity.n_verification_observations > parity.n_observations:
        problems.append(
            f"parity.n_verification_observations: expected <= parity.n_observations "
            f"({parity.n_observations}), was {parity.n_verification_observations}"
        )
    unknown = sorted(set(parity.runtimes) - set(runtimes))
    if unknown:
        problems.append(
            f"parity.runtimes: expected results for runtimes among {list(runtimes)}, "
            f"was also {unknown}"
        )
    return problems
