import json
import threading
import warnings

import numpy as np
import pytest

from intraday_rl.training import create_trainer_agent
from intraday_rl.training.run_dir import LINEAGE_FILE

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

LINEAGE_KEYS = {
    "config_hash",
    "data_fingerprint",
    "feature_spec_hash",
    "risk_policy_hash",
    "git_commit",
    "packages",
    "seed",
    "timesteps",
}


@pytest.mark.parametrize("algorithm", ["DQN", "QR-DQN", "PPO", "A2C"])
def test_each_algorithm_trains_end_to_end_from_yaml(make_config, config_file, runs_dir, algorithm):
    path = config_file(make_config(algorithm, run={"export_bundle": False}))
    result = create_trainer_agent(path).train()
    assert result.num_timesteps >= 1500
    run_dir = result.run_dir
    assert run_dir.parent == runs_dir
    assert run_dir.name.startswith(f"tiny-{algorithm.lower()}-")
    for name in ("config.yaml", "final_model.zip", "evaluation.json", "training.log"):
        assert (run_dir / name).is_file(), name
    assert list((run_dir / "tensorboard").rglob("events.out.tfevents.*"))
    assert (run_dir / "best" / "best_model.zip").is_file()
    assert (run_dir / "eval" / "evaluations.npz").is_file()
    checkpoints = sorted(p.name for p in (run_dir / "checkpoints").glob("model_*_steps.zip"))
    assert checkpoints
    lineage = json.loads((run_dir / LINEAGE_FILE).read_text())
    assert set(lineage) >= LINEAGE_KEYS
    assert lineage["packages"]["stable-baselines3"].startswith("2.9")
    assert len(lineage["data_fingerprint"]) == 64
    evaluation = json.loads((run_dir / "evaluation.json").read_text())
    assert evaluation["n_sessions"] == result.validation.n_sessions > 0


def test_run_returns_the_run_directory_when_export_is_off(make_config, runs_dir):
    config = make_config(run={"export_bundle": False})
    before = set(threading.enumerate())
    assert create_trainer_agent(config).run() == next(runs_dir.iterdir())
    # SB3's TensorBoard writer thread is closed with the run: no thread outlives it to wake up
    # inside a later latency measurement (or pile up over a walk-forward's many models).
    assert set(threading.enumerate()) - before == set()


def test_same_seed_twice_gives_identical_evaluations(make_config):
    config = make_config(run={"export_bundle": False})
    first = create_trainer_agent(config).train()
    second = create_trainer_agent(config).train()
    assert first.run_dir != second.run_dir
    assert first.validation == second.validation
    a = np.load(first.run_dir / "eval" / "evaluations.npz")
    b = np.load(second.run_dir / "eval" / "evaluations.npz")
    np.testing.assert_array_equal(a["results"], b["results"])


def test_early_stop_with_a_low_threshold_stops_and_says_why(make_config):
    config = make_config(
        training_params={"total_timesteps": 20_000},
        risk_config={"enabled": True, "early_stop_threshold": 0.05, "early_stop_window": 20},
        run={"export_bundle": False},
    )
    result = create_trainer_agent(config).train()
    assert result.num_timesteps < 20_000
    assert "early_stop_threshold 0.05" in result.early_stop_reason
    record = json.loads((result.run_dir / "early_stop.json").read_text())
    assert record["threshold"] == 0.05
    assert record["rolling_breach_severity"] > 0.05
    assert "early stop" in (result.run_dir / "training.log").read_text()


def test_deprecated_trainer_module_warns_and_forwards(make_config):
    import importlib
    import sys

    sys.modules.pop("intraday_rl.agents.trainer_agent", None)
    with pytest.warns(DeprecationWarning, match="intraday_rl.training"):
        legacy = importlib.import_module("intraday_rl.agents.trainer_agent")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        with pytest.raises(DeprecationWarning):
            legacy.create_trainer_agent(make_config())
    with pytest.warns(DeprecationWarning, match="create_trainer_agent is deprecated"):
        trainer = legacy.create_trainer_agent(make_config())
    from intraday_rl.training import TrainerAgent

    assert isinstance(trainer, TrainerAgent)
