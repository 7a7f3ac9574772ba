"""``intraday-rl bench quality``: what risk shaping buys, on test sessions never used in training.

Trains the given config with risk shaping on and off for several seeds, evaluates each run's best
model (chosen on validation) on the test sessions, and puts them beside flat, buy-and-hold, random
and the oracle. Reports per-seed and mean net P&L, annualized Sharpe and max drawdown, and the
issue's goal: shaping should cut max drawdown by >= 25% while keeping >= 80% of the unshaped return.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from intraday_rl.env import IntradayTradingEnv
from intraday_rl.evaluation import PolicySummary, baseline_policies, evaluate_policy
from intraday_rl.training.config import TrainingConfig, load_training_config
from intraday_rl.training.trainer_agent import SB3EnvPolicy, TrainerAgent

DRAWDOWN_CUT_GOAL = 0.25
RETURN_KEPT_GOAL = 0.80


def _variant(config: TrainingConfig, seed: int, shaped: bool, runs_dir: Path) -> TrainingConfig:
    data = config.model_dump(mode="json")
    data["training_params"]["seed"] = seed
    data["risk_config"]["enabled"] = shaped
    data["run"].update(
        name=f"quality-{'shaped' if shaped else 'plain'}-{seed}",
        runs_dir=str(runs_dir),
        export_bundle=False,
    )
    return load_training_config(data)


def _row(summary: PolicySummary, **extra: Any) -> dict[str, Any]:
    return {
        "policy": summary.policy,
        "net_pnl": round(summary.net_pnl, 2),
        "sharpe": round(summary.sharpe, 3),
        "max_drawdown": round(summary.max_drawdown, 4),
        "n_trades": summary.n_trades,
        **extra,
    }


def _mean(rows: Sequence[dict[str, Any]], key: str) -> float:
    return float(statistics.fmean(row[key] for row in rows))


def run_quality_benchmark(
    config_path: Path, seeds: Sequence[int] = (0, 1, 2), runs_dir: Path = Path("runs/quality")
) -> dict[str, Any]:
    """Train shaped and unshaped agents per seed; compare on the test sessions."""
    base = load_training_config(config_path)
    agents: dict[str, list[dict[str, Any]]] = {"shaped": [], "plain": []}
    trainer: TrainerAgent | None = None
    for seed in seeds:
        for shaped in (True, False):
            trainer = TrainerAgent(_variant(base, seed, shaped, runs_dir))
            result = trainer.train()
            env = IntradayTradingEnv(
                trainer.market.split.test, base.env.env_config(session_order="sequential")
            )
            name = f"{base.algorithm} {'shaped' if shaped else 'plain'}"
            policy = SB3EnvPolicy(result.load_best_model(), name=name)
            summary = evaluate_policy(env, policy)[0]
            agents["shaped" if shaped else "plain"].append(_row(summary, seed=seed))
    assert trainer is not None
    env = IntradayTradingEnv(
        trainer.market.split.test, base.env.env_config(session_order="sequential")
    )
    baselines = baseline_policies(trainer.market.market, seed=0)
    reference = [_row(evaluate_policy(env, policy)[0]) for policy in baselines]
    return _report(agents, reference, len(trainer.market.split.test), seeds)


def _report(
    agents: dict[str, list[dict[str, Any]]],
    baselines: list[dict[str, Any]],
    n_test_sessions: int,
    seeds: Sequence[int],
) -> dict[str, Any]:
    means = {
        kind: {key: _mean(rows, key) for key in ("net_pnl", "sharpe", "max_drawdown")}
        for kind, rows in agents.items()
    }
    plain, shaped = means["plain"], means["shaped"]
    drawdown_cut = 1.0 - shaped["max_drawdown"] / plain["max_drawdown"]
    return_kept = shaped["net_pnl"] / plain["net_pnl"] if plain["net_pnl"] > 0 else float("nan")
    best_baseline = max(
        (row for row in baselines if row["policy"] in ("flat", "buy_and_hold")),
        key=lambda row: row["net_pnl"],
    )
    return {
        "seeds": list(seeds),
        "n_test_sessions": n_test_sessions,
        "agents": agents,
        "means": means,
        "baselines": baselines,
        "drawdown_cut": round(drawdown_cut, 3),
        "return_kept": round(return_kept, 3),
        "shaped_beats_flat_and_buy_and_hold": shaped["net_pnl"] > best_baseline["net_pnl"],
        "goal_met": bool(
            shaped["net_pnl"] > best_baseline["net_pnl"]
            and drawdown_cut >= DRAWDOWN_CUT_GOAL
            and return_kept >= RETURN_KEPT_GOAL
        ),
    }
