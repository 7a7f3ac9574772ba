"""What feature computation accepts: the session protocol and the valid ranges of bar values."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import numpy as np

from intraday_rl.shared.arrays import FloatArray, IntArray
from intraday_rl.shared.constants import MAX_PRICE, MAX_VOLUME, MIN_PRICE
from intraday_rl.shared.errors import FeatureError

# Accepted inputs (shared with data validation): in these ranges no ratio, product or sum of the
# formulas overflows or hits 0.
__all__ = ["MAX_PRICE", "MAX_VOLUME", "MIN_PRICE"]


class SessionBars(Protocol):
    """What feature computation reads from a session (``intraday_rl.data.Session`` fits)."""

    @property
    def symbol(self) -> str: ...
    @property
    def date(self) -> dt.date: ...
    @property
    def ts_ns(self) -> IntArray: ...
    @property
    def open(self) -> FloatArray: ...
    @property
    def high(self) -> FloatArray: ...
    @property
    def low(self) -> FloatArray: ...
    @property
    def close(self) -> FloatArray: ...
    @property
    def volume(self) -> FloatArray: ...
    @property
    def open_ns(self) -> int: ...
    @property
    def close_ns(self) -> int: ...
    @property
    def bar_ns(self) -> int: ...


def check_bar_arrays(
    ts_ns: IntArray,
    prices: dict[str, FloatArray],
    volume: FloatArray,
    calendar: tuple[int, int, int],
    where: str,
) -> None:
    """Raise FeatureError naming ``where``, the field and the bar of the first invalid value.

    ``prices`` maps open/high/low/close to their arrays; ``calendar`` is
    ``(open_ns, close_ns, bar_ns)``.
    """
    n_bars = ts_ns.shape[0]
    for name, array, low, high in (
        *((name, array, MIN_PRICE, MAX_PRICE) for name, array in prices.items()),
        ("volume", volume, 0.0, MAX_VOLUME),
    ):
        if array.shape != (n_bars,):
            raise FeatureError(f"{where}: {name}: expected shape ({n_bars},), was {array.shape}")
        bad = ~((array >= low) & (array <= high))  # NaN fails both comparisons
        if bad.any():
            index = int(np.argmax(bad))
            raise FeatureError(
                f"{where}: {name}[{index}]: expected a finite {'volume' if low == 0 else 'price'}"
                f" in [{low:g}, {high:g}], was {array[index]}"
            )
    steps = np.diff(ts_ns)
    if (steps <= 0).any():
        index = int(np.argmax(steps <= 0)) + 1
        raise FeatureError(
            f"{where}: ts_ns[{index}]: expected > ts_ns[{index - 1}] {ts_ns[index - 1]}, "
            f"was {ts_ns[index]}"
        )
    check_calendar(*calendar, where=where)


def check_calendar(open_ns: int, close_ns: int, bar_ns: int, where: str) -> None:
    """Raise FeatureError unless ``bar_ns > 0`` and ``close_ns > open_ns``."""
    if bar_ns <= 0 or close_ns <= open_ns:
        raise FeatureError(
            f"{where}: expected bar_ns > 0 and close_ns > open_ns, was bar_ns {bar_ns}, "
            f"open_ns {open_ns}, close_ns {close_ns}"
        )
