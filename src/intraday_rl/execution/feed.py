"""Feeds: the bars the engine trades on, with session boundaries, as events.

:class:`ReplayFeed` replays recorded sessions (``intraday_rl.data`` sessions: the built-in market or
a data file through ``load_market_data``, any split) as fast as the engine takes them. Per trading
day it yields one :class:`SessionStart` per symbol, the day's bars of every symbol in time order
(:class:`FeedBar`), then one :class:`SessionEnd` per symbol. A bar is passed on as it is: a NaN
bar, a gap or stale data are for the risk engine to judge, never for the feed to hide.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Protocol

from intraday_rl.features.inputs import SessionBars
from intraday_rl.shared.errors import ExecutionError


class SessionLike(SessionBars, Protocol):
    """One symbol's bars for one day: what features read, plus the bar count."""

    @property
    def n_bars(self) -> int: ...


@dataclass(frozen=True, slots=True)
class SessionStart:
    """A symbol's session begins: calendar open and close, bar length (UTC ns), bars to come."""

    session_id: str
    symbol: str
    open_ns: int
    close_ns: int
    bar_ns: int
    n_bars: int


@dataclass(frozen=True, slots=True)
class SessionEnd:
    """A symbol's session is over: nothing of it trades any more."""

    session_id: str
    symbol: str


@dataclass(frozen=True, slots=True)
class FeedBar:
    """One bar of one symbol: ``index`` counts the session's bars (0-based), ``ts_ns`` is its
    open time and ``close_ns`` its close time (UTC ns); ``n_bars`` is the session's bar count, so
    the time left is counted over the bars present, as in the env."""

    session_id: str
    symbol: str
    index: int
    n_bars: int
    ts_ns: int
    close_ns: int
    open: float
    high: float
    low: float
    close: float
    volume: float

    @property
    def is_last(self) -> bool:
        """True on the session's last bar (the position is closed at its close)."""
        return self.index == self.n_bars - 1

    @property
    def is_finite(self) -> bool:
        """True when every price and the volume are finite numbers."""
        return all(
            math.isfinite(value) for value in (self.open, self.high, self.low, self.close)
        ) and math.isfinite(self.volume)


FeedEvent = SessionStart | FeedBar | SessionEnd


class ReplayFeed:
    """Replays sessions day by day, all symbols of a day merged in time order, at full speed.

    Args:
        sessions: The sessions to replay (any order; replayed by date, then time).

    Raises:
        ExecutionError: no sessions, or a symbol with two sessions on one date.
    """

    def __init__(self, sessions: Sequence[SessionLike]) -> None:
        if not sessions:
            raise ExecutionError("ReplayFeed: sessions: expected at least one session, was none")
        keys = [(session.symbol, session.date) for session in sessions]
        if len(set(keys)) != len(keys):
            duplicate = next(key for key in keys if keys.count(key) > 1)
            raise ExecutionError(
                f"ReplayFeed: sessions: symbol {duplicate[0]} has two sessions on {duplicate[1]}"
            )
        self.sessions = tuple(sorted(sessions, key=lambda s: (s.date, s.symbol)))

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols replayed, sorted."""
        return tuple(sorted({session.symbol for session in self.sessions}))

    @property
    def n_bars(self) -> int:
        """Bars in all sessions."""
        return sum(session.n_bars for session in self.sessions)

    def __iter__(self) -> Iterator[FeedEvent]:
        for date, group in groupby(self.sessions, key=lambda s: s.date):
            day = list(group)
            session_id = date.isoformat()
            for session in day:
                yield SessionStart(
                    session_id,
                    session.symbol,
                    int(session.open_ns),
                    int(session.close_ns),
                    int(session.bar_ns),
                    session.n_bars,
                )
            yield from _merged_bars(session_id, day)
            for session in day:
                yield SessionEnd(session_id, session.symbol)


def _merged_bars(session_id: str, day: Sequence[SessionLike]) -> Iterator[FeedBar]:
    # Every bar of the day's sessions, in (open time, symbol) order.
    order = sorted(
        (int(ts), session.symbol, index, session)
        for session in day
        for index, ts in enumerate(session.ts_ns.tolist())
    )
    for ts, symbol, index, session in order:
        yield FeedBar(
            session_id,
            symbol,
            index,
            session.n_bars,
            ts,
            ts + int(session.bar_ns),
            float(session.open[index]),
            float(session.high[index]),
            float(session.low[index]),
            float(session.close[index]),
            float(session.volume[index]),
        )
