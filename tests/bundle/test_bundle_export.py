"""Export, load and predict for every algorithm; parity with SB3 on real rollout observations."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from intraday_rl.bundle import (
    BUNDLE_SCHEMA_VERSION,
    NumpyPolicy,
    OnnxRuntimePolicy,
    TorchScriptPolicy,
    export_bundle,
    load_policy,
    read_bundle,
)
from intraday_rl.bundle.schema import (
    NUMPY_FILE,
    ONNX_FILE,
    RUNTIME_NAMES,
    TORCHSCRIPT_FILE,
    VERIFICATION_FILE,
)
from intraday_rl.shared.errors import BundleExportError
from intraday_rl.shared.policy import RLPolicy
from intraday_rl.training.export import export_sb3_model

RUNTIMES = (TorchScriptPolicy, OnnxRuntimePolicy, NumpyPolicy)
ALGORITHMS = ("DQN", "QRDQN", "PPO", "A2C")
VARIANTS = (*ALGORITHMS, "PPO-box", "A2C-box", "PPO-vecnormalize")


def _sb3_actions(item, observations):
    seen = observations if item.normalization is None else item.normalization.apply(observations)
    actions, _ = item.model.predict(seen, deterministic=True)
    return np.asarray(actions)


@pytest.mark.parametrize("name", VARIANTS)
@pytest.mark.parametrize("runtime", RUNTIMES, ids=lambda cls: cls.runtime)
def test_runtime_matches_sb3_predict_on_rollout_observations(trained, bundles, name, runtime):
    item = trained[name]
    policy = runtime.load_bundle(bundles[name])
    observations = item.observations
    assert len(observations) >= 1000
    expected = _sb3_actions(item, observations)
    batch_actions, _ = policy.predict(observations)
    single = [policy.predict(row)[0] for row in observations]
    if item.config.action_type == "discrete":
        # Exact agreement: a tolerated near tie never occurs on these observations.
        np.testing.assert_array_equal(batch_actions, expected)
        np.testing.assert_array_equal(np.asarray(single), expected)
        assert all(type(action) is int for action in single)
    else:
        np.testing.assert_allclose(batch_actions, expected, atol=1e-5)
        np.testing.assert_allclose(np.stack(single), expected, atol=1e-5)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_every_algorithm_exports_a_complete_bundle(bundles, name):
    path = bundles[name]
    metadata = read_bundle(path).metadata
    assert metadata.schema_version == BUNDLE_SCHEMA_VERSION
    assert metadata.algorithm.name == name
    assert set(metadata.files) == {TORCHSCRIPT_FILE, ONNX_FILE, NUMPY_FILE, VERIFICATION_FILE}
    assert metadata.runtimes == ("onnxruntime", "numpy", "torchscript")
    assert metadata.action.position_levels == (-1.0, 0.0, 1.0)
    assert metadata.parity.source == "rollouts"
    assert metadata.parity.n_observations >= 1000
    assert set(metadata.parity.runtimes) == set(metadata.runtimes)
    assert set(metadata.latency_validation) == set(metadata.runtimes)
    assert not list(path.parent.glob(f".{path.name}.*"))  # no temp folder left behind


def test_metadata_records_lineage_metrics_versions_and_layout(bundles, layout, lineage):
    raw = json.loads((bundles["DQN"] / "metadata.json").read_text())
    for key in (
        "schema_version",
        "algorithm",
        "observation",
        "feature_spec",
        "feature_spec_hash",
        "action",
        "normalization",
        "files",
        "lineage",
        "risk_policy_hash",
        "validation_metrics",
        "latency_validation",
        "package_versions",
        "created_at",
        "integrity",
    ):
        assert key in raw, key
    assert raw["lineage"]["config_hash"] == lineage["config_hash"]
    assert raw["lineage"]["timesteps"] == 600
    assert raw["lineage"]["git_commit"] == "0123abc"
    assert raw["lineage"]["extra"] == {"sessions": {"train": 6}}
    assert raw["validation_metrics"] == {
        "validation/sharpe": 0.5,
        "validation/max_drawdown": None,
    }
    assert raw["observation"]["layout"] == layout.to_dict()
    assert raw["normalization"] is None
    assert raw["algorithm"]["framework"] == "stable-baselines3"
    assert {"python", "numpy", "torch", "onnxruntime", "stable-baselines3"} <= set(
        raw["package_versions"]
    )
    for record in raw["files"].values():
        assert len(record["sha256"]) == 64
    latency = raw["latency_validation"]["onnxruntime"]
    assert latency["n_trials"] == 2000
    assert latency["slo_us"] == 100.0


def test_qrdqn_is_recorded_with_its_quantile_head(bundles):
    metadata = read_bundle(bundles["QRDQN"]).metadata
    assert metadata.algorithm.framework == "sb3-contrib"
    assert metadata.algorithm.head == "quantile_mean_argmax"
    assert metadata.algorithm.n_quantiles == 200


def test_vecnormalize_statistics_travel_in_the_bundle(trained, bundles):
    item = trained["PPO-vecnormalize"]
    metadata = read_bundle(bundles["PPO-vecnormalize"]).metadata
    assert metadata.normalization == item.normalization
    policy = load_policy(bundles["PPO-vecnormalize"])
    raw = item.observations[0]  # the runtime takes raw observations
    assert policy.predict(raw)[0] == int(_sb3_actions(item, raw[None, :])[0])


def test_box_policies_record_bounds_and_return_clipped_arrays(bundles):
    metadata = read_bundle(bundles["PPO-box"]).metadata
    assert metadata.action.kind == "box"
    assert metadata.action.low == (-1.0,)
    assert metadata.action.high == (1.0,)
    policy = load_policy(bundles["PPO-box"])
    action, info = policy.predict(np.full(policy.obs_dim, 5.0, dtype=np.float32))
    assert action.dtype == np.float32
    assert action.shape == (1,)
    assert -1.0 <= float(action[0]) <= 1.0
    assert info == {}


def test_runtimes_implement_the_rl_policy_protocol(bundles):
    for runtime in RUNTIMES:
        assert isinstance(runtime.load_bundle(bundles["DQN"]), RLPolicy)


def test_load_policy_picks_onnxruntime_and_reports_target_position(bundles, trained):
    policy = load_policy(bundles["DQN"])
    assert policy.runtime == "onnxruntime"
    action, info = policy.predict(trained["DQN"].observations[3])
    assert info == {"target_position": (-1.0, 0.0, 1.0)[action]}


def test_load_policy_honours_an_explicit_runtime_order(bundles):
    assert load_policy(bundles["A2C"], runtimes=("numpy", "torchscript")).runtime == "numpy"
    assert load_policy(bundles["A2C"], runtimes=("torchscript",)).runtime == "torchscript"


def test_export_refuses_an_existing_bundle_unless_overwrite(trained, exporter, tmp_path):
    target = tmp_path / "bundle"
    exporter(trained["A2C"], target)
    before = (target / "metadata.json").read_text()
    with pytest.raises(BundleExportError, match="already exists; pass overwrite=True"):
        exporter(trained["A2C"], target)
    assert (target / "metadata.json").read_text() == before
    exporter(trained["PPO"], target, overwrite=True)
    assert read_bundle(target).metadata.algorithm.name == "PPO"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]


def test_export_never_replaces_a_folder_that_is_not_a_bundle(trained, exporter, tmp_path):
    target = tmp_path / "results"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(BundleExportError, match="is not a bundle"):
        exporter(trained["A2C"], target, overwrite=True)
    assert (target / "notes.txt").read_text() == "keep me"


def test_export_without_observations_checks_parity_on_synthetic_ones(trained, exporter, tmp_path):
    path = exporter(trained["A2C"], tmp_path / "b", parity_observations=None)
    assert read_bundle(path).metadata.parity.source == "synthetic"


_LINEAGE = {"config_hash": "c", "data_fingerprint": "d", "seed": 0, "timesteps": 1}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"position_levels": (-1.0, 1.0)}, "position_levels: expected 3 levels"),
        ({"lineage": {"seed": 1}}, "lineage: config_hash: Field required"),
        ({"lineage": {**_LINEAGE, "feature_spec_hash": "0" * 64}}, "lineage.feature_spec_hash"),
        ({"risk_policy_hash": "x", "lineage": {**_LINEAGE, "risk_policy_hash": "y"}}, "differs"),
        ({"parity_observations": np.zeros((5, 7), np.float32)}, "parity_observations"),
        ({"parity_observations": np.full((5, 52), np.nan, np.float32)}, "finite"),
    ],
    ids=["levels", "lineage", "spec-hash", "risk-hash", "obs-shape", "obs-nan"],
)
def test_export_rejects_inconsistent_arguments(trained, exporter, tmp_path, overrides, message):
    with pytest.raises(BundleExportError, match=message):
        exporter(trained["A2C"], tmp_path / "b", **overrides)
    assert not (tmp_path / "b").exists()


def test_export_rejects_a_layout_that_is_not_the_feature_specs(trained, exporter, tmp_path):
    from intraday_rl.features.layout import ObservationLayout

    wrong = ObservationLayout(("a", "b"), 4)
    with pytest.raises(BundleExportError, match="feature names"):
        exporter(trained["A2C"], tmp_path / "b", layout=wrong)


class _UnsupportedModel:
    # Stands in for an algorithm a bundle cannot represent (SAC, TD3, ...).
    observation_space = SimpleNamespace(shape=(52,))


def test_export_rejects_unsupported_models(layout, lineage, tmp_path):
    from intraday_rl.env import EnvConfig

    with pytest.raises(BundleExportError, match=r"expected an SB3 DQN, QRDQN, PPO, A2C model"):
        export_sb3_model(
            _UnsupportedModel(),
            tmp_path / "b",
            layout=layout,
            feature_spec=EnvConfig().features,
            position_levels=(-1.0, 0.0, 1.0),
            lineage=lineage,
        )
    assert not list(tmp_path.iterdir())


def test_export_takes_any_framework_network_with_its_reference_predict(layout, lineage, tmp_path):
    # The seam an RLlib backend uses: a plain torch network and its own greedy predict, no SB3.
    import torch

    from intraday_rl.bundle.graph import (
        ExportModule,
        ExtractedPolicy,
        discrete_action_info,
        frozen,
        mlp_program,
    )
    from intraday_rl.env import EnvConfig

    torch.manual_seed(0)
    network = frozen(
        torch.nn.Sequential(
            torch.nn.Linear(layout.obs_dim, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)
        )
    )
    layers, weights = mlp_program(list(network), n_quantiles=None)
    policy = ExtractedPolicy(
        algorithm="DQN",
        policy_class="RLlibQModule",
        head="q_argmax",
        module=ExportModule(network, "q_argmax", None).eval(),
        action=discrete_action_info(3, (-1.0, 0.0, 1.0)),
        obs_shape=(layout.obs_dim,),
        framework="ray-rllib",
        framework_version="test",
        layers=layers,
        numpy_weights=weights,
    )

    def reference(observations):
        with torch.no_grad():
            return network(torch.from_numpy(observations)).argmax(dim=-1).numpy()

    observations = np.random.default_rng(1).standard_normal((1000, layout.obs_dim))
    path = export_bundle(
        policy,
        tmp_path / "b",
        reference_predict=reference,
        layout=layout,
        feature_spec=EnvConfig().features,
        lineage=lineage,
        parity_observations=observations.astype(np.float32),
    )
    metadata = read_bundle(path).metadata
    assert metadata.algorithm.framework == "ray-rllib"
    assert set(metadata.runtimes) == set(RUNTIME_NAMES)
    loaded = load_policy(path, runtimes=["numpy"])
    batch = observations[:64].astype(np.float32)
    actions, _ = loaded.predict(batch)
    np.testing.assert_array_equal(actions, reference(batch))


def test_export_refuses_a_network_that_disagrees_with_its_reference(layout, lineage, tmp_path):
    import torch

    from intraday_rl.bundle.graph import ExportModule, ExtractedPolicy, discrete_action_info
    from intraday_rl.env import EnvConfig
    from intraday_rl.shared.errors import BundleVerificationError

    network = torch.nn.Sequential(torch.nn.Linear(layout.obs_dim, 3))
    policy = ExtractedPolicy(
        algorithm="DQN",
        policy_class="Q",
        head="q_argmax",
        module=ExportModule(network, "q_argmax", None).eval(),
        action=discrete_action_info(3, (-1.0, 0.0, 1.0)),
        obs_shape=(layout.obs_dim,),
        framework="other",
        framework_version="0",
    )
    arguments = {
        "layout": layout,
        "feature_spec": EnvConfig().features,
        "lineage": lineage,
        "parity_observations": np.random.default_rng(2).standard_normal((1000, layout.obs_dim)),
    }
    with pytest.raises(BundleExportError, match=r"reference_predict: expected 1000 action"):
        export_bundle(
            policy, tmp_path / "b", reference_predict=lambda o: np.full(len(o), 7), **arguments
        )
    with pytest.raises(BundleVerificationError, match="extracted graph"):
        export_bundle(
            policy,
            tmp_path / "b",
            # argmin where the network takes argmax: a framework/graph mismatch export must catch
            reference_predict=lambda o: (
                network(torch.from_numpy(o)).argmin(dim=-1).detach().numpy()
            ),
            **arguments,
        )
    assert not (tmp_path / "b").exists()
