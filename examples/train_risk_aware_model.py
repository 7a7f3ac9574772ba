"""Train a risk-aware DQN on the built-in market and print where the policy went.

Run from the repository root:  .venv/bin/python examples/train_risk_aware_model.py
"""

from __future__ import annotations

from intraday_rl.training import create_trainer_agent

config = {
    "algorithm": "DQN",
    "algo_params": {
        "learning_rate": 3e-4,
        "buffer_size": 100_000,
        "learning_starts": 5_000,
        "batch_size": 128,
        "train_freq": 1,
        "target_update_interval": 2_000,
        "exploration_fraction": 0.3,
        "exploration_final_eps": 0.02,
        "policy_kwargs": {"net_arch": [64, 64]},
    },
    "training_params": {"total_timesteps": 50_000, "n_envs": 8, "seed": 0, "eval_freq": 25_000},
    "env": {
        "data": {"source": "builtin", "builtin": {"n_sessions": 250, "seed": 7}},
        "window": 1,
        "decision_every": 6,  # act every 6 bars
        "reward_control_variate": 1.0,  # learn from the regime forecast's expected P&L
        "features": {
            "features": [
                {"kind": "log_return"},
                {"kind": "rolling_volatility"},
                {"kind": "session_return"},
                {"kind": "regime"},  # fitted on the training sessions by the trainer
            ]
        },
    },
    "risk_config": {"enabled": True, "penalty_weight": 0.0005},
    "run": {"name": "example_risk_aware", "runs_dir": "runs"},
}

trainer = create_trainer_agent(config)  # a YAML path works too: config/dqn_risk_aware.yaml
result = trainer.train()
print(f"run directory: {result.run_dir}")
print(
    f"validation: net P&L {result.validation.net_pnl:,.0f}, Sharpe {result.validation.sharpe:.2f}"
)
print(f"policy: {result.bundle_path or result.run_dir}")
