import json

import pytest
import yaml
from typer.testing import CliRunner

from intraday_rl.cli import app

runner = CliRunner(env={"COLUMNS": "200"})


def test_data_generate_then_validate_round_trips(tmp_path):
    out = tmp_path / "market.parquet"
    result = runner.invoke(
        app, ["data", "generate", "--sessions", "3", "--seed", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.exists()
    result = runner.invoke(app, ["data", "validate", str(out)])
    assert result.exit_code == 0, result.output
    assert (
        "1,170 valid bars; calendar us_equities (detected) keeps 1,170 in 3 sessions"
        in result.output
    )
    assert "SYN" in result.output


def test_data_validate_exits_non_zero_on_a_daily_file(tmp_path):
    path = tmp_path / "daily.csv"
    rows = [f"2024-01-{day:02d}T16:00:00-05:00,1,2,0.5,1.5,10" for day in range(2, 12)]
    path.write_text("Date,Open,High,Low,Close,Volume\n" + "\n".join(rows) + "\n")
    result = runner.invoke(app, ["data", "validate", str(path)])
    assert result.exit_code == 2
    assert "daily or coarser files are not supported" in result.output


def test_data_validate_reports_the_bad_row_and_exits_non_zero(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "timestamp,open,high,low,close,volume\n"
        "2024-01-02T09:30:00-05:00,100,101,99,100.5,10\n"
        "2024-01-02T09:31:00-05:00,100.5,100,101,100.2,10\n"
    )
    result = runner.invoke(app, ["data", "validate", str(path)])
    assert result.exit_code == 2
    assert "bad.csv row 2" in result.output
    assert "high" in result.output


@pytest.fixture
def tiny_yaml(make_config, config_file):
    """The shared tiny DQN config (tests/conftest.py), 1,000 steps, written to a YAML file."""
    config = make_config(
        training_params={"total_timesteps": 1000, "eval_freq": 500}, run={"name": "cli"}
    )
    return config_file(config, "tiny.yaml")


def test_demo_trains_and_prints_the_agent_beside_every_baseline(tiny_yaml):
    path = tiny_yaml
    result = runner.invoke(app, ["demo", "--config", str(path), "--no-progress"])
    assert result.exit_code == 0, result.output
    for name in ("DQN (risk-aware)", "flat", "buy_and_hold", "random", "oracle"):
        assert name in result.output
    assert "Test sessions" in result.output


def test_train_prints_run_directory_and_validation(tiny_yaml):
    path = tiny_yaml
    result = runner.invoke(app, ["train", "--config", str(path), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "run directory:" in result.output
    assert "timesteps: 1,00" in result.output


def test_train_with_a_bad_config_exits_non_zero_naming_the_field(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("algorithm: SAC\n")
    result = runner.invoke(app, ["train", "--config", str(path)])
    assert result.exit_code == 2
    assert "algorithm: expected one of DQN, QR-DQN, PPO, A2C" in result.output


def test_bench_env_prints_json_with_its_keys():
    result = runner.invoke(app, ["bench", "env", "--json", "--steps", "2000", "--repeats", "1"])
    assert result.exit_code == 0, result.output
    report = json.loads(next(line for line in result.output.splitlines() if line.startswith("{")))
    for key in ("env_steps_per_s", "vec_env_steps_per_s", "anytrading_steps_per_s"):
        assert report[key] > 0


def test_train_exports_a_bundle_that_validate_latency_accepts(tmp_path, tiny_yaml):
    config = yaml.safe_load(tiny_yaml.read_text())
    config["run"]["export_bundle"] = True
    path = tmp_path / "export.yaml"
    path.write_text(yaml.safe_dump(config))
    result = runner.invoke(app, ["train", "--config", str(path), "--no-progress"])
    assert result.exit_code == 0, result.output
    bundle = next((tmp_path / "runs").glob("*/bundle"))
    assert (bundle / "metadata.json").is_file()
    # A generous objective: this checks the command, not the machine's speed (`bench predict`).
    args = ["validate-latency", str(bundle), "--trials", "500", "--slo-us", "1000000", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    stats = json.loads(next(line for line in result.output.splitlines() if line.startswith("{")))
    assert 0.0 < stats["p50_latency_us"] <= stats["p99_latency_us"]
    assert stats["slo_pass"] is True
    missed = runner.invoke(app, [*args[:4], "--slo-us", "0.001", "--json"])
    assert missed.exit_code == 1


def test_validate_latency_names_a_missing_bundle(tmp_path):
    result = runner.invoke(app, ["validate-latency", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "nope" in result.output


def test_bench_risk_prints_its_keys():
    result = runner.invoke(app, ["bench", "risk", "--json", "--calls", "10000"])
    assert result.exit_code == 0, result.output
    report = json.loads(next(line for line in result.output.splitlines() if line.startswith("{")))
    for key in ("p50_us", "p99_us", "p999_us", "calls", "controls"):
        assert key in report


def test_bench_train_prints_its_keys():
    result = runner.invoke(app, ["bench", "train", "--json", "--steps", "2000", "--repeats", "1"])
    assert result.exit_code == 0, result.output
    report = json.loads(next(line for line in result.output.splitlines() if line.startswith("{")))
    assert report["dqn_fps"] > 0
    assert report["dqn_fps_anytrading"] > 0


@pytest.fixture
def regime_yaml(tiny_yaml):
    path = tiny_yaml
    config = yaml.safe_load(path.read_text())
    config["env"].update(
        decision_every=3,
        reward_control_variate=1.0,
        features={"features": [{"kind": "log_return", "lags": [1, 5]}, {"kind": "regime"}]},
    )
    config["env"]["data"]["builtin"]["n_sessions"] = 30
    path.write_text(yaml.safe_dump(config))
    return path


def test_walk_forward_prints_folds_and_writes_json_and_parquet(tmp_path, regime_yaml):
    path = regime_yaml
    out = tmp_path / "wf"
    result = runner.invoke(
        app,
        ["walk-forward", "--config", str(path), "--folds", "2", "--seeds", "0",
         "--test-sessions", "4", "--train-sessions", "14", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "fold 1 seed 0" in result.output
    assert "95% CI" in result.output
    assert (out / "walk_forward.json").exists()
    assert (out / "walk_forward.parquet").exists()


def test_walk_forward_with_too_few_dates_names_the_need(tmp_path, regime_yaml):
    path = regime_yaml
    result = runner.invoke(
        app, ["walk-forward", "--config", str(path), "--folds", "9", "--test-sessions", "10"]
    )
    assert result.exit_code == 2
    assert "walk_forward_folds: need" in result.output


def test_bench_quality_reports_every_goal_key(tmp_path, regime_yaml):
    path = regime_yaml
    result = runner.invoke(
        app,
        ["bench", "quality", "--config", str(path), "--seeds", "0,1", "--folds", "0",
         "--runs-dir", str(tmp_path / "q"), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    for key in (
        "agent_test_pnl_mean", "agent_test_pnl_ci_low", "agent_seeds_profitable", "n_seeds",
        "n_test_sessions", "buy_and_hold_pnl", "supervised_pnl", "oracle_pnl",
        "cost_aware_oracle_pnl", "oracle_capture", "agent_sharpe_mean", "deflated_sharpe",
        "drawdown_cut", "return_kept", "walk_forward_pnl_mean", "walk_forward_ci_low", "goal_met",
    ):  # fmt: skip
        assert key in report
    assert report["n_seeds"] == 2
    assert isinstance(report["goal_met"], bool)


def test_walk_forward_takes_any_ohlcv_file(tmp_path, regime_yaml):
    data = tmp_path / "bars.parquet"
    generated = runner.invoke(
        app, ["data", "generate", "--sessions", "24", "--seed", "5", "--out", str(data)]
    )
    assert generated.exit_code == 0, generated.output
    path = regime_yaml
    out = tmp_path / "wf"
    result = runner.invoke(
        app,
        ["walk-forward", "--config", str(path), "--data", str(data), "--folds", "2",
         "--seeds", "0", "--test-sessions", "3", "--train-sessions", "12", "--timesteps", "1000",
         "--out", str(out), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["n_test_sessions"] == 6
    assert summary["n_folds"] == 2


def test_user_data_is_printed_as_plain_text_not_markup(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("timestamp,open,high,[/b]\n2024-01-02T09:30:00-05:00,1,2,3\n")
    result = runner.invoke(app, ["data", "validate", str(path)])
    assert result.exit_code == 2
    assert "[/b]" in result.output
    assert "MarkupError" not in result.output
