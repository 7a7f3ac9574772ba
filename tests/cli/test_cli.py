import json

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
    assert "1,170 valid bars, 3 sessions, symbols SYN" in result.output


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


def test_demo_prints_every_baseline(tmp_path):
    result = runner.invoke(app, ["demo", "--sessions", "30", "--out-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name in ("flat", "buy_and_hold", "random", "oracle"):
        assert name in result.output
    assert (tmp_path / "market.parquet").exists()


def test_bench_env_prints_json_with_its_keys():
    result = runner.invoke(app, ["bench", "env", "--json", "--steps", "2000", "--repeats", "1"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    for key in ("env_steps_per_s", "vec_env_steps_per_s", "anytrading_steps_per_s"):
        assert report[key] > 0
