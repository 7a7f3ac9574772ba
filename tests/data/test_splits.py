"""Chronological splits and walk-forward folds: by whole dates, in order, never overlapping."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from intraday_rl.data import (
    Session,
    SplitConfig,
    WalkForwardConfig,
    session_dates,
    split_chronological,
    walk_forward_folds,
)
from intraday_rl.shared.constants import NS_PER_MINUTE
from intraday_rl.shared.errors import DataError

_START = dt.date(2024, 1, 1)


def _session(symbol: str, date: dt.date) -> Session:
    ts_ns = np.array([0, NS_PER_MINUTE], dtype=np.int64)
    prices = np.ones(2)
    return Session(symbol, date, ts_ns, prices, prices, prices, prices, prices, 0, 2, NS_PER_MINUTE)


def _sessions(n_dates: int, symbols: tuple[str, ...] = ("AAA", "BBB")) -> list[Session]:
    # Shuffled on purpose: the functions must order by date themselves.
    dates = [_START + dt.timedelta(days=k) for k in range(n_dates)]
    sessions = [_session(symbol, date) for date in dates for symbol in symbols]
    return sessions[1::2] + sessions[::2]


def _day(date: dt.date) -> int:
    return (date - _START).days


@given(
    n_dates=st.integers(min_value=3, max_value=60),
    train=st.floats(min_value=0.05, max_value=0.8),
    validation=st.floats(min_value=0.05, max_value=0.15),
)
def test_split_is_chronological_disjoint_and_by_date(
    n_dates: int, train: float, validation: float
) -> None:
    config = SplitConfig(train_fraction=train, validation_fraction=validation)
    n_train, n_validation = max(1, int(n_dates * train)), max(1, int(n_dates * validation))
    if n_dates - n_train - n_validation < 1:
        with pytest.raises(DataError, match=rf"{n_dates} dates give .* at least one date"):
            split_chronological(_sessions(n_dates), config)
        return
    split = split_chronological(_sessions(n_dates), config)
    parts = [session_dates(part) for part in (split.train, split.validation, split.test)]
    assert all(parts)
    assert parts[0][-1] < parts[1][0]
    assert parts[1][-1] < parts[2][0]
    assert sum(len(dates) for dates in parts) == n_dates
    for part in (split.train, split.validation, split.test):
        assert len(part) == 2 * len(session_dates(part))  # both symbols of every date
        assert [(s.date, s.symbol) for s in part] == sorted((s.date, s.symbol) for s in part)


def test_default_split_of_100_dates_is_70_15_15() -> None:
    split = split_chronological(_sessions(100, ("SYN",)), SplitConfig())
    assert (len(split.train), len(split.validation), len(split.test)) == (70, 15, 15)


def test_split_of_too_few_dates_says_how_many_are_needed() -> None:
    with pytest.raises(DataError, match=r"2 dates give .*at least 4 dates are needed"):
        split_chronological(_sessions(2), SplitConfig())


@given(
    n_dates=st.integers(min_value=10, max_value=80),
    n_folds=st.integers(min_value=1, max_value=5),
    train=st.integers(min_value=1, max_value=20),
    test=st.integers(min_value=1, max_value=8),
    embargo=st.integers(min_value=0, max_value=3),
    mode=st.sampled_from(["anchored", "sliding"]),
)
def test_walk_forward_folds_respect_embargo_and_move_forward(
    n_dates: int, n_folds: int, train: int, test: int, embargo: int, mode: str
) -> None:
    config = WalkForwardConfig.model_validate(
        {
            "n_folds": n_folds,
            "train_sessions": train,
            "test_sessions": test,
            "embargo_sessions": embargo,
            "mode": mode,
        }
    )
    if n_dates < config.min_dates:
        with pytest.raises(DataError, match=rf"need {config.min_dates} dates .* have {n_dates}"):
            walk_forward_folds(_sessions(n_dates), config)
        return
    folds = walk_forward_folds(_sessions(n_dates), config)
    assert [fold.index for fold in folds] == list(range(n_folds))
    assert _day(folds[-1].test_dates[-1]) == n_dates - 1  # the latest data is tested
    for fold in folds:
        train_days = [_day(d) for d in fold.train_dates]
        test_days = [_day(d) for d in fold.test_dates]
        assert len(test_days) == test
        assert train_days == list(range(train_days[0], train_days[-1] + 1))
        assert test_days[0] - train_days[-1] - 1 == embargo
        if mode == "sliding":
            assert len(train_days) == train
        else:
            assert train_days[0] == 0
            assert len(train_days) >= train
    for earlier, later in itertools.pairwise(folds):
        assert earlier.test_dates[-1] < later.test_dates[0]


def test_anchored_train_grows_and_sliding_train_keeps_its_length() -> None:
    sessions = _sessions(30, ("SYN",))
    base = {"n_folds": 3, "train_sessions": 10, "test_sessions": 5, "embargo_sessions": 1}
    anchored = walk_forward_folds(sessions, WalkForwardConfig(**base, mode="anchored"))
    sliding = walk_forward_folds(sessions, WalkForwardConfig(**base, mode="sliding"))
    assert [len(fold.train) for fold in anchored] == [14, 19, 24]
    assert [len(fold.train) for fold in sliding] == [10, 10, 10]
    assert [_day(fold.test_dates[0]) for fold in sliding] == [15, 20, 25]
    assert [_day(fold.train_dates[0]) for fold in sliding] == [4, 9, 14]


def test_walk_forward_with_too_few_dates_names_both_counts() -> None:
    config = WalkForwardConfig(n_folds=4, train_sessions=100, test_sessions=20, embargo_sessions=1)
    with pytest.raises(DataError, match=r"need 181 dates \(train 100 \+ embargo 1 \+ 4 folds"):
        walk_forward_folds(_sessions(150), config)
