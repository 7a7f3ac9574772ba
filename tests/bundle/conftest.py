"""Fixtures for the bundle tests: tiny markets, briefly trained SB3 models, exported bundles.

Models train for a few hundred steps on one-hour sessions: the tests check export, loading and
inference, not policy quality. Everything expensive is session-scoped and exported once; tests
that modify a bundle work on a copy (``bundle_copy``).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from intraday_rl.bundle import ObservationNormalization
from intraday_rl.bundle.storage import file_record, integrity_block
from intraday_rl.data.config import SessionCalendar, SyntheticMarketConfig
from intraday_rl.data.sessions import split_sessions
from intraday_rl.data.synthetic import generate_market
from intraday_rl.env import EnvConfig, IntradayTradingEnv, IntradayVecEnv
from intraday_rl.features.layout import ObservationLayout
from intraday_rl.training.export import export_sb3_model
from intraday_rl.training.extraction import sb3_reference_predict
from intraday_rl.training.rollouts import collect_rollout_observations

SHORT_CALENDAR = SessionCalendar(open_time=dt.time(9, 30), close_time=dt.time(10, 30))
N_PARITY_OBSERVATIONS = 1200
LINEAGE = {
    "config_hash": "c" * 64,
    "data_fingerprint": "d" * 64,
    "seed": 0,
    "timesteps": 600,
    "git_commit": "0123abc",
    "sessions": {"train": 6},
}


@dataclass(frozen=True)
class Trained:
    """A trained model with everything its export needs."""

    name: str
    model: Any
    config: EnvConfig
    observations: np.ndarray
    normalization: ObservationNormalization | None = None


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def sessions():
    market = generate_market(SyntheticMarketConfig(n_sessions=6, seed=5, calendar=SHORT_CALENDAR))
    return split_sessions(market.bars, SHORT_CALENDAR)


def _train(name: str, sessions, config: EnvConfig, normalize: bool = False) -> Trained:
    from sb3_contrib import QRDQN
    from stable_baselines3 import A2C, DQN, PPO
    from stable_baselines3.common.vec_env import VecNormalize

    algorithm = name.split("-")[0]
    vec_env: Any = IntradayVecEnv(sessions, 4, config)
    if normalize:
        vec_env = VecNormalize(vec_env, norm_reward=False)
    common = {"seed": 0, "device": "cpu", "policy_kwargs": {"net_arch": [64, 64]}}
    if algorithm in ("DQN", "QRDQN"):
        cls = DQN if algorithm == "DQN" else QRDQN
        model = cls("MlpPolicy", vec_env, learning_starts=100, train_freq=4, **common)
    elif algorithm == "PPO":
        model = PPO("MlpPolicy", vec_env, n_steps=64, batch_size=64, n_epochs=2, **common)
    else:
        model = A2C("MlpPolicy", vec_env, n_steps=8, **common)
    model.learn(600)
    normalization = ObservationNormalization.from_vec_normalize(vec_env) if normalize else None
    env = IntradayTradingEnv(sessions, config)
    observations = collect_rollout_observations(
        sb3_reference_predict(model, normalization), env, N_PARITY_OBSERVATIONS, seed=1
    )
    return Trained(name, model, config, observations, normalization)


ALGORITHMS = ("DQN", "QRDQN", "PPO", "A2C")
VARIANTS = (*ALGORITHMS, "PPO-box", "A2C-box", "PPO-vecnormalize")


@pytest.fixture(scope="session")
def trained(sessions) -> dict[str, Trained]:
    models = {}
    for name in VARIANTS:
        config = EnvConfig(action_type="box") if name.endswith("box") else EnvConfig()
        models[name] = _train(name, sessions, config, normalize=name.endswith("vecnormalize"))
    return models


def export(item: Trained, path: Path, **overrides: Any) -> Path:
    """Export a trained model with the fixtures' lineage (keyword arguments override)."""
    layout = ObservationLayout(item.config.features.column_names, item.config.window)
    arguments: dict[str, Any] = {
        "layout": layout,
        "feature_spec": item.config.features,
        "position_levels": item.config.position_levels,
        "lineage": LINEAGE,
        "validation_metrics": {"validation/sharpe": 0.5, "validation/max_drawdown": float("nan")},
        "risk_policy_hash": "r" * 64,
        "normalization": item.normalization,
        "parity_observations": item.observations,
    }
    arguments.update(overrides)
    return export_sb3_model(item.model, path, **arguments)


@pytest.fixture(scope="session")
def bundles(trained, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bundles")
    return {name: export(item, root / name) for name, item in trained.items()}


@pytest.fixture
def bundle_copy(bundles, tmp_path):
    """Return a function copying a session bundle into this test's tmp_path."""

    def copy(name: str = "DQN") -> Path:
        target = tmp_path / f"copy-{name}"
        shutil.copytree(bundles[name], target)
        return target

    return copy


@pytest.fixture(scope="session")
def exporter():
    """The ``export`` helper above (tests cannot import conftest)."""
    return export


@pytest.fixture(scope="session")
def lineage():
    return dict(LINEAGE)


@pytest.fixture(scope="session")
def layout():
    config = EnvConfig()
    return ObservationLayout(config.features.column_names, config.window)


def rehash_bundle(path: Path, edit: Any = None) -> Path:
    """Edit ``metadata.json`` and recompute every file record and the integrity block.

    What anyone with write access to the folder can do: the result passes the integrity checks,
    so only cross-field rules, bounds or a signature can refuse it.
    """
    metadata_path = path / "metadata.json"
    data = json.loads(metadata_path.read_text())
    if edit is not None:
        edit(data)
    data["files"] = {name: file_record(path / name).model_dump() for name in data["files"]}
    data.pop("integrity")
    data["integrity"] = integrity_block(data)
    metadata_path.write_text(json.dumps(data, indent=2))
    return path


@pytest.fixture(scope="session")
def rehash():
    """The ``rehash_bundle`` helper above: ``rehash(path, edit=None)``."""
    return rehash_bundle
