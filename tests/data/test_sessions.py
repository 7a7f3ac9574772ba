"""split_sessions and session_bounds_ns: local dates, DST, ordering, bar size."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from intraday_rl.data import SessionCalendar, session_bounds_ns, split_sessions
from intraday_rl.shared.constants import NS_PER_MINUTE
from intraday_rl.shared.errors import DataError

BarsFactory = Callable[..., pd.DataFrame]


def _ns(text: str) -> int:
    return int(pd.Timestamp(text).value)


def _full_day(make_bars: BarsFactory, open_utc: str, symbols: tuple[str, ...] = ("SYN",)):
    # 30 pre-market bars, the 390 session bars, 30 after-hours bars.
    start = pd.Timestamp(open_utc) - pd.Timedelta(minutes=30)
    return make_bars(n_bars=450, symbols=symbols, start=str(start))


def test_january_and_july_sessions_have_390_bars_and_dst_aware_bounds(
    make_bars: BarsFactory,
) -> None:
    bars = pd.concat(
        [_full_day(make_bars, "2024-01-02T14:30Z"), _full_day(make_bars, "2024-07-01T13:30Z")],
        ignore_index=True,
    )
    january, july = split_sessions(bars, SessionCalendar())
    assert (january.date, july.date) == (dt.date(2024, 1, 2), dt.date(2024, 7, 1))
    assert january.n_bars == july.n_bars == 390
    assert (january.open_ns, january.close_ns) == (
        _ns("2024-01-02T14:30Z"),
        _ns("2024-01-02T21:00Z"),
    )
    assert (july.open_ns, july.close_ns) == (_ns("2024-07-01T13:30Z"), _ns("2024-07-01T20:00Z"))
    assert january.ts_ns[0] == january.open_ns
    assert july.ts_ns[-1] == july.close_ns - NS_PER_MINUTE
    assert january.bar_ns == NS_PER_MINUTE


def test_sessions_are_ordered_by_date_then_symbol(make_bars: BarsFactory) -> None:
    bars = pd.concat(
        [
            _full_day(make_bars, "2024-01-03T14:30Z", ("BBB", "AAA")),
            _full_day(make_bars, "2024-01-02T14:30Z", ("BBB", "AAA")),
        ],
        ignore_index=True,
    )
    keys = [session.key for session in split_sessions(bars, SessionCalendar())]
    day_1, day_2 = dt.date(2024, 1, 2), dt.date(2024, 1, 3)
    assert keys == [("AAA", day_1), ("BBB", day_1), ("AAA", day_2), ("BBB", day_2)]


def test_session_arrays_are_contiguous_typed_copies(make_bars: BarsFactory) -> None:
    (session,) = split_sessions(_full_day(make_bars, "2024-01-02T14:30Z"), SessionCalendar())
    for array in (session.open, session.high, session.low, session.close, session.volume):
        assert array.dtype == np.float64
        assert array.flags.c_contiguous
        assert array.flags.owndata
    assert session.ts_ns.dtype == np.int64
    assert np.all(np.diff(session.ts_ns) > 0)
    assert session.open[0] == pytest.approx(100.0 + 0.01 * 30)


def test_date_is_the_local_trading_date(make_bars: BarsFactory) -> None:
    tokyo = SessionCalendar(
        timezone="Asia/Tokyo", open_time=dt.time(9, 0), close_time=dt.time(15, 0)
    )
    bars = make_bars(n_bars=360, start="2024-01-04T00:00Z")
    (session,) = split_sessions(bars, tokyo)
    assert session.date == dt.date(2024, 1, 4)
    assert session.n_bars == 360


def test_short_sessions_are_dropped(make_bars: BarsFactory) -> None:
    bars = make_bars(n_bars=3, start="2024-01-02T20:57Z")
    assert len(split_sessions(bars, SessionCalendar(), min_bars=3)) == 1
    assert split_sessions(bars, SessionCalendar(), min_bars=4) == []


def test_bar_size_is_the_most_common_step(make_bars: BarsFactory) -> None:
    bars = make_bars(n_bars=20, start="2024-01-02T14:30Z", step="5min").drop(index=[3, 4, 9])
    (session,) = split_sessions(bars, SessionCalendar())
    assert session.bar_ns == 5 * NS_PER_MINUTE


def test_naive_timestamps_are_rejected(make_bars: BarsFactory) -> None:
    bars = make_bars()
    bars["timestamp"] = bars["timestamp"].dt.tz_localize(None)
    with pytest.raises(DataError, match=r"split_sessions: column 'timestamp' must be timezone"):
        split_sessions(bars, SessionCalendar())


def test_repeated_timestamp_is_rejected(make_bars: BarsFactory) -> None:
    bars = make_bars(n_bars=4)
    bars = pd.concat([bars, bars.iloc[[2]]], ignore_index=True)
    with pytest.raises(DataError, match=r"symbol 'SYN' has timestamp 2024-01-02 14:32:00\+00:00"):
        split_sessions(bars, SessionCalendar())


def test_session_bounds_follow_daylight_saving() -> None:
    dates = [dt.date(2024, 3, 8), dt.date(2024, 3, 11), dt.date(2024, 11, 4)]
    open_ns, close_ns = session_bounds_ns(dates, SessionCalendar())
    hours = ((open_ns % (86_400 * 10**9)) // (3_600 * 10**9)).tolist()
    assert hours == [14, 13, 14]
    assert np.all(close_ns - open_ns == 390 * NS_PER_MINUTE)


def test_bars_all_outside_the_calendar_give_no_sessions_not_a_crash(
    make_bars: BarsFactory,
) -> None:
    daily = make_bars(n_bars=30, start="2024-01-02T05:00:00Z", step="1D")  # midnight New York
    assert split_sessions(daily, SessionCalendar()) == []


def test_fx_sessions_roll_at_17_new_york_and_take_the_close_date(make_bars: BarsFactory) -> None:
    # Hourly bars from Monday 2024-03-04 00:00 UTC for ten days, across the US DST change (03-10).
    bars = make_bars(n_bars=240, start="2024-03-04T00:00:00Z", step="1h")
    sessions = split_sessions(bars, SessionCalendar.preset("fx_24h"))
    first = sessions[0]
    assert first.date == dt.date(2024, 3, 4)  # opened 2024-03-03 17:00 New York (22:00 UTC)
    assert first.open_ns == _ns("2024-03-03T22:00Z")
    assert first.close_ns == _ns("2024-03-04T22:00Z")
    assert first.n_bars == 22  # 00:00 .. 21:00 UTC
    full = [s for s in sessions[1:-1] if s.date != dt.date(2024, 3, 10)]
    assert {s.n_bars for s in full} == {24}
    dst = next(s for s in sessions if s.date == dt.date(2024, 3, 10))  # clocks went forward
    assert dst.open_ns == _ns("2024-03-09T22:00Z")  # 17:00 EST
    assert dst.close_ns == _ns("2024-03-10T21:00Z")  # 17:00 EDT: a 23-hour session
    assert dst.n_bars == 23
    assert [s.date for s in sessions] == sorted(s.date for s in sessions)
    for session in sessions:
        assert session.open_ns <= session.ts_ns[0]
        assert session.ts_ns[-1] < session.close_ns
