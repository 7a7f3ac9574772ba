"""TrainerAgent: config in, trained policy out, with the risk engine in the loop.

``create_trainer_agent(config).run()`` builds the data, the vectorized training env (risk-shaped
when enabled), the validation env, trains the configured SB3 algorithm with evaluation,
checkpoints and the risk callback, writes the run directory, and returns the policy bundle path
(the run directory when bundle export is off).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from stable_baselines3.common.base_class import BaseAlgorithm

import intraday_rl.training.run_dir as runs
from intraday_rl.data.source import MarketData, load_market_data
from intraday_rl.env.config import EnvConfig
from intraday_rl.env.trading_env import IntradayTradingEnv
from intraday_rl.evaluation.rollout import EnvPolicy, PolicySummary, evaluate_policy
from intraday_rl.features import fit_feature_spec
from intraday_rl.risk.advisor import ProductionRiskAdvisor
from intraday_rl.risk.config import RiskPolicy, load_default_risk_policy, load_risk_policy
from intraday_rl.training.backend import TrainedModel, TrainingBackend, TrainingPlan
from intraday_rl.training.config import TrainingConfig, load_training_config
from intraday_rl.training.export import export_trained_bundle
from intraday_rl.training.sb3_backend import SB3Backend, SB3EnvPolicy, SB3Model

_LOG = logging.getLogger(__name__)
ConfigSource = str | Path | dict[str, Any] | TrainingConfig

__all__ = [
    "SB3EnvPolicy",
    "TrainerAgent",
    "TrainingResult",
    "activity_warnings",
    "create_trainer_agent",
]


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
    backend: TrainingBackend = field(default_factory=SB3Backend)

    def best_model(self) -> TrainedModel:
        """The model kept as best on validation (the final one if none was saved)."""
        model = self.backend.load(self.run_dir, "best") or self.backend.load(self.run_dir, "final")
        if model is None:
            raise FileNotFoundError(f"{self.run_dir}: no saved model ({self.backend.name})")
        return model

    def best_policy(self, name: str = "agent") -> EnvPolicy:
        """:meth:`best_model` as an evaluation policy (greedy actions)."""
        return self.best_model().env_policy(name)

    def load_best_model(self) -> BaseAlgorithm:
        """SB3 runs: :meth:`best_model` as the SB3 algorithm itself."""
        model = self.best_model()
        if not isinstance(model, SB3Model):
            raise TypeError(f"load_best_model: an SB3 run's, this run used {self.backend.name}")
        return model.algorithm


class TrainerAgent:
    """Trains one agent on the intraday env as a :class:`TrainingConfig` describes.

    The framework is a :class:`~intraday_rl.training.backend.TrainingBackend` (SB3 by default);
    everything around it (data, features fitted on train, risk policy, validation, lineage,
    bundle) is the same for every backend.
    """

    def __init__(
        self,
        config: TrainingConfig,
        run_dir: Path | None = None,
        market: MarketData | None = None,
        backend: TrainingBackend | None = None,
    ) -> None:
        """``market`` replaces the config's data source (walk-forward passes each fold's split)."""
        self.config = config
        self.run_dir = run_dir
        self.backend: TrainingBackend = backend if backend is not None else SB3Backend()
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
    def run(self, env: Any = None) -> Path:
        """Train, then return the policy bundle path (the run directory without a bundle)."""
        result = self.train(env)
        return result.bundle_path or result.run_dir

    def train(
        self,
        env: Any = None,
        callbacks: Sequence[Any] = (),
        after_eval: Any = None,
    ) -> TrainingResult:
        """Train (or resume) and write the run directory; ``env`` is used as is when given.

        ``callbacks`` are the backend's own (SB3 ``BaseCallback``). ``after_eval`` runs after each
        validation evaluation with the evaluation callback as its parent (its
        ``last_mean_reward``, ``best_mean_reward``): tuning prunes trials there.
        """
        torch.set_num_threads(1)  # small MLPs: threads cost more than they give on few cores
        if self.run_dir is None:
            self.config = self.fitted_config()
            self.run_dir = runs.create_run_dir(self.config)
        logger = logging.getLogger("intraday_rl")
        handler, level = _attach_log_file(self.run_dir), logger.level
        try:
            market = self.market
            enabled = self.config.risk_config.enabled
            self._risk_policy_hash = self._policy().config_hash() if enabled else None
            n_eval = self.config.training_params.n_eval_sessions or len(market.split.validation)
            plan = TrainingPlan(
                config=self.config,
                run_dir=self.run_dir,
                resume=self._resume,
                train_sessions=market.split.train,
                train_env_config=self._env_config("random"),
                validation_env=self.validation_env,
                n_eval_sessions=n_eval,
                advisor=self._advisor if enabled else None,
                env=env,
                callbacks=tuple(callbacks),
                after_eval=after_eval,
            )
            outcome = self.backend.fit(plan)
            return self._finish(outcome.model, market, outcome.stop_reason, outcome.resumed_from)
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

    def _policy(self) -> RiskPolicy:
        # The policy file is read once per run; each env's advisor gets its own engine from it.
        if self._risk_policy is None:
            path = self.config.risk_config.policy_yaml
            self._risk_policy = (
                load_risk_policy(path) if path is not None else load_default_risk_policy()
            )
        return self._risk_policy

    def _advisor(self) -> ProductionRiskAdvisor:
        return ProductionRiskAdvisor(policy=self._policy())

    def validation_env(self) -> IntradayTradingEnv:
        """The validation sessions in order, unshaped: what evaluation scores."""
        config = self._env_config("sequential")
        return IntradayTradingEnv(self.market.split.validation, config)

    def _finish(
        self,
        model: TrainedModel,
        market: MarketData,
        stop_reason: str | None,
        resumed_from: int | None,
    ) -> TrainingResult:
        assert self.run_dir is not None
        model_path = self.run_dir / self.backend.final_model_name
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
            backend=self.backend,
        )

    def _decisions_per_session(self) -> float:
        sessions = self.market.split.validation
        bars = sum(session.n_bars - 1 for session in sessions) / max(len(sessions), 1)
        return bars / self.config.env.decision_every

    def _evaluate(self, model: TrainedModel) -> PolicySummary:
        return evaluate_policy(self.validation_env(), model.env_policy())[0]

    def _best_model(self, final: TrainedModel) -> TrainedModel:
        # The model kept as best on validation; the final one when none was saved.
        assert self.run_dir is not None
        best = self.backend.load(self.run_dir, "best")
        return final if best is None else best

    def _lineage(self, market: MarketData, model: TrainedModel) -> dict[str, Any]:
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

    def _export(self, model: TrainedModel, summary: PolicySummary) -> Path:
        assert self.run_dir is not None
        policy, reference = model.extract(self.config.env.position_levels)
        return export_trained_bundle(
            policy,
            reference,
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
