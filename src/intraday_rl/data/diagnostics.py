"""What a calendar makes of a file: bars kept and dropped, sessions, bar size, per-symbol ranges.

``intraday-rl data validate`` prints this report and training raises its :meth:`problem`, so a
file is judged by the same rules everywhere: the system trades **within sessions**, so bars a day
or more apart, or a calendar that keeps no bar, are errors that say why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from intraday_rl.data.config import SessionCalendar
from intraday_rl.data.sessions import Session, split_sessions
from intraday_rl.shared.constants import CLOSE, NS_PER_MINUTE, SYMBOL, TIMESTAMP
from intraday_rl.shared.errors import DataError

MIN_SESSION_BARS: Final = 2
"""A session needs one decision and one fill (split_sessions' default)."""
COARSE_BAR_NS: Final = 6 * 60 * NS_PER_MINUTE
"""Bars this far apart (the median step, per symbol) or more are too coarse to trade within a
session: daily files are refused with a message rather than cut into one-bar sessions."""


@dataclass(frozen=True, slots=True)
class SymbolRange:
    """One symbol's bars as read: first and last time, lowest and highest close, bar step."""

    symbol: str
    n_bars: int
    first: str
    last: str
    min_close: float
    max_close: float
    median_step_minutes: float


@dataclass(frozen=True, slots=True)
class SessionReport:
    """What ``calendar`` keeps of a frame of bars, and the first reason it is unusable, if any."""

    n_bars: int
    n_bars_kept: int
    n_bars_outside_calendar: int
    n_bars_in_short_sessions: int
    n_sessions: int
    symbols: tuple[SymbolRange, ...]
    calendar: SessionCalendar

    @property
    def problem(self) -> str | None:
        """Why these bars cannot be trained on with this calendar (None when they can)."""
        coarse = [s for s in self.symbols if s.median_step_minutes * NS_PER_MINUTE >= COARSE_BAR_NS]
        if coarse:
            first = coarse[0]
            return (
                f"symbol {first.symbol!r} has bars {first.median_step_minutes / 60:,.1f} hours "
                "apart (median): this system trades within sessions and needs intraday bars "
                "(minutes to an hour); daily or coarser files are not supported"
            )
        if self.n_sessions == 0:
            where = (
                f"{self.calendar.open_time:%H:%M}-{self.calendar.close_time:%H:%M} "
                f"{self.calendar.timezone}"
            )
            return (
                f"no session of at least 2 bars: {self.n_bars_outside_calendar:,} of "
                f"{self.n_bars:,} bars open outside the calendar's hours ({where}); pick the "
                "calendar of the market (e.g. `calendar: fx_24h`, `cme_globex`, `us_equities`, "
                "or timezone / open_time / close_time)"
            )
        return None

    def raise_if_unusable(self, source: str) -> None:
        """Raise DataError naming ``source`` when :attr:`problem` is set."""
        if self.problem is not None:
            raise DataError(f"{source}: {self.problem}")


REGULAR_HOURS_SHARE: Final = 0.9
"""``detect_calendar``: US equities when this share of bars opens in 09:30-16:00 New York."""
ROUND_THE_CLOCK_HOURS: Final = 20
"""``detect_calendar``: 24-hour FX when bars open in at least this many distinct New York hours."""


def detect_calendar(bars: pd.DataFrame) -> tuple[str, SessionCalendar]:
    """Guess the calendar of canonical ``bars``: its preset name and the calendar.

    US equities when nearly every bar opens in New York's regular hours; 24-hour FX when bars
    open around the clock; US equities otherwise (the report then says what it drops). Declare
    the calendar in the config when the guess is wrong (futures: ``cme_globex``).
    """
    stamps = pd.DatetimeIndex(bars[TIMESTAMP]).tz_convert("America/New_York")
    minutes = stamps.hour * 60 + stamps.minute
    regular = float(np.mean((minutes >= 9 * 60 + 30) & (minutes < 16 * 60))) if len(bars) else 1.0
    if regular >= REGULAR_HOURS_SHARE:
        return "us_equities", SessionCalendar.preset("us_equities")
    if len(np.unique(stamps.hour)) >= ROUND_THE_CLOCK_HOURS:
        return "fx_24h", SessionCalendar.preset("fx_24h")
    return "us_equities", SessionCalendar.preset("us_equities")


def split_and_diagnose(
    bars: pd.DataFrame, calendar: SessionCalendar
) -> tuple[list[Session], SessionReport]:
    """Cut canonical ``bars`` into sessions (of 2+ bars) and report what ``calendar`` kept."""
    every = split_sessions(bars, calendar, min_bars=1)  # one cut serves both
    sessions = [session for session in every if session.n_bars >= MIN_SESSION_BARS]
    inside = sum(session.n_bars for session in every)
    kept = sum(session.n_bars for session in sessions)
    report = SessionReport(
        n_bars=len(bars),
        n_bars_kept=kept,
        n_bars_outside_calendar=len(bars) - inside,
        n_bars_in_short_sessions=inside - kept,
        n_sessions=len(sessions),
        symbols=tuple(_ranges(bars)),
        calendar=calendar,
    )
    return sessions, report


def diagnose_sessions(bars: pd.DataFrame, calendar: SessionCalendar) -> SessionReport:
    """Report what ``calendar`` keeps of canonical ``bars`` (as :func:`load_ohlcv` returns)."""
    return split_and_diagnose(bars, calendar)[1]


def _ranges(bars: pd.DataFrame) -> list[SymbolRange]:
    ranges = []
    for symbol, group in bars.groupby(SYMBOL, sort=True):
        stamps = pd.DatetimeIndex(group[TIMESTAMP])
        steps = np.diff(np.asarray(stamps.asi8, dtype=np.int64))
        steps = steps[steps > 0]
        close = group[CLOSE].to_numpy(dtype=np.float64)
        ranges.append(
            SymbolRange(
                symbol=str(symbol),
                n_bars=len(group),
                first=str(stamps[0]),
                last=str(stamps[-1]),
                min_close=float(close.min()),
                max_close=float(close.max()),
                median_step_minutes=float(np.median(steps)) / NS_PER_MINUTE if steps.size else 0.0,
            )
        )
    return ranges
