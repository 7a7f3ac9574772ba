"""A smoke run of the risk benchmark (the real run is ``intraday-rl bench risk``)."""

from intraday_rl.bench.risk_bench import run_risk_benchmark


def test_risk_benchmark_reports_its_keys_on_a_tiny_budget():
    result = run_risk_benchmark(calls=3_000, warmup_calls=500)
    for key in (
        "p50_us",
        "p99_us",
        "p999_us",
        "mean_us",
        "max_us",
        "calls",
        "controls",
        "timer_overhead_ns",
    ):
        assert key in result
    assert result["calls"] == 3_000
    assert result["controls"] >= 30
    assert 0.0 < result["p50_us"] <= result["p99_us"] <= result["p999_us"] <= result["max_us"]
    assert result["approved"] > 0.9 * result["calls"]
    assert result["denied"] > 0
    assert result["trading_state"] == "ACTIVE"
