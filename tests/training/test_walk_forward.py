"""Walk-forward: folds that never leak, and a tiny end-to-end run through the trainer."""

import datetime as dt
import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intraday_rl.data.config import SessionCalendar, SyntheticMarketConfig, WalkForwardConfig
from intraday_rl.data.splits import walk_forward_folds
from intraday_rl.data.synthetic import generate_market
from intraday_rl.shared.errors import ConfigError, DataError
from intraday_rl.walk_forward import fold_split, run_walk_forward, write_walk_forward

SHORT = SessionCalendar(open_time=dt.time(9, 30), close_time=dt.time(9, 40))
SESSIONS = generate_market(SyntheticMarketConfig(n_sessions=90, seed=1, calendar=SHORT)).sessions()


@settings(max_examples=150, deadline=None)
@given(
    n_folds=st.integers(1, 6),
    test_sessions=st.integers(1, 12),
    train_sessions=st.integers(8, 40),
    embargo=st.integers(0, 5),
    mode=st.sampled_from(["anchored", "sliding"]),
    validation_fraction=st.floats(0.05, 0.5),
)
def test_no_fold_tests_on_a_session_it_trained_or_selected_on(
    n_folds, test_sessions, train_sessions, embargo, mode, validation_fraction
):
    config = WalkForwardConfig(
        n_folds=n_folds,
        test_sessions=test_sessions,
        train_sessions=train_sessions,
        embargo_sessions=embargo,
        mode=mode,
    )
    try:
        folds = walk_forward_folds(SESSIONS, config)
    except DataError:
        assert config.min_dates > len(SESSIONS)
        return
    tested: set[dt.date] = set()
    for fold in folds:
        split = fold_split(fold, validation_fraction)
        train = {s.date for s in split.train}
        validation = {s.date for s in split.validation}
        test = {s.date for s in split.test}
        assert train
        assert validation
        assert not (train & validation)
        assert not ((train | validation) & test)
        assert max(train) < min(validation)
        # The embargo: at least `embargo` whole dates between the last selection date and the test.
        all_dates = sorted(s.date for s in SESSIONS)
        gap = all_dates.index(min(test)) - all_dates.index(max(validation)) - 1
        assert gap >= embargo
        assert not (test & tested)  # test windows never overlap
        tested |= test


def test_a_fold_too_short_for_validation_is_refused():
    fold = walk_forward_folds(SESSIONS, WalkForwardConfig(n_folds=1, train_sessions=2))[0]
    with pytest.raises(ConfigError, match="walk-forward fold 0"):
        fold_split(fold.__class__(index=0, train=fold.train[:2], test=fold.test), 0.5)


def test_tiny_walk_forward_end_to_end(tmp_path, make_config):
    config = make_config(
        env={
            "decision_every": 3,
            "reward_control_variate": 1.0,
            "features": {"features": [{"kind": "log_return", "lags": [1, 5]}, {"kind": "regime"}]},
            "data": {
                "builtin": {
                    "n_sessions": 40,
                    "seed": 3,
                    "calendar": {"open_time": "09:30:00", "close_time": "10:30:00"},
                }
            },
        },
        training_params={"total_timesteps": 600, "eval_freq": 300},
    )
    folds = WalkForwardConfig(n_folds=2, test_sessions=5, train_sessions=20, embargo_sessions=1)
    seen = []
    result = run_walk_forward(
        config, folds, seeds=(0, 1), runs_dir=tmp_path / "wf", on_result=seen.append
    )
    assert [(row.fold, row.seed) for row in result.folds] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert seen == result.folds
    assert len(result.test_dates) == 10
    assert len(set(result.test_dates)) == 10
    for seed in (0, 1):
        assert len(result.daily_pnl[seed]) == 10
        assert result.pnl_per_seed[seed] == pytest.approx(sum(result.daily_pnl[seed]))
    assert result.daily_pnl_ci.low <= result.daily_pnl_ci.estimate <= result.daily_pnl_ci.high
    json_path, parquet_path = write_walk_forward(result, tmp_path / "out")
    summary = json.loads(json_path.read_text())
    assert summary["n_test_sessions"] == 10
    assert len(pd.read_parquet(parquet_path)) == 4


def test_run_tasks_gives_the_same_results_in_order_with_processes():
    import math

    from intraday_rl.walk_forward import run_tasks

    tasks = [(2.0, float(k)) for k in range(6)]
    seen = []
    serial = run_tasks(math.pow, tasks, jobs=1)
    parallel = run_tasks(math.pow, tasks, jobs=2, on_result=seen.append)
    assert serial == parallel == [2.0**k for k in range(6)]
    assert seen == parallel
