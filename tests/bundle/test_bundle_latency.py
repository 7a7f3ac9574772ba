"""Latency validation: the seed's keys, its p99 < 100 µs contract, and the bundle-level helper."""

from __future__ import annotations

import pytest

from intraday_rl.bundle import (
    NumpyPolicy,
    OnnxRuntimePolicy,
    TorchScriptPolicy,
    read_bundle,
    validate_bundle_latency,
)
from intraday_rl.bundle.latency import measure_latency
from intraday_rl.shared.errors import BundleError, PredictionInputError

SEED_KEYS = {
    "p50_latency_us",
    "p95_latency_us",
    "p99_latency_us",
    "p999_latency_us",
    "max_latency_us",
    "mean_latency_us",
}


@pytest.mark.parametrize(
    "runtime", [OnnxRuntimePolicy, NumpyPolicy, TorchScriptPolicy], ids=lambda cls: cls.runtime
)
def test_validate_prediction_latency_meets_the_seeds_contract(bundles, trained, runtime):
    policy = runtime.load_bundle(bundles["DQN"])
    stats = policy.validate_prediction_latency(trained["DQN"].observations[0])
    assert SEED_KEYS | {"slo_us", "slo_pass", "violation_rate"} <= set(stats)
    # The objective's logic, not the machine's speed (timings live in `bench predict`).
    assert stats["slo_pass"] == (stats["p99_latency_us"] <= stats["slo_us"])
    assert stats["n_trials"] == 100
    assert stats["slo_us"] == 100.0
    assert stats["runtime"] == runtime.runtime
    ordered = [stats[key] for key in ("p50_latency_us", "p95_latency_us", "p99_latency_us")]
    assert ordered == sorted(ordered)
    assert stats["p999_latency_us"] <= stats["max_latency_us"]


def test_a_tight_objective_reports_violations(bundles, trained):
    policy = TorchScriptPolicy.load_bundle(bundles["PPO"])
    stats = policy.validate_prediction_latency(
        trained["PPO"].observations[0], 200, slo_us=0.001, n_warmup=10
    )
    assert stats["slo_pass"] is False
    assert stats["violation_rate"] == 1.0
    assert stats["n_warmup"] == 10


def test_latency_needs_one_observation(bundles, trained):
    policy = NumpyPolicy.load_bundle(bundles["PPO"])
    with pytest.raises(PredictionInputError, match="expected one observation"):
        policy.validate_prediction_latency(trained["PPO"].observations[:2])


def test_measure_latency_rejects_bad_arguments():
    with pytest.raises(BundleError, match="num_trials: expected >= 1, was 0"):
        measure_latency(lambda: None, 0, runtime="x")
    with pytest.raises(BundleError, match="slo_us: expected > 0"):
        measure_latency(lambda: None, 10, runtime="x", slo_us=0.0)


def test_validate_bundle_latency_reports_the_picked_runtime_and_export_record(bundles):
    result = validate_bundle_latency(bundles["QRDQN"], num_trials=1000)
    assert result["runtime"] == "onnxruntime"
    assert result["algorithm"] == "QRDQN"
    assert result["bundle"] == str(bundles["QRDQN"])
    assert set(result) >= SEED_KEYS
    assert result["recorded_at_export"]["runtime"] == "onnxruntime"
    # The objective's logic, not the machine's speed (timings live in `bench predict`).
    assert result["slo_pass"] == (result["p99_latency_us"] <= result["slo_us"])


def test_validate_bundle_latency_can_time_one_runtime(bundles):
    result = validate_bundle_latency(bundles["A2C"], runtime="torchscript", num_trials=500)
    assert result["runtime"] == "torchscript"
    assert result["n_trials"] == 500


def test_export_records_each_runtimes_latency(bundles):
    latency = read_bundle(bundles["DQN"]).metadata.latency_validation
    for runtime, stats in latency.items():
        assert stats["runtime"] == runtime
        assert set(stats) >= SEED_KEYS


def test_bench_predict_reports_every_runtime_and_the_seed_check(tmp_path):
    # Keys and logic only; the timings themselves are `intraday-rl bench predict`'s to record.
    from intraday_rl.bench.predict_bench import PredictBenchConfig, run_predict_benchmark

    config = PredictBenchConfig(
        n_calls=200, n_warmup=50, n_chunks=2, train_steps=300, n_sessions=4, n_seed_checks=3
    )
    result = run_predict_benchmark(config, out_dir=tmp_path)
    for prefix in ("", "ppo_"):
        for name in ("sb3_predict", "torchscript", "onnx", "numpy", "default"):
            assert 0.0 < result[f"{prefix}{name}_p50_us"] <= result[f"{prefix}{name}_p99_us"]
        assert result[f"{prefix}torchscript_check100_runs"] == 3
        failures = result[f"{prefix}torchscript_check100_failures"]
        assert result[f"{prefix}torchscript_check100_ok"] is (failures == 0)
        assert result[f"{prefix}torchscript_check100_worst_p99_us"] > 0.0
    assert isinstance(result["targets_met"], bool)
    assert (tmp_path / "dqn" / "metadata.json").is_file()
