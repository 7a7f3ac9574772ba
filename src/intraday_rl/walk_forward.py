"""Walk-forward evaluation: retrain per fold and seed, select on the fold's validation, test after.

Each fold of :func:`~intraday_rl.data.splits.walk_forward_folds` (train dates, an embargo, then
test dates) is split once more: the last ``validation_fraction`` of its train dates become its
validation sessions, where the trainer keeps its best model (and fits nothing else); the regime
model and the network learn on the rest. The fold's test sessions are touched only once, by the
selected model. Stitching every fold's test sessions in time order gives one out-of-sample daily
P&L series per seed; the seeds' mean series carries the confidence interval.

This module sits above training (it retrains through :class:`TrainerAgent`), so the evaluation
package below it never imports training.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from intraday_rl.data.config import WalkForwardConfig
from intraday_rl.data.source import MarketData, data_fingerprint, load_market_data
from intraday_rl.data.splits import Fold, SessionSplit, walk_forward_folds
from intraday_rl.env import IntradayTradingEnv
from intraday_rl.evaluation import ConstantExposurePolicy, evaluate_policy
from intraday_rl.evaluation.confidence import ConfidenceInterval, bootstrap_mean_ci
from intraday_rl.shared.errors import ConfigError
from intraday_rl.training.config import TrainingConfig, apply_params, load_training_config
from intraday_rl.training.trainer_agent import TrainerAgent

_LOG = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class FoldResult:
    """One fold trained with one seed, scored on the fold's test sessions."""

    fold: int
    seed: int
    train_start: str
    train_end: str
    validation_start: str
    test_start: str
    test_end: str
    n_train_sessions: int
    n_validation_sessions: int
    n_test_sessions: int
    net_pnl: float
    sharpe: float
    max_drawdown: float
    n_trades: int
    validation_net_pnl: float
    buy_and_hold_pnl: float


@dataclass(frozen=True)
class WalkForwardResult:
    """Every fold x seed, the stitched out-of-sample series and its confidence interval."""

    folds: list[FoldResult]
    seeds: list[int]
    # Stitched test sessions in time order: one daily net P&L row per seed.
    daily_pnl: dict[int, list[float]]
    buy_and_hold_daily_pnl: list[float]
    test_dates: list[str]
    pnl_per_seed: dict[int, float]
    pnl_mean: float
    daily_pnl_ci: ConfidenceInterval
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The headline numbers (no per-session series)."""
        return {
            "seeds": self.seeds,
            "n_folds": len({row.fold for row in self.folds}),
            "n_test_sessions": len(self.test_dates),
            "pnl_per_seed": {str(k): round(v, 2) for k, v in self.pnl_per_seed.items()},
            "pnl_mean": round(self.pnl_mean, 2),
            "buy_and_hold_pnl": round(float(sum(self.buy_and_hold_daily_pnl)), 2),
            "daily_pnl_ci": [
                round(self.daily_pnl_ci.low, 2),
                round(self.daily_pnl_ci.estimate, 2),
                round(self.daily_pnl_ci.high, 2),
            ],
        }

    @property
    def ci_low(self) -> float:
        """Lower bound of the CI of the seeds' mean daily net P&L."""
        return self.daily_pnl_ci.low

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (folds as rows)."""
        return {
            "seeds": self.seeds,
            "folds": [asdict(row) for row in self.folds],
            "pnl_per_seed": {str(k): v for k, v in self.pnl_per_seed.items()},
            "pnl_mean": self.pnl_mean,
            "buy_and_hold_pnl": float(sum(self.buy_and_hold_daily_pnl)),
            "n_test_sessions": len(self.test_dates),
            "daily_pnl_ci": asdict(self.daily_pnl_ci),
            "test_dates": self.test_dates,
            "daily_pnl": {str(k): v for k, v in self.daily_pnl.items()},
            **self.extra,
        }


def fold_split(fold: Fold, validation_fraction: float) -> SessionSplit:
    """Split a fold's train dates into train and (its last dates) validation; test unchanged."""
    dates = sorted({session.date for session in fold.train})
    n_validation = max(1, math.floor(len(dates) * validation_fraction))
    if len(dates) - n_validation < 2:
        raise ConfigError(
            f"walk-forward fold {fold.index}: expected at least {n_validation + 2} train dates "
            f"for a validation of {n_validation}, was {len(dates)}"
        )
    first_validation = dates[-n_validation]
    train = tuple(s for s in fold.train if s.date < first_validation)
    validation = tuple(s for s in fold.train if s.date >= first_validation)
    return SessionSplit(train=train, validation=validation, test=fold.test)


def _variant(config: TrainingConfig, seed: int, fold: int, runs_dir: Path) -> TrainingConfig:
    return apply_params(
        config,
        {
            "training_params.seed": seed,
            "run.name": f"walk-forward-f{fold}-s{seed}",
            "run.runs_dir": str(runs_dir),
            "run.export_bundle": False,
        },
    )


def run_walk_forward(
    config: TrainingConfig | str | Path,
    folds: WalkForwardConfig,
    seeds: Sequence[int] = (0, 1, 2),
    *,
    validation_fraction: float = 0.15,
    runs_dir: Path = Path("runs/walk-forward"),
    total_timesteps: int | None = None,
    jobs: int = 1,
    on_result: Callable[[FoldResult], None] | None = None,
) -> WalkForwardResult:
    """Retrain ``config`` on each fold for each seed; score each on its fold's test sessions.

    Args:
        config: Training config (its data source supplies the sessions; its split is ignored).
        folds: Fold layout (number, train / test sizes, embargo, anchored or sliding).
        seeds: Training seeds; each fold is trained once per seed.
        validation_fraction: Share of each fold's train dates kept for model selection.
        runs_dir: Where the runs' directories go.
        total_timesteps: Override of the config's training length.
        jobs: Trainings run side by side in this many processes (1: in this process).
        on_result: Called after each fold x seed, in order (progress).

    Raises:
        DataError: Too few dates for the folds.
        ConfigError: No seeds, or a fold too short to hold a validation part.
    """
    base = load_training_config(config)
    if total_timesteps is not None:
        base = apply_params(base, {"training_params.total_timesteps": total_timesteps})
    if not seeds:
        raise ConfigError("walk-forward seeds: expected at least one seed, was none")
    market = load_market_data(base.env.data)
    layout = walk_forward_folds(market.sessions, folds)
    for fold in layout:
        fold_split(fold, validation_fraction)  # fail before any training
    tasks = [
        (base, folds, fold.index, seed, validation_fraction, runs_dir)
        for fold in layout
        for seed in seeds
    ]
    report = None if on_result is None else (lambda outcome: on_result(outcome[0]))
    outcomes = run_tasks(fold_task, tasks, jobs, report, market=market)
    rows = [row for row, _, _ in outcomes]
    daily: dict[int, list[float]] = {seed: [] for seed in seeds}
    for row, pnl, _ in outcomes:
        daily[row.seed].extend(pnl)
    hold: list[float] = []
    dates: list[str] = []
    for fold in layout:
        first = next(item for item in outcomes if item[0].fold == fold.index)
        hold.extend(first[2])
        dates.extend(f"{s.symbol} {s.date.isoformat()}" for s in fold.test)
    per_seed = {seed: float(sum(values)) for seed, values in daily.items()}
    mean_daily = np.mean(np.array([daily[seed] for seed in seeds]), axis=0)
    return WalkForwardResult(
        folds=rows,
        seeds=list(seeds),
        daily_pnl=daily,
        buy_and_hold_daily_pnl=hold,
        test_dates=dates,
        pnl_per_seed=per_seed,
        pnl_mean=float(np.mean(list(per_seed.values()))),
        daily_pnl_ci=bootstrap_mean_ci(mean_daily, seed=0),
    )


Outcome = tuple[FoldResult, list[float], list[float]]


def run_tasks(
    function: Callable[..., T],
    tasks: Sequence[tuple[Any, ...]],
    jobs: int,
    on_result: Callable[[T], None] | None = None,
    **in_process: Any,
) -> list[T]:
    """Run ``function(*task)`` for each task, in order; in ``jobs`` processes when ``jobs > 1``.

    ``in_process`` keyword arguments are passed only when running in this process (objects too
    large to send between processes, such as loaded data); ``on_result`` sees each result in
    task order. Issue "Scale-out on Ray" replaces the process pool with Ray tasks.
    """
    results: list[T] = []
    if jobs <= 1:
        for task in tasks:
            results.append(function(*task, **in_process))
            if on_result is not None:
                on_result(results[-1])
        return results
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(function, *task) for task in tasks]
        for future in futures:
            results.append(future.result())
            if on_result is not None:
                on_result(results[-1])
    return results


def fold_task(
    base: TrainingConfig,
    folds: WalkForwardConfig,
    fold_index: int,
    seed: int,
    validation_fraction: float,
    runs_dir: Path,
    market: MarketData | None = None,
) -> Outcome:
    """Train one fold with one seed; return its row, its daily test P&L and buy-and-hold's.

    Without ``market`` the data is loaded from the config (cheaper to send between processes
    than the bars).
    """
    if market is None:
        market = load_market_data(base.env.data)
    fold = walk_forward_folds(market.sessions, folds)[fold_index]
    split = fold_split(fold, validation_fraction)
    data = MarketData(
        sessions=(*split.train, *split.validation, *split.test),
        split=split,
        fingerprint=data_fingerprint(fold.train + fold.test),
        market=market.market,
    )
    trainer = TrainerAgent(_variant(base, seed, fold_index, runs_dir), market=data)
    result = trainer.train()
    env = IntradayTradingEnv(split.test, trainer.config.env.env_config(session_order="sequential"))
    summary, episodes = evaluate_policy(env, result.best_policy())
    hold = evaluate_policy(env, ConstantExposurePolicy("buy_and_hold", 1.0))[1]
    row = FoldResult(
        fold=fold_index,
        seed=seed,
        train_start=split.train[0].date.isoformat(),
        train_end=split.train[-1].date.isoformat(),
        validation_start=split.validation[0].date.isoformat(),
        test_start=split.test[0].date.isoformat(),
        test_end=split.test[-1].date.isoformat(),
        n_train_sessions=len(split.train),
        n_validation_sessions=len(split.validation),
        n_test_sessions=len(split.test),
        net_pnl=summary.net_pnl,
        sharpe=summary.sharpe,
        max_drawdown=summary.max_drawdown,
        n_trades=summary.n_trades,
        validation_net_pnl=result.validation.net_pnl,
        buy_and_hold_pnl=float(sum(episode.net_pnl for episode in hold)),
    )
    _LOG.info("walk-forward fold %d seed %d: test net P&L %.0f", fold_index, seed, summary.net_pnl)
    return row, [episode.net_pnl for episode in episodes], [episode.net_pnl for episode in hold]


def write_walk_forward(result: WalkForwardResult, out_dir: Path) -> tuple[Path, Path]:
    """Write ``walk_forward.json`` (summary) and ``walk_forward.parquet`` (fold x seed rows)."""
    import json

    import pandas as pd

    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "walk_forward.json"
    json_path.write_text(json.dumps(result.as_dict(), indent=2) + "\n", encoding="utf-8")
    parquet_path = out_dir / "walk_forward.parquet"
    pd.DataFrame([asdict(row) for row in result.folds]).to_parquet(parquet_path, index=False)
    return json_path, parquet_path
