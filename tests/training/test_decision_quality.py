"""The decision-quality setup end to end: regime fitted on train, decision clock in the bundle."""

import numpy as np
import yaml

from intraday_rl.bundle import load_policy
from intraday_rl.bundle.storage import read_bundle
from intraday_rl.env import IntradayTradingEnv, IntradayVecEnv
from intraday_rl.features import FeatureSpec
from intraday_rl.training import create_trainer_agent
from intraday_rl.training.run_dir import CONFIG_FILE


def _config(make_config):
    return make_config(
        env={
            "decision_every": 4,
            "reward_control_variate": 1.0,
            "window": 1,
            "features": {"features": [{"kind": "log_return", "lags": [1, 5]}, {"kind": "regime"}]},
        },
        training_params={"total_timesteps": 800, "eval_freq": 400},
    )


def test_regime_is_fitted_on_train_and_decision_every_reaches_the_bundle(make_config):
    trainer = create_trainer_agent(_config(make_config))
    bundle_path = trainer.run()
    spec = trainer.config.env.features
    assert spec.fitted
    regime = spec.features[-1].model
    assert regime is not None
    assert regime.n_train_sessions == len(trainer.market.split.train)
    # The run directory records the fitted config, so a resume trains on the same features.
    assert trainer.run_dir is not None
    saved = yaml.safe_load((trainer.run_dir / CONFIG_FILE).read_text())
    assert FeatureSpec.model_validate(saved["env"]["features"]) == spec
    # The bundle carries the fitted spec and the acting rules, and predicts without SB3.
    metadata = read_bundle(bundle_path).metadata
    assert metadata.feature_spec_hash == spec.spec_hash()
    assert metadata.rules is not None
    assert metadata.rules.decision_every == 4
    config = trainer.config.env.env_config(session_order="sequential")
    env, vec_env = (
        IntradayTradingEnv(trainer.market.split.test, config),
        IntradayVecEnv(trainer.market.split.test, 2, config),
    )
    assert env.config.decision_every == vec_env.config.decision_every == 4
    observation, _ = env.reset(options={"session_index": 0})
    action, _ = load_policy(bundle_path).predict(observation)
    assert 0 <= int(action) < 3
    assert np.isfinite(observation).all()


def test_evaluation_envs_never_use_the_control_variate(make_config):
    trainer = create_trainer_agent(_config(make_config))
    config = trainer.fitted_config()
    assert config.env.reward_control_variate == 1.0
    assert config.env.env_config(session_order="sequential").reward_control_variate == 0.0
    training = config.env.env_config(session_order="random", training=True)
    assert training.reward_control_variate == 1.0
