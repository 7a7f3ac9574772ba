"""Trading sessions, the unit of an episode, and cutting a bar frame into them.

A session is one symbol's bars on one local trading date, between the calendar's open and close.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from intraday_rl.data.config import SessionCalendar
from intraday_rl.shared.arrays import BoolArray, FloatArray, IntArray
from intraday_rl.shared.constants import (
    CLOSE,
    DEFAULT_SYMBOL,
    HIGH,
    LOW,
    NS_PER_MINUTE,
    OPEN,
    SYMBOL,
    TIMESTAMP,
    VOLUME,
)
from intraday_rl.shared.errors import DataError

NS_PER_DAY: Final = 86_400 * 1_000_000_000
_PRICE_VOLUME = (OPEN, HIGH, LOW, CLOSE, VOLUME)


@dataclass(frozen=True, slots=True, eq=False)
class Session:
    """One symbol's bars for one trading day, as contiguous float64 / int64 arrays.

    ``ts_ns`` are bar open times (UTC nanoseconds, strictly increasing); a bar covers
    ``[ts_ns, ts_ns + bar_ns)``. ``open_ns`` / ``close_ns`` are the calendar's session open and
    close (UTC nanoseconds), so time-of-day and time-to-close features need nothing else.
    """

    symbol: str
    date: dt.date
    ts_ns: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    open_ns: int
    close_ns: int
    bar_ns: int

    @property
    def n_bars(self) -> int:
        return int(self.ts_ns.shape[0])

    @property
    def key(self) -> tuple[str, dt.date]:
        """(symbol, date): identifies a session across a dataset."""
        return (self.symbol, self.date)


def session_bounds_ns(
    dates: Sequence[dt.date] | npt.NDArray[np.datetime64], calendar: SessionCalendar
) -> tuple[IntArray, IntArray]:
    """Return the calendar's open and close on each local date, as UTC nanoseconds.

    DST-aware: 09:30 New York is 14:30 UTC in January and 13:30 UTC in July. A local time that
    falls in a DST gap is shifted forward; an ambiguous one is read as daylight time.

    Args:
        dates: Local trading dates.
        calendar: Session hours and time zone.

    Returns:
        ``(open_ns, close_ns)``, int64 arrays aligned with ``dates``.
    """
    days = np.asarray(dates, dtype="datetime64[D]")
    midnight_ns = days.astype("datetime64[ns]").astype(np.int64)
    # An overnight session opens on the local day before its date.
    open_midnight_ns = midnight_ns - (NS_PER_DAY if calendar.overnight else 0)
    return (
        _local_to_utc_ns(open_midnight_ns + calendar.open_offset_ns, calendar.timezone),
        _local_to_utc_ns(midnight_ns + calendar.close_offset_ns, calendar.timezone),
    )


def _local_to_utc_ns(local_ns: IntArray, zone: str) -> IntArray:
    index = pd.DatetimeIndex(local_ns.view("datetime64[ns]"))
    daylight = np.ones(local_ns.shape[0], dtype=np.bool_)
    utc = index.tz_localize(zone, ambiguous=daylight, nonexistent="shift_forward")
    return np.asarray(utc.asi8, dtype=np.int64)


def split_sessions(
    bars: pd.DataFrame, calendar: SessionCalendar, *, min_bars: int = 2
) -> list[Session]:
    """Cut a canonical OHLCV frame into one :class:`Session` per (symbol, local trading date).

    Bars whose local open time is outside the session (``[open_time, close_time)``, across
    midnight for overnight calendars) are dropped, as are sessions with fewer than ``min_bars``
    bars; :func:`~intraday_rl.data.diagnostics.diagnose_sessions` reports how many. Grouping is
    one vectorized pass (a lexsort and the group boundaries), so the cost is dominated by
    sorting, not by Python.

    Args:
        bars: Frame with tz-aware ``timestamp`` (bar open), ``open``, ``high``, ``low``,
            ``close``, ``volume`` and optionally ``symbol`` (as :func:`load_ohlcv` returns).
        calendar: Session hours and time zone.
        min_bars: Smallest number of bars a session must have to be kept.

    Returns:
        Sessions ordered by date, then symbol. ``bar_ns`` is the most common positive step
        between consecutive bars of that symbol; ``open_ns``/``close_ns`` come from the calendar.

    Raises:
        DataError: Missing columns, naive timestamps, or a repeated timestamp within a session.
    """
    ts_ns, codes, names = _keys(bars)
    # Measured from the local open, a bar is inside when it opens less than the session's length
    # later; the session's date is the day it closes (the next day for overnight sessions).
    since_open = _local_wall_clock_ns(ts_ns, calendar.timezone) - calendar.open_offset_ns
    day = since_open // NS_PER_DAY + (1 if calendar.overnight else 0)
    inside = np.flatnonzero(since_open % NS_PER_DAY < calendar.length_ns)
    if inside.size == 0:
        return []
    # One sort puts every session's bars next to each other: by date, then symbol, then time.
    rows = inside[np.lexsort((ts_ns[inside], codes[inside], day[inside]))]
    day, codes, ts_ns = day[rows], codes[rows], ts_ns[rows]
    new_group = np.ones(rows.shape[0], dtype=np.bool_)
    new_group[1:] = (day[1:] != day[:-1]) | (codes[1:] != codes[:-1])
    _check_no_repeats(ts_ns, codes, new_group, names)
    starts = np.flatnonzero(new_group)
    ends = np.append(starts[1:], rows.shape[0])
    bar_ns = _bar_steps(ts_ns, codes, new_group, len(names))
    unique_days, day_index = np.unique(day[starts], return_inverse=True)
    open_ns, close_ns = session_bounds_ns(unique_days.astype("datetime64[D]"), calendar)
    dates: list[dt.date] = unique_days.astype("datetime64[D]").astype(object).tolist()
    columns = {name: bars[name].to_numpy(dtype=np.float64)[rows] for name in _PRICE_VOLUME}
    sessions = []
    for group, (start, end) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        if end - start < min_bars:
            continue
        k, code = int(day_index[group]), int(codes[start])

        def cut(name: str, start: int = start, end: int = end) -> FloatArray:
            return columns[name][start:end].copy()

        sessions.append(
            Session(
                symbol=names[code],
                date=dates[k],
                ts_ns=ts_ns[start:end].copy(),
                open=cut(OPEN),
                high=cut(HIGH),
                low=cut(LOW),
                close=cut(CLOSE),
                volume=cut(VOLUME),
                open_ns=int(open_ns[k]),
                close_ns=int(close_ns[k]),
                bar_ns=int(bar_ns[code]),
            )
        )
    return sessions


def _check_no_repeats(
    ts_ns: IntArray, codes: IntArray, new_group: BoolArray, names: list[str]
) -> None:
    repeated = np.flatnonzero(~new_group[1:] & (ts_ns[1:] == ts_ns[:-1]))
    if repeated.size:
        first = int(repeated[0])
        stamp = pd.Timestamp(int(ts_ns[first]), tz="UTC")
        raise DataError(
            f"split_sessions: symbol {names[int(codes[first])]!r} has timestamp {stamp} "
            f"more than once ({repeated.size:,} repeats); load bars with load_ohlcv"
        )


def _keys(bars: pd.DataFrame) -> tuple[IntArray, IntArray, list[str]]:
    # UTC nanoseconds, symbol codes (sorted by name) and the names.
    missing = [name for name in (TIMESTAMP, *_PRICE_VOLUME) if name not in bars.columns]
    if missing:
        raise DataError(f"split_sessions: missing columns {missing} (found: {list(bars.columns)})")
    stamps = bars[TIMESTAMP]
    if not isinstance(stamps.dtype, pd.DatetimeTZDtype):
        raise DataError(
            f"split_sessions: column {TIMESTAMP!r} must be timezone-aware, was {stamps.dtype}"
        )
    ts_ns = np.asarray(pd.DatetimeIndex(stamps).tz_convert("UTC").as_unit("ns").asi8)
    if SYMBOL not in bars.columns:
        return ts_ns, np.zeros(ts_ns.shape[0], dtype=np.int64), [DEFAULT_SYMBOL]
    codes, names = pd.factorize(bars[SYMBOL], sort=True)
    return ts_ns, np.asarray(codes, dtype=np.int64), [str(name) for name in names]


def _local_wall_clock_ns(ts_ns: IntArray, zone: str) -> IntArray:
    local = pd.DatetimeIndex(ts_ns.view("datetime64[ns]")).tz_localize("UTC").tz_convert(zone)
    return np.asarray(local.tz_localize(None).asi8, dtype=np.int64)


def _bar_steps(ts_ns: IntArray, codes: IntArray, new_group: BoolArray, n_symbols: int) -> IntArray:
    # Most common positive step within sessions, per symbol; the smallest wins a tie.
    steps = np.diff(ts_ns)
    keep = ~new_group[1:] & (steps > 0)
    steps, owners = steps[keep], codes[1:][keep]
    result = np.full(n_symbols, NS_PER_MINUTE, dtype=np.int64)
    for code in np.unique(owners).tolist():
        values, counts = np.unique(steps[owners == code], return_counts=True)
        result[code] = values[np.argmax(counts)]
    return result
