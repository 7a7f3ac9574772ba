import dataclasses

import numpy as np
import pytest

from intraday_rl.data import SyntheticMarketConfig, generate_market
from intraday_rl.env import EnvConfig, EpisodeBook, IntradayTradingEnv
from intraday_rl.evaluation import EvaluationError, evaluate_policy
from intraday_rl.evaluation.supervised import (
    SupervisedForecaster,
    SupervisedPolicy,
    fit_supervised_baseline,
    forward_returns,
    supervised_rows,
)
from intraday_rl.features import FeatureDef, FeatureSpec

N_TRAIN, N_VALIDATION = 24, 8
SEQUENTIAL = EnvConfig(session_order="sequential")


@pytest.fixture(scope="module")
def sessions():
    return generate_market(SyntheticMarketConfig(n_sessions=40, seed=3)).sessions()


@pytest.fixture(scope="module")
def envs(sessions):
    # Chronological split: train, validation, test.
    train = IntradayTradingEnv(sessions[:N_TRAIN], SEQUENTIAL)
    validation = IntradayTradingEnv(sessions[N_TRAIN : N_TRAIN + N_VALIDATION], SEQUENTIAL)
    test = IntradayTradingEnv(sessions[N_TRAIN + N_VALIDATION :], SEQUENTIAL)
    return train, validation, test


@pytest.fixture(scope="module")
def train_rows(envs):
    return supervised_rows(envs[0].book, horizon=1)


def _time_reversed(session):
    # The same bars played backwards (timestamps kept): open and close swap roles.
    return dataclasses.replace(
        session,
        open=session.close[::-1].copy(),
        close=session.open[::-1].copy(),
        high=session.high[::-1].copy(),
        low=session.low[::-1].copy(),
        volume=session.volume[::-1].copy(),
    )


def _perturbed_after(session, t, seed=0):
    # Every open and close after bar t moved by its own random factor (high / low widened to stay
    # consistent), volume tripled; bars 0..t untouched.
    rng = np.random.default_rng(seed)
    later = slice(t + 1, None)
    n_later = session.n_bars - t - 1
    open_, close = session.open.copy(), session.close.copy()
    open_[later] *= np.exp(rng.normal(0.0, 0.01, n_later))
    close[later] *= np.exp(rng.normal(0.0, 0.01, n_later))
    high = np.maximum(session.high, np.maximum(open_, close))
    low = np.minimum(session.low, np.minimum(open_, close))
    volume = session.volume.copy()
    volume[later] *= 3.0
    return dataclasses.replace(session, open=open_, high=high, low=low, close=close, volume=volume)


# -- labels and rows ----------------------------------------------------------------------------
def test_forward_return_runs_from_the_fill_open_to_the_horizon_close():
    opens = np.array([1.0, 2.0, 4.0, 8.0])
    closes = np.array([2.0, 4.0, 8.0, 16.0])
    one = forward_returns(opens, closes, horizon=1)
    np.testing.assert_allclose(one[:3], np.log([4.0 / 2.0, 8.0 / 4.0, 16.0 / 8.0]))
    two = forward_returns(opens, closes, horizon=2)
    # the last full horizon is cut at the session's last bar
    np.testing.assert_allclose(two[:3], np.log([8.0 / 2.0, 16.0 / 4.0, 16.0 / 8.0]))
    delayed = forward_returns(opens, closes, horizon=1, fill_delay_bars=2)
    np.testing.assert_allclose(delayed[:2], np.log([8.0 / 4.0, 16.0 / 8.0]))
    assert np.isnan([one[3], two[3], *delayed[2:]]).all()


def test_rows_skip_each_sessions_last_bar_and_are_the_books_feature_windows(envs, train_rows):
    book = envs[0].book
    assert train_rows.n_rows == sum(s.n_bars - 1 for s in book.sessions)
    assert train_rows.features.shape[1] == book.layout.window * book.layout.n_features
    for row in (0, 500, train_rows.n_rows - 1):
        session, t = train_rows.session_indices[row], train_rows.bar_indices[row]
        np.testing.assert_array_equal(train_rows.features[row], book.windows[session][t])
        prices = book.sessions[session]
        assert train_rows.targets[row] == pytest.approx(
            np.log(prices.close[t + 1] / prices.open[t + 1])
        )
        assert t < prices.n_bars - 1


# -- end to end -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["ridge", "gbm"])
def test_baseline_fits_chooses_a_grid_threshold_and_trades_through_the_env(envs, kind):
    train, validation, test = envs
    policy, report = fit_supervised_baseline(train, validation, kind)
    assert policy.name == f"supervised_{kind}"
    assert (report["kind"], report["horizon"]) == (kind, 1)
    assert report["n_rows"] == sum(s.n_bars - 1 for s in train.book.sessions)
    assert np.isfinite([report["train_r2"], report["validation_r2"]]).all()
    grid, pnl = report["thresholds"], report["validation_net_pnl"]
    assert len(grid) == len(pnl) >= 2
    assert grid == sorted(grid)
    assert policy.threshold == report["threshold"] in grid
    expected = grid[-1] if max(pnl) < 0.0 else grid[int(np.argmax(pnl))]
    assert report["threshold"] == expected
    assert report["all_lose"] == (max(pnl) < 0.0)
    # the reported P&L is what the chosen policy earns when replayed on validation
    replay, _ = evaluate_policy(validation, policy)
    assert replay.net_pnl == pytest.approx(pnl[grid.index(policy.threshold)])
    summary, results = evaluate_policy(test, policy)
    assert summary.policy == policy.name
    assert len(results) == test.book.n_sessions
    assert np.isfinite(summary.net_pnl)


def test_policy_is_long_above_short_below_and_flat_inside_the_threshold(envs, train_rows):
    forecaster = SupervisedForecaster("ridge").fit(train_rows.features, train_rows.targets)
    _, validation, _ = envs
    box = IntradayTradingEnv(validation.book, EnvConfig(action_type="box", max_exposure=2.0))
    for env in (validation, box):
        observation, _ = env.reset(options={"session_index": 2})
        predictions = forecaster.predict(env.book.windows[2])
        threshold = float(np.median(np.abs(predictions)))
        policy = SupervisedPolicy(forecaster, threshold)
        for _ in range(60):
            action = policy.act(observation, env)
            prediction = predictions[env.bar_index]
            side = 1.0 if prediction > threshold else -1.0 if prediction < -threshold else 0.0
            if env is box:
                np.testing.assert_array_equal(action, np.array([2.0 * side], np.float32))
            else:
                assert env.config.position_levels[action] == side
            observation, *_ = env.step(action)


# -- causality canaries --------------------------------------------------------------------------
def test_features_and_prediction_at_t_ignore_every_later_bar_while_the_label_sees_them(
    envs, train_rows, sessions
):
    forecaster = SupervisedForecaster("gbm").fit(train_rows.features, train_rows.targets)
    spec, window = envs[0].book.spec, envs[0].book.layout.window
    original = sessions[N_TRAIN]
    for t in (0, 37, 200, original.n_bars - 2):
        book = EpisodeBook([original, _perturbed_after(original, t, seed=t)], spec, window)
        rows = supervised_rows(book, horizon=1)
        base = (rows.session_indices == 0) & (rows.bar_indices <= t)
        moved = (rows.session_indices == 1) & (rows.bar_indices <= t)
        np.testing.assert_array_equal(rows.features[base], rows.features[moved])
        np.testing.assert_array_equal(
            forecaster.predict(rows.features[base]), forecaster.predict(rows.features[moved])
        )
        # labels before t end at or before bar t's close; the label at t fills at bar t+1
        np.testing.assert_array_equal(rows.targets[base][:-1], rows.targets[moved][:-1])
        assert rows.targets[base][-1] != rows.targets[moved][-1]


def test_a_label_shifted_into_the_past_is_learned_far_better_than_the_forward_one(train_rows):
    # Label of bar t-1 (same session) = bar t's own return, which the features already hold.
    same = (train_rows.session_indices[1:] == train_rows.session_indices[:-1]) & (
        train_rows.bar_indices[1:] == train_rows.bar_indices[:-1] + 1
    )
    features = train_rows.features[1:][same]
    past = train_rows.targets[:-1][same]
    forward = train_rows.targets[1:][same]
    leaked = SupervisedForecaster("ridge").fit(features, past)
    honest = SupervisedForecaster("ridge").fit(features, forward)
    assert leaked.train_r2 > 0.9
    assert honest.train_r2 < 0.1
    assert leaked.train_r2 > honest.train_r2 + 0.8


def test_validation_chooses_the_threshold_but_never_changes_the_forecaster(sessions):
    config = EnvConfig(session_order="sequential", decision_every=10)
    held_out = sessions[N_TRAIN : N_TRAIN + N_VALIDATION]
    train = IntradayTradingEnv(sessions[:N_TRAIN], config)
    validation = IntradayTradingEnv(held_out, config)
    reversed_copy = IntradayTradingEnv([_time_reversed(s) for s in held_out], config)
    grid = [0.0, 2e-4, 5e-4, 1e-3, 2e-3]
    policy, report = fit_supervised_baseline(train, validation, "ridge", thresholds=grid)
    other, other_report = fit_supervised_baseline(train, reversed_copy, "ridge", thresholds=grid)
    assert report["horizon"] == 10
    assert report["validation_net_pnl"] != other_report["validation_net_pnl"]
    assert policy.threshold != other.threshold
    fitted, refitted = policy.forecaster.model[-1], other.forecaster.model[-1]
    np.testing.assert_array_equal(fitted.coef_, refitted.coef_)
    assert (fitted.intercept_, fitted.alpha_) == (refitted.intercept_, refitted.alpha_)
    assert report["train_r2"] == other_report["train_r2"]


# -- errors ---------------------------------------------------------------------------------------
def test_unknown_kind_is_rejected(envs):
    with pytest.raises(EvaluationError, match="kind: expected one of"):
        fit_supervised_baseline(envs[0], envs[1], "forest")


@pytest.mark.parametrize(
    "config",
    [
        EnvConfig(window=2),
        EnvConfig(features=FeatureSpec(features=(FeatureDef(kind="log_return"),))),
    ],
)
def test_a_validation_env_with_other_features_is_rejected(envs, sessions, config):
    other = IntradayTradingEnv(sessions[N_TRAIN : N_TRAIN + 2], config)
    with pytest.raises(EvaluationError, match="validation_env: expected the train env's features"):
        fit_supervised_baseline(envs[0], other, "ridge")


def test_too_few_training_rows_are_rejected(envs, sessions):
    short = [
        dataclasses.replace(s, **{f: getattr(s, f)[:30] for f in _BAR_FIELDS}) for s in sessions[:2]
    ]
    train = IntradayTradingEnv(short, SEQUENTIAL)
    with pytest.raises(EvaluationError, match="train_env: expected >= 100 labelled rows, was 58"):
        fit_supervised_baseline(train, envs[1], "ridge")


_BAR_FIELDS = ("ts_ns", "open", "high", "low", "close", "volume")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"horizon": 0}, "horizon: expected an integer >= 1, was 0"),
        ({"thresholds": []}, "thresholds: expected finite values >= 0"),
        ({"thresholds": [1e-4, -1e-4]}, "thresholds: expected finite values >= 0"),
    ],
)
def test_bad_horizon_or_thresholds_are_rejected(envs, arguments, message):
    with pytest.raises(EvaluationError, match=message):
        fit_supervised_baseline(envs[0], envs[1], "ridge", **arguments)


def test_an_unfitted_or_mismatched_forecaster_is_rejected(train_rows):
    with pytest.raises(EvaluationError, match="forecaster: expected a fitted model"):
        SupervisedPolicy(SupervisedForecaster("ridge"), 0.0)
    forecaster = SupervisedForecaster("ridge").fit(train_rows.features, train_rows.targets)
    with pytest.raises(EvaluationError, match=r"features: expected shape \(n, 48\), was \(3, 12\)"):
        forecaster.predict(np.zeros((3, 12), np.float32))
    with pytest.raises(EvaluationError, match="threshold: expected a finite value >= 0"):
        SupervisedPolicy(forecaster, -1.0)
