"""Fixtures for every test folder: tiny training configs, portfolio states, SB3's log folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from intraday_rl.market.accounting import portfolio_state as accounting_state
from intraday_rl.shared.types import PortfolioState


@pytest.fixture(autouse=True, scope="session")
def _sb3_logs_in_pytest_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """SB3 models built without a tensorboard folder log into pytest's temp dir, not /tmp."""
    folder = tmp_path_factory.mktemp("sb3-logs")
    patch = pytest.MonkeyPatch()
    patch.setenv("SB3_LOGDIR", str(folder))
    yield folder
    patch.undo()


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


def portfolio_state(
    position: float = 0.0,
    price: float = 100.0,
    *,
    capital: float = 100_000.0,
    entry_price: float | None = None,
    peak_equity: float | None = None,
    time_left: float = 0.5,
    ts_ns: int = 0,
    symbol: str = "SYN",
) -> PortfolioState:
    """A consistent account (the real accounting): ``position`` bought at ``entry_price``."""
    entry = price if entry_price is None else entry_price
    cash = capital - position * entry
    peak = capital if peak_equity is None else peak_equity
    return accounting_state(
        ts_ns, symbol, price, cash, position, entry, 0.0, peak, capital, time_left
    )


@pytest.fixture
def make_state() -> Callable[..., PortfolioState]:
    """``make_state(position, price, entry_price=..., peak_equity=...)``: a PortfolioState."""
    return portfolio_state
