"""``SB3Policy``: the training-side RLPolicy that predicts with SB3 and saves bundles."""

from __future__ import annotations

import numpy as np
import pytest

from intraday_rl.bundle import BundlePolicy, read_bundle
from intraday_rl.shared.errors import BundleExportError, PredictionInputError
from intraday_rl.shared.policy import RLPolicy
from intraday_rl.training.interfaces import RLPolicy as ReexportedRLPolicy
from intraday_rl.training.interfaces.rl_policy import RLPolicy as SeedPathRLPolicy
from intraday_rl.training.policies import SB3Policy, TorchScriptPolicy
from intraday_rl.training.policies.sb3_policy import TorchScriptPolicy as SeedPathTorchScript


def _policy(item, layout, lineage=None):
    return SB3Policy(
        item.model,
        layout=layout,
        feature_spec=item.config.features,
        position_levels=item.config.position_levels,
        lineage=lineage,
        normalization=item.normalization,
        parity_observations=item.observations,
    )


def test_seed_import_paths_point_at_the_shared_definitions():
    assert SeedPathRLPolicy is RLPolicy
    assert ReexportedRLPolicy is RLPolicy
    assert SeedPathTorchScript is TorchScriptPolicy
    assert issubclass(TorchScriptPolicy, BundlePolicy)


@pytest.mark.parametrize("name", ["DQN", "PPO-vecnormalize"])
def test_predict_is_sb3_predict_on_raw_observations(trained, layout, name):
    item = trained[name]
    policy = _policy(item, layout)
    assert isinstance(policy, RLPolicy)
    observations = item.observations[:50]
    seen = observations if item.normalization is None else item.normalization.apply(observations)
    expected, _ = item.model.predict(seen, deterministic=True)
    actions, info = policy.predict(observations)
    np.testing.assert_array_equal(actions, expected)
    single, single_info = policy.predict(observations[0])
    assert single == int(expected[0])
    assert single_info == {"target_position": item.config.position_levels[single]}
    assert info["target_positions"].shape == (50,)


def test_predict_applies_the_bundle_input_rules(trained, layout):
    policy = _policy(trained["DQN"], layout)
    with pytest.raises(PredictionInputError, match="expected shape"):
        policy.predict(np.zeros(3, np.float32))
    with pytest.raises(PredictionInputError, match="is nan"):
        policy.predict(np.full(52, np.nan, np.float32))


def test_save_bundle_exports_and_load_bundle_opens_the_fastest_runtime(
    trained, layout, lineage, tmp_path
):
    item = trained["PPO-vecnormalize"]
    path = _policy(item, layout, lineage).save_bundle(tmp_path / "bundle")
    assert read_bundle(path).metadata.normalization == item.normalization
    loaded = SB3Policy.load_bundle(path)
    assert loaded.runtime == "onnxruntime"
    raw = item.observations[:200]
    np.testing.assert_array_equal(loaded.predict(raw)[0], _policy(item, layout).predict(raw)[0])


def test_save_bundle_needs_lineage(trained, layout, tmp_path):
    with pytest.raises(BundleExportError, match="lineage: required to save a bundle"):
        _policy(trained["A2C"], layout).save_bundle(tmp_path / "bundle")


def test_sb3_latency_uses_the_same_keys(trained, layout):
    stats = _policy(trained["A2C"], layout).validate_prediction_latency(
        trained["A2C"].observations[0], 50
    )
    assert stats["runtime"] == "sb3"
    assert stats["n_trials"] == 50
    assert stats["p99_latency_us"] > 0.0
