from pathlib import Path
from typing import Any

import pytest
import yaml

ALGO_PARAMS: dict[str, dict[str, Any]] = {
    "DQN": {"learning_starts": 200, "buffer_size": 5000, "train_freq": 1, "batch_size": 32},
    "QR-DQN": {"learning_starts": 200, "buffer_size": 5000, "train_freq": 1, "batch_size": 32},
    "PPO": {"n_steps": 64, "batch_size": 64, "n_epochs": 1},
    "A2C": {"n_steps": 8},
}


def tiny_config(runs_dir: Path, algorithm: str = "DQN", **sections: Any) -> dict[str, Any]:
    """A training config that runs in a few seconds: one-hour sessions, 1,500 steps."""
    config: dict[str, Any] = {
        "algorithm": algorithm,
        "algo_params": {**ALGO_PARAMS[algorithm], "policy_kwargs": {"net_arch": [16, 16]}},
        "training_params": {
            "total_timesteps": 1500,
            "n_envs": 4,
            "seed": 0,
            "eval_freq": 750,
            "checkpoint_freq": 500,
        },
        "env": {
            "data": {
                "builtin": {
                    "n_sessions": 16,
                    "seed": 3,
                    "calendar": {"open_time": "09:30:00", "close_time": "10:30:00"},
                }
            }
        },
        "run": {"name": f"tiny-{algorithm.lower()}", "runs_dir": str(runs_dir)},
    }
    for name, values in sections.items():
        config[name] = {**config.get(name, {}), **values}
    return config


def write_config(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    return tmp_path / "runs"


@pytest.fixture
def make_config(runs_dir: Path):
    """``make_config(algorithm="DQN", **sections)``: a tiny config writing runs into tmp."""

    def make(algorithm: str = "DQN", **sections: Any) -> dict[str, Any]:
        return tiny_config(runs_dir, algorithm, **sections)

    return make


@pytest.fixture
def config_file(tmp_path: Path):
    """``config_file(config)``: write a config dict to a YAML file in tmp and return its path."""

    def write(config: dict[str, Any], name: str = "config.yaml") -> Path:
        return write_config(tmp_path / name, config)

    return write
