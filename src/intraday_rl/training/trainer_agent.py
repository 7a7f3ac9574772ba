"""TrainerAgent: config in, trained policy out, with the risk engine in the loop.

``create_trainer_agent(config).run()`` builds the data, the vectorized training env (risk-shaped
when enabled), the validation env, trains the configured SB3 algorithm with evaluation,
checkpoints and the risk callback, writes the run directory, and returns the policy bundle path
(the run directory when bundle export is off).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList, EvalCallback
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecMonitor

import intraday_rl.training.run_dir as runs
from intraday_rl.data.source import MarketData, load_market_data
from intraday_rl.env.config import EnvConfig
from intraday_rl.env.episodes import EpisodeBook
from intraday_rl.env.trading_env import IntradayTradingEnv
from intraday_rl.env.vec_env import IntradayVecEnv
from intraday_rl.evaluation.rollout import PolicySummary, evaluate_policy
from intraday_rl.features import fit_feature_spec
from intraday_rl.risk.advisor import ProductionRiskAdvisor
from intraday_rl.risk.config import RiskPolicy, load_default_risk_policy, load_risk_policy
from intraday_rl.training.callbacks import RiskAwareCallback
from intraday_rl.training.checkpoints import (
    AtomicCheckpointCallback,
    checkpoint_paths,
    prune_replay_buffers,
)
from intraday_rl.training.config import TrainingConfig, algorithm_class, load_training_config
from intraday_rl.training.evaluation_log import ResumableEvalCallback
from intraday_rl.training.export import export_trained_bundle
from intraday_rl.training.progress import RichProgressCallback
from intraday_rl.training.risk_shaping import RiskShapingVecEnv, ScaleReward

_LOG = logging.getLogger(__name__)
ConfigSource = str | Path | dict[str, Any] | TrainingConfig


@dataclass(frozen=True, slots=True)
class TrainingResult:
    """What a finished (or early-stopped) training run produced."""

    run_dir: Path
    model_path: Path
    num_timesteps: int
    validation: PolicySummary
    bundle_path: Path | None = None
    early_stop_reason: str | None = None
    resumed_from: int | None = None
    warnings: tuple[str, ...] = ()

    def load_best_model(self) -> BaseAlgorithm:
        """The model EvalCallback kept as best on validation (the final model if none)."""
        config = load_training_config(self.run_dir / runs.CONFIG_FILE)
        best = self.run_dir / "best" / "best_model.zip"
        path = best if best.exists() else self.model_path
        model: BaseAlgorithm = algorithm_class(config.algorithm).load(path, device="cpu")
        return model


class SB3EnvPolicy:
    """Adapts a trained SB3 model to the evaluation ``EnvPolicy`` protocol (greedy actions)."""

    def __init__(self, model: BaseAlgorithm, name: str = "agent") -> None:
        self.model = model
        self.name = name

    def act(self, observation: Any, env: IntradayTradingEnv) -> Any:
        action, _ = self.model.predict(observation, deterministic=True)
        return action


class TrainerAgent:
    """Trains one SB3 agent on the intraday env as a :class:`TrainingConfig` describes."""

    def __init__(
        self,
        config: TrainingConfig,
        run_dir: Path | None = None,
        market: MarketData | None = None,
    ) -> None:
        """``market`` replaces the config's data source (walk-forward passes each fold's split)."""
        self.config = config
        self.run_dir = run_dir
        self._market: MarketData | None = market
        self._risk_policy_hash: str | None = None
        self._risk_policy: RiskPolicy | None = None
        self._resume = run_dir is not None

    @classmethod
    def resume(cls, run_dir: str | Path) -> TrainerAgent:
        """A trainer that continues ``run_dir`` from its newest complete checkpoint."""
        path = Path(run_dir)
        config = load_training_config(path / runs.CONFIG_FILE)
        return cls(config, run_dir=path)

    # -- public API ---------------------------------------------------------------------------
    def run(self, env: gym.Env[Any, Any] | VecEnv | None = None) -> Path:
        """Train, then return the policy bundle path (the run directory without a bundle)."""
        result = self.train(env)
        return result.bundle_path or result.run_dir

    def train(
        self,
        env: gym.Env[Any, Any] | VecEnv | None = None,
        callbacks: Sequence[BaseCallback] = (),
        after_eval: BaseCallback | None = None,
    ) -> TrainingResult:
        """Train (or resume) and write the run directory; ``env`` is used as is when given.

        ``after_eval`` runs after each validation evaluation with the ``EvalCallback`` as its
        parent (its ``last_mean_reward``, ``best_mean_reward``): tuning prunes trials there.
        """
        params = self.config.training_params
        torch.set_num_threads(1)  # small MLPs: threads cost more than they give on few cores
        if self.run_dir is None:
            self.config = self.fitted_config()
            self.run_dir = runs.create_run_dir(self.config)
        logger = logging.getLogger("intraday_rl")
        handler, level = _attach_log_file(self.run_dir), logger.level
        try:
            market = self.market
            train_env = env if env is not None else self._training_env(market)
            model, resumed_from = self._model(train_env)
            advisor = self._advisor() if self.config.risk_config.enabled else None
            self._risk_policy_hash = advisor.policy_hash if advisor is not None else None
            risk = RiskAwareCallback(
                advisor,
                self.config.risk_config.penalty_weight,
                self.config.risk_config.early_stop_threshold,
                window=self.config.risk_config.early_stop_window,
                run_dir=self.run_dir,
            )
            callback = CallbackList([*self._callbacks(model, after_eval), risk, *callbacks])
            remaining = params.total_timesteps - model.num_timesteps
            _LOG.info("training %s for %d timesteps", self.config.algorithm, remaining)
            model.learn(
                remaining,
                callback=callback,
                tb_log_name="train",
                reset_num_timesteps=resumed_from is None,
            )
            return self._finish(model, market, risk.stop_reason, resumed_from)
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
            handler.close()

    @property
    def market(self) -> MarketData:
        """The run's data (loaded once)."""
        if self._market is None:
            self._market = load_market_data(self.config.env.data)
        return self._market

    def fitted_config(self) -> TrainingConfig:
        """The config with its feature spec's learned parts fitted on the training sessions.

        The run directory records this resolved config, so a resumed run and the bundle use the
        very parameters the agent trained with.
        """
        spec = self.config.env.features
        if spec.fitted:
            return self.config
        fitted = fit_feature_spec(spec, self.market.split.train, seed=0)
        data = self.config.model_dump(mode="json")
        data["env"]["features"] = fitted.model_dump(mode="json")
        return load_training_config(data)

    # -- building blocks ----------------------------------------------------------------------
    def _env_config(self, order: str) -> EnvConfig:
        return self.config.env.env_config(
            session_order="random" if order == "random" else "sequential",
            training=order == "random",
        )

    def _advisor(self) -> ProductionRiskAdvisor:
        # The policy file is read once per run; each env's advisor gets its own engine from it.
        if self._risk_policy is None:
            path = self.config.risk_config.policy_yaml
            self._risk_policy = (
                load_risk_policy(path) if path is not None else load_default_risk_policy()
            )
        return ProductionRiskAdvisor(policy=self._risk_policy)

    def _training_env(self, market: MarketData) -> VecEnv:
        config = self._env_config("random")
        book = EpisodeBook(market.split.train, config.features, config.window)
        intraday = IntradayVecEnv(book, self.config.training_params.n_envs, config)
        venv: VecEnv = intraday
        if self.config.risk_config.enabled:
            weight = self.config.risk_config.penalty_weight
            venv = RiskShapingVecEnv(intraday, self._advisor, weight)
        return VecMonitor(ScaleReward(venv, self.config.training_params.reward_scale))

    def validation_env(self) -> IntradayTradingEnv:
        """The validation sessions in order, unshaped: what evaluation scores."""
        config = self._env_config("sequential")
        return IntradayTradingEnv(self.market.split.validation, config)

    def _model(self, env: gym.Env[Any, Any] | VecEnv) -> tuple[BaseAlgorithm, int | None]:
        params = self.config.training_params
        algo = algorithm_class(self.config.algorithm)
        assert self.run_dir is not None
        if self._resume:
            return self._load_checkpoint(algo, env)
        model = algo(
            "MlpPolicy",
            env,
            seed=params.seed,
            device=params.device,
            tensorboard_log=str(self.run_dir / "tensorboard"),
            verbose=0,
            # A deep copy: SB3 algorithms add keys to policy_kwargs, and the config is frozen.
            **copy.deepcopy(self.config.algo_params),
        )
        return model, None

    def _load_checkpoint(
        self, algo: type[Any], env: gym.Env[Any, Any] | VecEnv
    ) -> tuple[BaseAlgorithm, int]:
        assert self.run_dir is not None
        runs.remove_interrupted_writes(self.run_dir)  # e.g. a bundle export cut short
        errors = []
        for steps, path in runs.checkpoints_newest_first(self.run_dir):
            try:
                model: BaseAlgorithm = algo.load(
                    path, env=env, device=self.config.training_params.device
                )
                if isinstance(model, OffPolicyAlgorithm):
                    model.load_replay_buffer(checkpoint_paths(path.parent, steps)[1])
            except Exception as error:  # a checkpoint cut short by a crash: try the previous
                errors.append(f"{path.name}: {error}")
                continue
            model.set_random_seed(self.config.training_params.seed + steps)
            if isinstance(model, OffPolicyAlgorithm):  # loaded: older buffers are dead weight
                keep = self.config.training_params.keep_replay_buffers
                prune_replay_buffers(path.parent, steps, keep=keep)
            _LOG.info("resumed from %s at timestep %d", path.name, model.num_timesteps)
            return model, steps
        raise RuntimeError(f"{self.run_dir}: no loadable checkpoint: {'; '.join(errors)}")

    def _callbacks(
        self, model: BaseAlgorithm, after_eval: BaseCallback | None = None
    ) -> list[BaseCallback]:
        params = self.config.training_params
        assert self.run_dir is not None
        env = model.get_env()
        n_envs = env.num_envs if env is not None else 1
        # Same wrapper type as the training env, so SB3 does not warn; scores stay unscaled.
        eval_env = VecMonitor(DummyVecEnv([self.validation_env]))
        n_eval = params.n_eval_sessions or len(self.market.split.validation)
        # Keeps evaluations.npz and the best model's score across a kill and --resume.
        evaluation: EvalCallback = ResumableEvalCallback(
            eval_env,
            log_dir=self.run_dir / "eval",
            best_dir=self.run_dir / "best",
            restore=self._resume,
            callback_after_eval=after_eval,
            n_eval_episodes=n_eval,
            eval_freq=max(params.eval_freq // n_envs, 1),
        )
        callbacks: list[BaseCallback] = [
            evaluation,
            AtomicCheckpointCallback(
                max(params.checkpoint_freq // n_envs, 1),
                self.run_dir / runs.CHECKPOINT_DIR,
                keep_replay_buffers=params.keep_replay_buffers,
            ),
        ]
        if params.progress_bar:
            callbacks.append(RichProgressCallback(params.total_timesteps))
        return callbacks

    def _finish(
        self,
        model: BaseAlgorithm,
        market: MarketData,
        stop_reason: str | None,
        resumed_from: int | None,
    ) -> TrainingResult:
        assert self.run_dir is not None
        model_path = self.run_dir / "final_model.zip"
        model.save(model_path)
        summary = self._evaluate(model)
        (self.run_dir / "evaluation.json").write_text(_json(summary.as_dict()))
        runs.write_lineage(self.run_dir, self._lineage(market, model))
        bundle_path = None
        shipped = summary  # the warnings judge the model that leaves the run
        if self.config.run.export_bundle:
            best = self._best_model(model)
            shipped = summary if best is model else self._evaluate(best)
            bundle_path = self._export(best, shipped)
        _LOG.info("validation: %s", summary)
        warnings = activity_warnings(shipped, self._decisions_per_session())
        for warning in warnings:
            _LOG.warning(warning)
        return TrainingResult(
            run_dir=self.run_dir,
            model_path=model_path,
            num_timesteps=model.num_timesteps,
            validation=summary,
            bundle_path=bundle_path,
            early_stop_reason=stop_reason,
            resumed_from=resumed_from,
            warnings=warnings,
        )

    def _decisions_per_session(self) -> float:
        sessions = self.market.split.validation
        bars = sum(session.n_bars - 1 for session in sessions) / max(len(sessions), 1)
        return bars / self.config.env.decision_every

    def _evaluate(self, model: BaseAlgorithm) -> PolicySummary:
        return evaluate_policy(self.validation_env(), SB3EnvPolicy(model))[0]

    def _best_model(self, final: BaseAlgorithm) -> BaseAlgorithm:
        # The model EvalCallback kept as best on validation; the final one when none was saved.
        assert self.run_dir is not None
        best = self.run_dir / "best" / "best_model.zip"
        if not best.exists():
            return final
        loaded: BaseAlgorithm = algorithm_class(self.config.algorithm).load(best, device="cpu")
        return loaded

    def _lineage(self, market: MarketData, model: BaseAlgorithm) -> dict[str, Any]:
        config = self.config
        return {
            "config_hash": config.config_hash(),
            "data_fingerprint": market.fingerprint,
            "feature_spec_hash": config.env.features.spec_hash(),
            "risk_policy_hash": self._risk_policy_hash,
            "git_commit": runs.git_commit(),
            "packages": runs.package_versions(),
            "algorithm": config.algorithm,
            "seed": config.training_params.seed,
            "timesteps": model.num_timesteps,
            "sessions": {
                "train": len(market.split.train),
                "validation": len(market.split.validation),
                "test": len(market.split.test),
            },
        }

    def _export(self, model: BaseAlgorithm, summary: PolicySummary) -> Path:
        assert self.run_dir is not None
        return export_trained_bundle(
            model,
            run_dir=self.run_dir,
            validation_env=self.validation_env(),
            env_config=self.config.env,
            seed=self.config.training_params.seed,
            summary=summary,
        )


EVERY_DECISION_SHARE = 0.8
"""Trades on more than this share of decisions count as trading on every decision."""


def activity_warnings(summary: PolicySummary, decisions_per_session: float) -> tuple[str, ...]:
    """Say when a trained agent never trades, or trades on (nearly) every decision.

    Both usually mean the run learned the costs or the risk penalty rather than the market:
    costs far above the bars' moves (impact on tick volume), or risk limits that penalize any
    position, or the opposite.
    """
    decisions = summary.n_sessions * decisions_per_session
    if summary.n_trades == 0:
        return (
            f"the agent never traded on the {summary.n_sessions} validation sessions: check the "
            "costs against the bars' typical move (impact_bps on tick volume? try costs: fx) "
            "and the risk limits (a penalty on every position?)",
        )
    if decisions > 0 and summary.n_trades > EVERY_DECISION_SHARE * decisions:
        return (
            f"the agent traded on {summary.n_trades / decisions:.0%} of its decisions on the "
            "validation sessions: costs may be too low for the data, or decision_every too short",
        )
    return ()


def _attach_log_file(run_dir: Path) -> logging.Handler:
    handler = logging.FileHandler(run_dir / "training.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("intraday_rl")
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    return handler


def _json(data: dict[str, Any]) -> str:
    import json

    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def create_trainer_agent(config: ConfigSource) -> TrainerAgent:
    """Build a :class:`TrainerAgent` from a YAML path, a dict or a :class:`TrainingConfig`."""
    return TrainerAgent(load_training_config(config))
