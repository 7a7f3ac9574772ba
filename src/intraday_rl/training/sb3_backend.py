"""The Stable-Baselines3 backend: SB3's VecEnv wrappers, algorithms, callbacks and checkpoints."""

from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList, EvalCallback
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecMonitor

import intraday_rl.training.run_dir as runs
from intraday_rl.bundle.export import ReferencePredict
from intraday_rl.bundle.graph import ExtractedPolicy
from intraday_rl.env.episodes import EpisodeBook
from intraday_rl.env.trading_env import IntradayTradingEnv
from intraday_rl.env.vec_env import IntradayVecEnv
from intraday_rl.training.backend import FitOutcome, TrainingPlan
from intraday_rl.training.callbacks import RiskAwareCallback
from intraday_rl.training.checkpoints import (
    AtomicCheckpointCallback,
    checkpoint_paths,
    prune_replay_buffers,
)
from intraday_rl.training.config import algorithm_class, load_training_config
from intraday_rl.training.evaluation_log import ResumableEvalCallback
from intraday_rl.training.progress import RichProgressCallback
from intraday_rl.training.risk_shaping import RiskShapingVecEnv, ScaleReward

_LOG = logging.getLogger(__name__)
FINAL_MODEL = "final_model.zip"
BEST_MODEL = Path("best") / "best_model.zip"


class SB3EnvPolicy:
    """Adapts a trained SB3 model to the evaluation ``EnvPolicy`` protocol (greedy actions)."""

    def __init__(self, model: BaseAlgorithm, name: str = "agent") -> None:
        self.model = model
        self.name = name

    def act(self, observation: Any, env: IntradayTradingEnv) -> Any:
        action, _ = self.model.predict(observation, deterministic=True)
        return action


class SB3Model:
    """An SB3 algorithm as a :class:`~intraday_rl.training.backend.TrainedModel`."""

    def __init__(self, algorithm: BaseAlgorithm) -> None:
        self.algorithm = algorithm

    @property
    def num_timesteps(self) -> int:
        """Environment steps trained so far."""
        return int(self.algorithm.num_timesteps)

    def save(self, path: Path) -> None:
        """Write SB3's zip to ``path``."""
        self.algorithm.save(path)

    def env_policy(self, name: str = "agent") -> SB3EnvPolicy:
        """SB3's greedy ``predict`` as an evaluation policy."""
        return SB3EnvPolicy(self.algorithm, name)

    def extract(
        self, position_levels: tuple[float, ...]
    ) -> tuple[ExtractedPolicy, ReferencePredict]:
        """The greedy network (torch, frozen) and SB3's own predict, for export."""
        from intraday_rl.training.extraction import extract_sb3_policy, sb3_reference_predict

        return (
            extract_sb3_policy(self.algorithm, None, position_levels),
            sb3_reference_predict(self.algorithm, None),
        )


class SB3Backend:
    """Trains the config's SB3 / sb3-contrib algorithm (DQN, QR-DQN, PPO, A2C)."""

    name = "sb3"
    final_model_name = FINAL_MODEL

    def fit(self, plan: TrainingPlan) -> FitOutcome:
        """Build (or resume) the model and run ``learn`` with evaluation, checkpoints, risk."""
        params = plan.config.training_params
        env = plan.env if plan.env is not None else self._training_env(plan)
        model, resumed_from = self._model(plan, env)
        risk = RiskAwareCallback(
            plan.advisor() if plan.advisor is not None else None,
            plan.config.risk_config.penalty_weight,
            plan.config.risk_config.early_stop_threshold,
            window=plan.config.risk_config.early_stop_window,
            run_dir=plan.run_dir,
        )
        callback = CallbackList([*self._callbacks(plan, model), risk, *plan.callbacks])
        remaining = params.total_timesteps - model.num_timesteps
        _LOG.info("training %s for %d timesteps", plan.config.algorithm, remaining)
        try:
            model.learn(
                remaining,
                callback=callback,
                tb_log_name="train",
                reset_num_timesteps=resumed_from is None,
            )
        finally:
            # SB3 leaves its logger open: the TensorBoard writer's thread would outlive the run
            # (one per model in a walk-forward) and wake inside later latency measurements.
            model.logger.close()
        return FitOutcome(SB3Model(model), resumed_from, risk.stop_reason)

    def load(self, run_dir: Path, which: Literal["best", "final"]) -> SB3Model | None:
        """The EvalCallback's best model or the final one (None: not saved)."""
        path = run_dir / (BEST_MODEL if which == "best" else Path(FINAL_MODEL))
        if not path.exists():
            return None
        config = load_training_config(run_dir / runs.CONFIG_FILE)
        model: BaseAlgorithm = algorithm_class(config.algorithm).load(path, device="cpu")
        return SB3Model(model)

    # -- building blocks ----------------------------------------------------------------------
    def _training_env(self, plan: TrainingPlan) -> VecEnv:
        config = plan.train_env_config
        book = EpisodeBook(plan.train_sessions, config.features, config.window)
        intraday = IntradayVecEnv(book, plan.config.training_params.n_envs, config)
        venv: VecEnv = intraday
        if plan.advisor is not None:
            venv = RiskShapingVecEnv(intraday, plan.advisor, plan.config.risk_config.penalty_weight)
        return VecMonitor(ScaleReward(venv, plan.config.training_params.reward_scale))

    def _model(
        self, plan: TrainingPlan, env: gym.Env[Any, Any] | VecEnv
    ) -> tuple[BaseAlgorithm, int | None]:
        params = plan.config.training_params
        algo = algorithm_class(plan.config.algorithm)
        if plan.resume:
            return self._load_checkpoint(plan, algo, env)
        model = algo(
            "MlpPolicy",
            env,
            seed=params.seed,
            device=params.device,
            tensorboard_log=str(plan.run_dir / "tensorboard"),
            verbose=0,
            # A deep copy: SB3 algorithms add keys to policy_kwargs, and the config is frozen.
            **copy.deepcopy(plan.config.algo_params),
        )
        return model, None

    def _load_checkpoint(
        self, plan: TrainingPlan, algo: type[Any], env: gym.Env[Any, Any] | VecEnv
    ) -> tuple[BaseAlgorithm, int]:
        params = plan.config.training_params
        runs.remove_interrupted_writes(plan.run_dir)  # e.g. a bundle export cut short
        errors = []
        for steps, path in runs.checkpoints_newest_first(plan.run_dir):
            try:
                model: BaseAlgorithm = algo.load(path, env=env, device=params.device)
                if isinstance(model, OffPolicyAlgorithm):
                    model.load_replay_buffer(checkpoint_paths(path.parent, steps)[1])
            except Exception as error:  # a checkpoint cut short by a crash: try the previous
                errors.append(f"{path.name}: {error}")
                continue
            model.set_random_seed(params.seed + steps)
            if isinstance(model, OffPolicyAlgorithm):  # loaded: older buffers are dead weight
                prune_replay_buffers(path.parent, steps, keep=params.keep_replay_buffers)
            _LOG.info("resumed from %s at timestep %d", path.name, model.num_timesteps)
            return model, steps
        raise RuntimeError(f"{plan.run_dir}: no loadable checkpoint: {'; '.join(errors)}")

    def _callbacks(self, plan: TrainingPlan, model: BaseAlgorithm) -> list[BaseCallback]:
        params = plan.config.training_params
        env = model.get_env()
        n_envs = env.num_envs if env is not None else 1
        # Same wrapper type as the training env, so SB3 does not warn; scores stay unscaled.
        eval_env = VecMonitor(DummyVecEnv([plan.validation_env]))
        # Keeps evaluations.npz and the best model's score across a kill and --resume.
        evaluation: EvalCallback = ResumableEvalCallback(
            eval_env,
            log_dir=plan.run_dir / "eval",
            best_dir=plan.run_dir / BEST_MODEL.parent,
            restore=plan.resume,
            callback_after_eval=plan.after_eval,
            n_eval_episodes=plan.n_eval_sessions,
            eval_freq=max(params.eval_freq // n_envs, 1),
        )
        callbacks: list[BaseCallback] = [
            evaluation,
            AtomicCheckpointCallback(
                max(params.checkpoint_freq // n_envs, 1),
                plan.run_dir / runs.CHECKPOINT_DIR,
                keep_replay_buffers=params.keep_replay_buffers,
            ),
        ]
        if params.progress_bar:
            callbacks.append(RichProgressCallback(params.total_timesteps))
        return callbacks
