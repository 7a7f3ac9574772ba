"""The training config: one YAML (or the same as a dict) validated into frozen pydantic models.

```yaml
algorithm: DQN            # DQN | QR-DQN | PPO | A2C
algo_params: {...}        # keyword arguments of the SB3 algorithm's constructor
training_params: {total_timesteps: 50000, n_envs: 8, seed: 0, eval_freq: 10000, ...}
env:                      # the env config (episode, features, costs) plus its data
  data: {source: builtin, builtin: {n_sessions: 250, seed: 7}, split: {...}}
  window: 4
  costs: {half_spread_bps: 1.0, ...}
risk_config: {enabled: true, policy_yaml: config/risk_limits.yaml, penalty_weight: 0.001, ...}
run: {name: dqn_risk_aware, runs_dir: runs}
```
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from intraday_rl.data.source import DataSourceConfig
from intraday_rl.env.config import EnvConfig
from intraday_rl.shared.config import FrozenConfig, load_yaml_config, parse_config
from intraday_rl.shared.errors import ConfigError

Algorithm = Literal["DQN", "QR-DQN", "PPO", "A2C"]
ALGORITHMS: tuple[str, ...] = ("DQN", "QR-DQN", "PPO", "A2C")
# Constructor arguments the trainer sets itself; a config may not override them.
RESERVED_ALGO_PARAMS = ("policy", "env", "seed", "tensorboard_log", "verbose", "device")


def algorithm_class(name: str) -> type[Any]:
    """Return the SB3 / sb3-contrib class of an algorithm name (imports SB3 lazily)."""
    if name == "QR-DQN":
        from sb3_contrib import QRDQN

        return QRDQN
    import stable_baselines3

    if name not in ALGORITHMS:
        raise ConfigError(f"algorithm: expected one of {', '.join(ALGORITHMS)}, was {name!r}")
    return getattr(stable_baselines3, name)  # type: ignore[no-any-return]


def algo_param_names(name: str) -> tuple[str, ...]:
    """Names an algorithm's constructor accepts in ``algo_params``."""
    parameters = inspect.signature(algorithm_class(name).__init__).parameters
    reserved = ("self", *RESERVED_ALGO_PARAMS)
    return tuple(p for p in parameters if p not in reserved and not p.startswith("_"))


class TrainingParams(FrozenConfig):
    """How long and how to train, evaluate and checkpoint."""

    total_timesteps: int = Field(50_000, gt=0, description="Environment steps to train for.")
    n_envs: int = Field(8, ge=1, le=1024, description="Parallel envs (IntradayVecEnv).")
    seed: int = Field(0, ge=0, description="Seed of the algorithm, the envs and torch.")
    eval_freq: int = Field(
        10_000, gt=0, description="Evaluate on the validation sessions every this many steps."
    )
    n_eval_sessions: int | None = Field(
        None, gt=0, description="Validation sessions per evaluation (all when null)."
    )
    checkpoint_freq: int = Field(
        10_000, gt=0, description="Save a checkpoint (and DQN's replay buffer) every N steps."
    )
    keep_replay_buffers: int = Field(
        1,
        ge=1,
        description="Replay buffers (DQN / QR-DQN) of the newest checkpoints to keep; older ones "
        "are deleted once a newer checkpoint is complete.",
    )
    progress_bar: bool = Field(False, description="Show a rich progress bar.")
    reward_scale: float = Field(
        100.0,
        gt=0.0,
        description="Multiplier on the (shaped) reward the agent learns from; 100 makes one "
        "unit a percent of capital. Evaluation always reports unscaled money.",
    )
    device: Literal["cpu", "auto", "cuda"] = Field("cpu", description="Torch device.")


class RiskTrainingConfig(FrozenConfig):
    """The risk engine in the training loop: reward shaping and early stopping."""

    enabled: bool = Field(True, description="Shape rewards with the risk advisor's penalty.")
    policy_yaml: Path | None = Field(
        None, description="risk_limits.yaml to use; the shipped default when null."
    )
    penalty_weight: float = Field(
        1e-3, ge=0.0, description="λ in reward = net_pnl_reward − λ · penalty (penalty in [0, 1])."
    )
    early_stop_threshold: float | None = Field(
        None,
        gt=0.0,
        description="Stop when the rolling mean breach severity stays above this (null: never).",
    )
    early_stop_window: int = Field(
        2_000, gt=0, description="Steps (per env) in the rolling breach-severity window."
    )


class RunConfig(FrozenConfig):
    """Where a run writes its directory ``<runs_dir>/<name>-<timestamp>/``."""

    name: str = Field("run", min_length=1, pattern=r"^[A-Za-z0-9_.-]+$", description="Run name.")
    runs_dir: Path = Field(Path("runs"), description="Parent folder of run directories.")
    export_bundle: bool = Field(True, description="Export a policy bundle after training.")


class TrainEnvConfig(EnvConfig):
    """The env config plus where its data comes from."""

    data: DataSourceConfig = Field(
        default_factory=DataSourceConfig, description="Market data source and split."
    )

    def env_config(
        self, *, session_order: Literal["random", "sequential"], training: bool = False
    ) -> EnvConfig:
        """The plain :class:`EnvConfig` of this section, with the given session order.

        Only the training env (``training=True``) keeps ``reward_control_variate``: evaluation
        always scores the realized P&L.
        """
        fields = self.model_dump(exclude={"data", "session_order"})
        if not training:
            fields["reward_control_variate"] = 0.0
        return EnvConfig.model_validate({**fields, "session_order": session_order})


class SearchDimension(FrozenConfig):
    """One hyper-parameter's range for ``intraday-rl tune`` (an Optuna distribution)."""

    type: Literal["float", "int", "categorical"] = Field(description="Distribution kind.")
    low: float | None = Field(None, description="float / int: lower bound (inclusive).")
    high: float | None = Field(None, description="float / int: upper bound (inclusive).")
    log: bool = Field(False, description="float / int: sample on a log scale.")
    choices: tuple[Any, ...] | None = Field(None, description="categorical: the values.")

    @model_validator(mode="after")
    def _check_range(self) -> SearchDimension:
        if self.type == "categorical":
            if not self.choices:
                raise ValueError("choices: required (non-empty) for a categorical dimension")
            return self
        if self.low is None or self.high is None or not self.low < self.high:
            raise ValueError(f"low, high: expected low < high, was {self.low}, {self.high}")
        if self.log and self.low <= 0:
            raise ValueError(f"low: expected > 0 on a log scale, was {self.low}")
        return self


class TuneConfig(FrozenConfig):
    """What ``intraday-rl tune`` searches: dotted config keys and their ranges."""

    n_trials: int = Field(20, ge=1, description="Trials (each one training run).")
    total_timesteps: int | None = Field(
        None, gt=0, description="Training length of each trial (the config's when null)."
    )
    seed: int = Field(0, ge=0, description="Seed of the TPE sampler.")
    pruner: Literal["median", "none"] = Field(
        "median", description="Stop trials whose validation score trails the median."
    )
    space: dict[str, SearchDimension] = Field(
        default_factory=dict,
        description="Dotted config keys (e.g. 'algo_params.learning_rate', "
        "'env.decision_every', 'risk_config.penalty_weight') and their ranges.",
    )


class TrainingConfig(FrozenConfig):
    """Everything a training run needs; hashed into the run's lineage."""

    algorithm: Algorithm = Field("DQN", description="DQN, QR-DQN (sb3-contrib), PPO or A2C.")
    algo_params: dict[str, Any] = Field(
        default_factory=dict, description="Constructor keyword arguments of the algorithm."
    )
    training_params: TrainingParams = Field(default_factory=TrainingParams)
    env: TrainEnvConfig = Field(default_factory=TrainEnvConfig)
    risk_config: RiskTrainingConfig = Field(default_factory=RiskTrainingConfig)
    run: RunConfig = Field(default_factory=RunConfig)
    tune: TuneConfig | None = Field(
        None, description="Search space of `intraday-rl tune` (validation sessions only)."
    )

    @field_validator("algorithm", mode="before")
    @classmethod
    def _known_algorithm(cls, value: Any) -> Any:
        if value not in ALGORITHMS:
            raise ValueError(f"expected one of {', '.join(ALGORITHMS)}")
        return value

    @model_validator(mode="after")
    def _known_algo_params(self) -> TrainingConfig:
        valid = algo_param_names(self.algorithm)
        unknown = sorted(set(self.algo_params) - set(valid))
        if unknown:
            raise ValueError(
                f"algo_params: unknown for {self.algorithm}: {', '.join(unknown)}; "
                f"valid: {', '.join(valid)}"
            )
        if self.algorithm in ("DQN", "QR-DQN") and self.env.action_type != "discrete":
            raise ValueError(f"env.action_type: {self.algorithm} needs 'discrete', was 'box'")
        if self.tune is not None:
            data = self.model_dump(mode="json")
            for key in self.tune.space:
                if not _has_key(data, key.split(".")):
                    raise ValueError(f"tune.space: {key!r} is not a key of this config")
        return self


def _has_key(data: dict[str, Any], parts: list[str]) -> bool:
    # algo_params take any constructor argument, present in the YAML or not.
    if parts[0] == "algo_params" and len(parts) == 2:
        return True
    node: Any = data
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def load_training_config(source: str | Path | dict[str, Any] | TrainingConfig) -> TrainingConfig:
    """Read a YAML path, a dict or a config into a validated :class:`TrainingConfig`."""
    if isinstance(source, TrainingConfig):
        return source
    if isinstance(source, dict):
        return parse_config(TrainingConfig, source, source="training config")
    return load_yaml_config(TrainingConfig, source)


def apply_params(config: TrainingConfig, params: Mapping[str, Any]) -> TrainingConfig:
    """Return ``config`` with each dotted key of ``params`` set, e.g. ``{"run.name": "x"}``.

    The result is validated again like any config.

    Raises:
        ConfigError: A key that is not in the config, or a value the config refuses.
    """
    data = config.model_dump(mode="json")
    for key, value in params.items():
        *parents, leaf = key.split(".")
        node = data
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                raise ConfigError(f"{key!r} is not a key of this config")
            node = child
        node[leaf] = value
    return load_training_config(data)
