"""The seam between :class:`~intraday_rl.training.trainer_agent.TrainerAgent` and a framework.

TrainerAgent owns what every framework shares: the resolved config, the run directory, the data,
the risk policy, evaluation on the validation sessions, lineage and the bundle. A backend owns
how one framework trains: its training env wrappers, model, callbacks, checkpoints and resume,
and how its network is extracted for export. Stable-Baselines3 is the backend today
(:mod:`intraday_rl.training.sb3_backend`); an RLlib backend implements the same two protocols.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from intraday_rl.data.sessions import Session
from intraday_rl.env.config import EnvConfig
from intraday_rl.env.trading_env import IntradayTradingEnv
from intraday_rl.evaluation.rollout import EnvPolicy
from intraday_rl.risk.advisor import ProductionRiskAdvisor
from intraday_rl.training.config import TrainingConfig

if TYPE_CHECKING:
    from intraday_rl.bundle.export import ReferencePredict
    from intraday_rl.bundle.graph import ExtractedPolicy


@dataclass(frozen=True)
class TrainingPlan:
    """Everything a backend needs to train (or resume) one run.

    Attributes:
        config: The resolved (fitted) training config.
        run_dir: The run directory (created; checkpoints, logs and models go inside).
        resume: Continue from the newest complete checkpoint in ``run_dir``.
        train_sessions: The training sessions.
        train_env_config: The env config for training (random session order, reward shaping on).
        validation_env: Builds the validation env (sessions in order, unshaped).
        n_eval_sessions: Validation sessions per periodic evaluation.
        advisor: Builds the risk advisor for one env (None: risk shaping off).
        env: A training env the caller built (used as is) or None.
        callbacks: Extra framework callbacks from the caller (e.g. SB3 ``BaseCallback``).
        after_eval: Runs after each periodic evaluation (tuning prunes there), or None.
    """

    config: TrainingConfig
    run_dir: Path
    resume: bool
    train_sessions: Sequence[Session]
    train_env_config: EnvConfig
    validation_env: Callable[[], IntradayTradingEnv]
    n_eval_sessions: int
    advisor: Callable[[], ProductionRiskAdvisor] | None
    env: Any = None
    callbacks: Sequence[Any] = ()
    after_eval: Any = None


class TrainedModel(Protocol):
    """A trained model as TrainerAgent handles it, whatever framework trained it."""

    @property
    def num_timesteps(self) -> int:
        """Environment steps trained so far."""
        ...

    def save(self, path: Path) -> None:
        """Write the model (framework format) to ``path``."""
        ...

    def env_policy(self, name: str = "agent") -> EnvPolicy:
        """The greedy policy as the evaluation's ``EnvPolicy``."""
        ...

    def extract(
        self, position_levels: tuple[float, ...]
    ) -> tuple[ExtractedPolicy, ReferencePredict]:
        """The greedy network for export and the framework's own predict on raw observations."""
        ...


@dataclass(frozen=True)
class FitOutcome:
    """What one ``fit`` produced."""

    model: TrainedModel
    resumed_from: int | None
    stop_reason: str | None


class TrainingBackend(Protocol):
    """One training framework behind TrainerAgent."""

    name: str
    final_model_name: str  # file name of the final model inside the run directory

    def fit(self, plan: TrainingPlan) -> FitOutcome:
        """Train (or resume) as ``plan`` says; the risk callback's early stop included."""
        ...

    def load(self, run_dir: Path, which: Literal["best", "final"]) -> TrainedModel | None:
        """The validation-best or the final model saved in ``run_dir`` (None: not saved)."""
        ...
