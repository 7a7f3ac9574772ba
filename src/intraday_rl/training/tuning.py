"""``intraday-rl tune``: Optuna search over a config's ``tune.space``, scored on validation only.

The first trial of a new study is the config's own values (where it sets them), so the search
reports whether it found anything better. Each trial trains the config with the sampled values
(through :class:`TrainerAgent`, so the regime model is fitted on the training sessions as always)
and scores the model the trainer keeps as best: its net P&L on the **validation** sessions.
Test sessions are never read. A median pruner stops trials whose validation score trails the
others' at the same evaluation. The study lives in SQLite beside the runs
(``<runs_dir>/tune/<name>/study.db``), so a search can be resumed or extended, and its number of
trials feeds the Deflated Sharpe Ratio of whatever is selected.
"""

from __future__ import annotations

import copy
import csv
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from stable_baselines3.common.callbacks import BaseCallback, EvalCallback

from intraday_rl.shared.errors import ConfigError
from intraday_rl.training.config import (
    SearchDimension,
    TrainingConfig,
    apply_params,
    load_training_config,
)
from intraday_rl.training.trainer_agent import TrainerAgent

if TYPE_CHECKING:
    import optuna

_LOG = logging.getLogger(__name__)
STUDY_FILE = "study.db"
BEST_CONFIG_FILE = "best_config.yaml"
TRIALS_FILE = "trials.csv"


@dataclass(frozen=True, slots=True)
class TuneResult:
    """What a search found, and where it wrote it."""

    study_dir: Path
    best_value: float
    best_params: dict[str, Any]
    n_trials: int
    n_pruned: int
    best_config_path: Path
    trials_path: Path


def _suggest(trial: optuna.Trial, key: str, dimension: SearchDimension) -> Any:
    if dimension.type == "categorical":
        assert dimension.choices is not None
        return trial.suggest_categorical(key, list(dimension.choices))
    low, high = float(dimension.low or 0.0), float(dimension.high or 0.0)  # set: validated
    if dimension.type == "int":
        return trial.suggest_int(key, int(low), int(high), log=dimension.log)
    return trial.suggest_float(key, low, high, log=dimension.log)


class _PruneAfterEval(BaseCallback):
    # Runs after each validation evaluation (EvalCallback is its parent): report, maybe prune.
    def __init__(self, trial: optuna.Trial) -> None:
        super().__init__()
        self.trial = trial
        self.n_evaluations = 0
        self.pruned = False

    def _on_step(self) -> bool:
        parent = self.parent
        assert isinstance(parent, EvalCallback)
        self.n_evaluations += 1
        self.trial.report(float(parent.last_mean_reward), self.n_evaluations)
        if self.trial.should_prune():
            self.pruned = True
            return False
        return True


def run_tuning(
    config: TrainingConfig | str | Path,
    *,
    n_trials: int | None = None,
    runs_dir: Path | None = None,
    on_trial: Callable[[int, float | None, dict[str, Any], str], None] | None = None,
) -> TuneResult:
    """Search ``config.tune.space``; write the study, the best config and the trial table.

    Args:
        config: A training config with a ``tune`` section.
        n_trials: Trials to run now (the section's ``n_trials`` by default); a study that
            exists already is extended.
        runs_dir: Parent of the study folder and the trial runs (``config.run.runs_dir``).
        on_trial: Called after each trial with (number, validation net P&L or None if pruned,
            params, state).

    Raises:
        ConfigError: No ``tune`` section or an empty space.
    """
    import optuna

    base = load_training_config(config)
    if base.tune is None or not base.tune.space:
        raise ConfigError("tune: the config has no 'tune' section with a non-empty 'space'")
    settings = base.tune
    root = (runs_dir or base.run.runs_dir) / "tune" / base.run.name
    root.mkdir(parents=True, exist_ok=True)
    pruner: optuna.pruners.BasePruner = (
        optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
        if settings.pruner == "median"
        else optuna.pruners.NopPruner()
    )
    study = optuna.create_study(
        study_name=base.run.name,
        storage=f"sqlite:///{root / STUDY_FILE}",
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=settings.seed),
        pruner=pruner,
        load_if_exists=True,
    )

    if not study.trials:  # the config's own values are the first trial: the search must beat them
        current = _current_values(base, settings.space)
        if current:
            study.enqueue_trial(current)

    def objective(trial: optuna.Trial) -> float:
        params = {key: _suggest(trial, key, dim) for key, dim in settings.space.items()}
        variant = _trial_config(base, params, trial.number, root)
        trainer = TrainerAgent(variant)
        callback = _PruneAfterEval(trial)
        result = trainer.train(after_eval=callback)
        if callback.pruned:
            raise optuna.TrialPruned()
        # The kept model's validation score (mean session return) in money over all sessions.
        n_sessions = len(trainer.market.split.validation)
        capital = variant.env.initial_capital
        best = _best_validation_return(result.run_dir)
        return best * n_sessions * capital

    def report(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if on_trial is not None:
            on_trial(trial.number, trial.value, dict(trial.params), trial.state.name)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study.optimize(objective, n_trials=n_trials or settings.n_trials, callbacks=[report])
    return _write_results(base, study, root)


def _current_values(config: TrainingConfig, space: Mapping[str, SearchDimension]) -> dict[str, Any]:
    # The config's value of every searched key that it sets and that lies inside the range.
    data = config.model_dump(mode="json")
    values = {}
    for key, dimension in space.items():
        node: Any = data
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        inside = (
            node in dimension.choices
            if dimension.type == "categorical" and dimension.choices is not None
            else isinstance(node, int | float)
            and (dimension.low or 0.0) <= node <= (dimension.high or 0.0)
        )
        if node is not None and inside:
            values[key] = node
    return values


def _trial_config(
    base: TrainingConfig, params: Mapping[str, Any], number: int, root: Path
) -> TrainingConfig:
    run: dict[str, Any] = {"run.name": f"trial-{number}", "run.runs_dir": str(root / "runs")}
    if base.tune is not None and base.tune.total_timesteps is not None:
        run["training_params.total_timesteps"] = base.tune.total_timesteps
    return apply_params(base, {**params, **run, "run.export_bundle": False})


def _best_validation_return(run_dir: Path) -> float:
    # EvalCallback's evaluations.npz: mean episode return per evaluation; the kept model's is max.
    import numpy as np

    with np.load(run_dir / "eval" / "evaluations.npz") as data:
        results = data["results"]
    return float(np.max(results.mean(axis=1)))


def _write_results(base: TrainingConfig, study: optuna.Study, root: Path) -> TuneResult:
    import optuna

    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        raise ConfigError(f"tune: no trial of study {study.study_name!r} completed")
    best = study.best_trial
    best_config = apply_params(base, best.params)
    best_path = root / BEST_CONFIG_FILE
    header = (
        f"# Found by `intraday-rl tune` (study {study.study_name!r}, {len(trials)} trials, "
        f"best trial {best.number}: validation net P&L {best.value or 0.0:,.0f}).\n"
    )
    data = copy.deepcopy(best_config.model_dump(mode="json", exclude_none=True))
    best_path.write_text(header + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    trials_path = root / TRIALS_FILE
    keys = sorted({key for trial in trials for key in trial.params})
    with trials_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["number", "state", "validation_net_pnl", *keys])
        for trial in trials:
            done = trial.state == optuna.trial.TrialState.COMPLETE  # a pruned trial has no score
            value = trial.value if done else None
            writer.writerow(
                [trial.number, trial.state.name, value, *(trial.params.get(k) for k in keys)]
            )
    n_pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in trials)
    _LOG.info("tune: best trial %d of %d, validation %.0f", best.number, len(trials), best.value)
    return TuneResult(
        study_dir=root,
        best_value=float(best.value or 0.0),
        best_params=dict(best.params),
        n_trials=len(trials),
        n_pruned=n_pruned,
        best_config_path=best_path,
        trials_path=trials_path,
    )
