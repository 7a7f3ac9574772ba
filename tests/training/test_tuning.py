"""intraday-rl tune: an Optuna study in SQLite, scored on validation, writing the best config."""

import csv

import pytest

from intraday_rl.shared.errors import ConfigError
from intraday_rl.training.config import load_training_config
from intraday_rl.training.tuning import apply_params, run_tuning

SPACE = {
    "algo_params.learning_rate": {"type": "float", "low": 1e-4, "high": 1e-3, "log": True},
    "env.decision_every": {"type": "int", "low": 1, "high": 4},
    "risk_config.penalty_weight": {"type": "categorical", "choices": [0.0, 0.001]},
}


def test_tune_runs_trials_writes_the_best_config_and_extends_the_study(make_config, tmp_path):
    config = make_config(
        training_params={"total_timesteps": 800, "eval_freq": 400},
        tune={"n_trials": 3, "space": SPACE, "pruner": "none"},
    )
    seen = []
    result = run_tuning(config, runs_dir=tmp_path, on_trial=lambda *args: seen.append(args))
    assert result.n_trials == 3
    assert [number for number, *_ in seen] == [0, 1, 2]
    assert (result.study_dir / "study.db").exists()
    best = load_training_config(result.best_config_path)
    assert best.env.decision_every == result.best_params["env.decision_every"]
    assert best.algo_params["learning_rate"] == result.best_params["algo_params.learning_rate"]
    assert result.best_value == max(value for _, value, _, _ in seen)
    with result.trials_path.open() as handle:
        assert len(list(csv.DictReader(handle))) == 3
    again = run_tuning(config, n_trials=1, runs_dir=tmp_path)
    assert again.n_trials == 4  # the SQLite study is resumed, not restarted


def test_tune_space_keys_must_exist(make_config):
    config = make_config(tune={"space": {"env.no_such_key": {"type": "int", "low": 1, "high": 2}}})
    with pytest.raises(ConfigError, match=r"tune\.space: 'env\.no_such_key'"):
        load_training_config(config)
    with pytest.raises(ConfigError, match=r"'env\.window\.x'"):
        apply_params(load_training_config(make_config()), {"env.window.x": 1})


def test_tune_without_a_space_is_refused(make_config):
    with pytest.raises(ConfigError, match="no 'tune' section"):
        run_tuning(make_config())


def test_a_bad_range_names_the_fields(make_config):
    config = make_config(tune={"space": {"env.window": {"type": "int", "low": 5, "high": 2}}})
    with pytest.raises(ConfigError, match="expected low < high"):
        load_training_config(config)
