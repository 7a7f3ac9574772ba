import numpy as np
import pytest

from intraday_rl.evaluation import (
    EvaluationError,
    block_length,
    bootstrap_mean_ci,
    bootstrap_sharpe_ci,
    compare_to_baselines,
    paired_bootstrap_test,
    sharpe_ratio,
    spa_test,
)

N_RESAMPLES = 500


@pytest.fixture(scope="module")
def pnl():
    # AR(1) daily P&L around a true mean of 50 per session.
    rng = np.random.default_rng(3)
    noise = rng.normal(0.0, 400.0, 300)
    values = np.empty_like(noise)
    values[0] = noise[0]
    for t in range(1, noise.size):
        values[t] = 0.3 * values[t - 1] + noise[t]
    return 50.0 + values


def test_the_same_seed_reproduces_the_interval_and_another_seed_moves_it(pnl):
    first = bootstrap_mean_ci(pnl, n_resamples=N_RESAMPLES, seed=1)
    again = bootstrap_mean_ci(pnl, n_resamples=N_RESAMPLES, seed=1)
    other = bootstrap_mean_ci(pnl, n_resamples=N_RESAMPLES, seed=2)
    assert first == again
    assert (first.low, first.high) != (other.low, other.high)


def test_the_mean_interval_covers_the_sample_and_the_true_mean(pnl):
    interval = bootstrap_mean_ci(pnl, n_resamples=N_RESAMPLES, level=0.95)
    assert interval.estimate == pytest.approx(pnl.mean())
    assert interval.low < interval.estimate < interval.high
    assert interval.low < 50.0 < interval.high
    assert interval.level == 0.95
    assert interval.n_resamples == N_RESAMPLES
    assert interval.block_length == block_length(pnl)
    narrower = bootstrap_mean_ci(pnl, n_resamples=N_RESAMPLES, level=0.5)
    assert interval.low < narrower.low < narrower.high < interval.high


def test_the_sharpe_interval_surrounds_the_annualized_sharpe(pnl):
    interval = bootstrap_sharpe_ci(pnl, n_resamples=N_RESAMPLES, seed=5)
    assert interval.estimate == pytest.approx(sharpe_ratio(pnl))
    assert interval.low < interval.estimate < interval.high
    assert interval == bootstrap_sharpe_ci(pnl, n_resamples=N_RESAMPLES, seed=5)


def test_a_constant_series_gets_the_default_block_length():
    assert block_length(np.zeros(64)) == 4  # round(64 ** (1/3))
    interval = bootstrap_mean_ci(np.zeros(64), n_resamples=50)
    assert interval.low == interval.high == interval.estimate == 0.0


def test_a_clearly_better_series_beats_its_baseline(pnl):
    rng = np.random.default_rng(9)
    baseline = pnl - 80.0 + rng.normal(0.0, 50.0, pnl.size)
    test = paired_bootstrap_test(pnl, baseline, baseline="flat", n_resamples=N_RESAMPLES)
    assert test.p_value < 0.05
    assert test.baseline == "flat"
    assert test.mean_difference.low > 0.0
    assert test.mean_difference.low < 80.0 < test.mean_difference.high


def test_an_identical_series_does_not_beat_itself(pnl):
    test = paired_bootstrap_test(pnl, pnl.copy(), n_resamples=N_RESAMPLES)
    assert test.p_value == 1.0
    assert test.mean_difference.estimate == 0.0


def test_compare_to_baselines_finds_the_best_and_requires_beating_all(pnl):
    rng = np.random.default_rng(11)
    baselines = {
        "weak": pnl - 300.0 + rng.normal(0.0, 50.0, pnl.size),
        "close": pnl - 60.0 + rng.normal(0.0, 50.0, pnl.size),
    }
    comparison = compare_to_baselines(pnl, baselines, n_resamples=N_RESAMPLES)
    assert comparison.best_baseline == "close"
    assert comparison.versus_best.baseline == "close"
    assert [test.baseline for test in comparison.versus_each] == ["weak", "close"]
    assert comparison.p_value_beats_all == max(t.p_value for t in comparison.versus_each)
    assert comparison.beats_baselines(0.05)
    assert comparison.spa.p_value > 0.05  # no baseline beats the agent significantly
    with_itself = compare_to_baselines(pnl, {**baselines, "same": pnl}, n_resamples=N_RESAMPLES)
    assert not with_itself.beats_baselines(0.05)


def test_spa_finds_an_alternative_that_beats_the_benchmark(pnl):
    rng = np.random.default_rng(13)
    alternatives = {
        "worse": pnl - 100.0 + rng.normal(0.0, 50.0, pnl.size),
        "better": pnl + 100.0 + rng.normal(0.0, 50.0, pnl.size),
    }
    result = spa_test(pnl, alternatives, benchmark="agent", n_resamples=N_RESAMPLES, seed=3)
    assert result.p_value < 0.05
    assert result.p_value_lower <= result.p_value <= result.p_value_upper
    assert result.alternatives == ("worse", "better")
    assert result == spa_test(pnl, alternatives, benchmark="agent", n_resamples=N_RESAMPLES, seed=3)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: bootstrap_mean_ci([1.0]), "daily_pnl: expected at least 2 sessions"),
        (
            lambda: bootstrap_mean_ci([1.0, 2.0], level=1.0),
            r"level: expected a coverage in \(0, 1\)",
        ),
        (lambda: bootstrap_mean_ci([1.0, 2.0], n_resamples=0), "n_resamples: expected >= 1"),
        (
            lambda: bootstrap_mean_ci([1.0, 2.0], block_length_sessions=3),
            r"block_length_sessions: expected 1..2 \(the sessions\), was 3",
        ),
        (lambda: paired_bootstrap_test([1.0, 2.0], [1.0, 2.0, 3.0]), "baseline_pnl: expected 2"),
        (lambda: compare_to_baselines([1.0, 2.0], {}), "baselines: expected at least one"),
        (lambda: spa_test([1.0, 2.0], {"x": [1.0]}), r"alternatives\['x'\]: expected 2 sessions"),
    ],
)
def test_bad_input_is_rejected_naming_the_argument(call, match):
    with pytest.raises(EvaluationError, match=match):
        call()


def test_short_series_get_a_block_length_without_arch_failing():
    from intraday_rl.evaluation import block_length, bootstrap_mean_ci

    series = [120.0, -40.0, 15.0, 80.0, -10.0, 33.0]
    assert block_length(series) == round(len(series) ** (1 / 3))
    interval = bootstrap_mean_ci(series, seed=1)
    assert interval.low <= interval.estimate <= interval.high
