from pathlib import Path

import pytest

from intraday_rl.shared.errors import ConfigError
from intraday_rl.training.config import TrainingConfig, load_training_config

# config/ holds the training configs and the risk policies (risk_limits*.yaml).
CONFIGS = sorted(
    path
    for path in Path(__file__).parents[2].joinpath("config").glob("*.yaml")
    if not path.name.startswith("risk_limits")
)


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_shipped_configs_are_valid(path):
    config = load_training_config(path)
    assert config.training_params.total_timesteps > 0


def test_shipped_configs_exist_for_every_algorithm():
    algorithms = {load_training_config(path).algorithm for path in CONFIGS}
    assert algorithms == {"DQN", "QR-DQN", "PPO", "A2C"}


def test_unknown_algorithm_lists_the_valid_ones():
    with pytest.raises(ConfigError, match=r"algorithm: expected one of DQN, QR-DQN, PPO, A2C"):
        load_training_config({"algorithm": "SAC"})


def test_unknown_key_is_named():
    with pytest.raises(ConfigError, match=r"training_params\.total_steps: unknown field"):
        load_training_config({"training_params": {"total_steps": 5}})


def test_unknown_algo_param_lists_the_valid_ones():
    with pytest.raises(ConfigError, match=r"unknown for PPO: buffer_size; valid: .*n_steps"):
        load_training_config({"algorithm": "PPO", "algo_params": {"buffer_size": 10}})


def test_dqn_refuses_a_box_action_space():
    with pytest.raises(ConfigError, match=r"env\.action_type: DQN needs 'discrete'"):
        load_training_config({"env": {"action_type": "box"}})


def test_file_source_needs_a_path():
    with pytest.raises(ConfigError, match=r"env\.data: path: required when source is 'file'"):
        load_training_config({"env": {"data": {"source": "file"}}})


def test_negative_penalty_weight_is_rejected_naming_the_field():
    with pytest.raises(ConfigError, match=r"risk_config\.penalty_weight: .*greater than or equal"):
        load_training_config({"risk_config": {"penalty_weight": -1}})


def test_yaml_errors_name_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("algorithm: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: invalid YAML"):
        load_training_config(path)
    path.write_text("training_params: {n_envs: 0}\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: training_params\.n_envs"):
        load_training_config(path)


def test_dict_and_yaml_give_the_same_config_and_hash(tmp_path):
    data = {"algorithm": "A2C", "training_params": {"total_timesteps": 1000}}
    path = tmp_path / "c.yaml"
    path.write_text("algorithm: A2C\ntraining_params:\n  total_timesteps: 1000\n")
    assert load_training_config(data) == load_training_config(path)
    assert load_training_config(data).config_hash() == load_training_config(path).config_hash()
    assert load_training_config(data).config_hash() != TrainingConfig().config_hash()
