"""ReplayFeed: session boundaries around every session's bars, bars passed on as they are."""

import dataclasses

import numpy as np
import pytest

from intraday_rl.execution.feed import FeedBar, ReplayFeed, SessionEnd, SessionStart
from intraday_rl.shared.errors import ExecutionError


def test_replay_yields_each_session_between_its_start_and_end(sessions):
    events = list(ReplayFeed(sessions[:2]))
    assert isinstance(events[0], SessionStart)
    assert events[0].n_bars == sessions[0].n_bars
    bars = [event for event in events if isinstance(event, FeedBar)]
    assert len(bars) == sessions[0].n_bars + sessions[1].n_bars
    first = bars[: sessions[0].n_bars]
    assert [bar.index for bar in first] == list(range(sessions[0].n_bars))
    assert first[-1].is_last
    assert first[3].close == sessions[0].close[3]
    assert first[3].close_ns == sessions[0].ts_ns[3] + sessions[0].bar_ns
    assert isinstance(events[sessions[0].n_bars + 1], SessionEnd)


def test_two_symbols_of_a_day_are_merged_in_time_order(sessions):
    other = dataclasses.replace(sessions[0], symbol="ABC")
    feed = ReplayFeed([sessions[0], other])
    assert feed.symbols == ("ABC", sessions[0].symbol)
    bars = [event for event in feed if isinstance(event, FeedBar)]
    assert [bar.ts_ns for bar in bars] == sorted(bar.ts_ns for bar in bars)


def test_a_nan_bar_is_passed_on_as_it_is(sessions):
    close = sessions[0].close.copy()
    close[5] = np.nan
    broken = dataclasses.replace(sessions[0], close=close)
    bars = [event for event in ReplayFeed([broken]) if isinstance(event, FeedBar)]
    assert not bars[5].is_finite
    assert bars[6].is_finite


def test_bad_input_is_refused_with_the_field():
    with pytest.raises(ExecutionError, match="sessions"):
        ReplayFeed([])
