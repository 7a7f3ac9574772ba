"""Batch feature computation: one session's bars in, one (n_bars, n_features) matrix out.

Fully vectorized over the session: cumulative sums for VWAP, windows centred on the newest value
for rolling statistics, ``scipy.signal.lfilter`` for the EMA and Wilder recursions. Row ``t``
uses bars ``0..t`` only; formulas are in :mod:`intraday_rl.features.config`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Final

import numpy as np

from intraday_rl.features.config import MIN_ZSCORE_STD, FeatureDef, FeatureSpec
from intraday_rl.features.inputs import SessionBars, check_bar_arrays
from intraday_rl.features.regime import not_fitted_error, regime_batch
from intraday_rl.features.windows import rolling_deviation_and_std
from intraday_rl.shared.arrays import FloatArray
from intraday_rl.shared.constants import NS_PER_MINUTE


class _Bars:
    # The session's arrays as contiguous float64 (int64 times) and its calendar as ints.
    __slots__ = ("bar_ns", "close", "close_ns", "high", "low", "open", "open_ns", "ts_ns", "volume")

    def __init__(self, session: SessionBars) -> None:
        self.ts_ns = np.ascontiguousarray(session.ts_ns, dtype=np.int64)
        self.open = np.ascontiguousarray(session.open, dtype=np.float64)
        self.high = np.ascontiguousarray(session.high, dtype=np.float64)
        self.low = np.ascontiguousarray(session.low, dtype=np.float64)
        self.close = np.ascontiguousarray(session.close, dtype=np.float64)
        self.volume = np.ascontiguousarray(session.volume, dtype=np.float64)
        self.open_ns = int(session.open_ns)
        self.close_ns = int(session.close_ns)
        self.bar_ns = int(session.bar_ns)

    def previous_close(self) -> FloatArray:
        # c_{t-1}, with o_0 standing in for bar 0
        return np.concatenate((self.open[:1], self.close[:-1]))


def compute_features(spec: FeatureSpec, session: SessionBars) -> FloatArray:
    """Return the float64 feature matrix (n_bars, spec.n_features) of one session.

    Raises:
        FeatureError: a price outside [MIN_PRICE, MAX_PRICE] (0, negative, NaN and inf
            included) or a volume outside [0, MAX_VOLUME] (see
            :mod:`~intraday_rl.features.inputs`), arrays of different lengths, non-increasing
            timestamps, or an empty calendar; the message names the session, field and bar.
    """
    bars = _Bars(session)
    check_bar_arrays(
        bars.ts_ns,
        {"open": bars.open, "high": bars.high, "low": bars.low, "close": bars.close},
        bars.volume,
        (bars.open_ns, bars.close_ns, bars.bar_ns),
        where=f"session {session.symbol} {session.date}",
    )
    n_bars = bars.close.shape[0]
    matrix = np.empty((n_bars, spec.n_features), dtype=np.float64)
    if n_bars == 0:
        return matrix
    column = 0
    for feature in spec.features:
        for values in _COMPUTERS[feature.kind](feature, bars):
            matrix[:, column] = np.clip(values * feature.scale, -feature.clip, feature.clip)
            column += 1
    return matrix


def compute_features_many(spec: FeatureSpec, sessions: Iterable[SessionBars]) -> list[FloatArray]:
    """Return :func:`compute_features` for each session, in order."""
    return [compute_features(spec, session) for session in sessions]


def _recursive_average(values: FloatArray, alpha: float) -> FloatArray:
    # y_0 = x_0, y_t = alpha x_t + (1 - alpha) y_{t-1}; lfilter from bar 1 with y_0 as its state
    from scipy.signal import lfilter  # scipy.signal takes ~0.5 s to import: only when needed

    averaged = np.empty_like(values)
    averaged[0] = values[0]
    if values.shape[0] > 1:
        decay = 1.0 - alpha
        state = np.array([decay * values[0]])
        averaged[1:], _ = lfilter([alpha], [1.0, -decay], values[1:], zi=state)
    return averaged


def _log_return(feature: FeatureDef, bars: _Bars) -> list[FloatArray]:
    close = bars.close
    columns = []
    for lag in feature.int_tuple("lags"):
        reference = np.full_like(close, bars.open[0])
        reference[lag:] = close[:-lag]
        columns.append(np.log(close / reference))
    return columns


def _rolling_volatility(feature: FeatureDef, bars: _Bars) -> list[FloatArray]:
    one_bar = np.log(bars.close / bars.previous_close())
    _, std = rolling_deviation_and_std(one_bar, feature.int_param("window"))
    return [std]


def _rsi(feature: FeatureDef, bars: _Bars) -> list[FloatArray]:
    change = bars.close - bars.previous_close()
    alpha = 1.0 / feature.int_param("period")
    gain = _recursive_average(np.where(change > 0.0, change, 0.0), alpha)
    loss = _recursive_average(np.where(change < 0.0, -change, 0.0), alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        rsi = 100.0 - 100.0 / (1.0 + gain / loss)
    rsi = np.where(loss == 0.0, np.where(gain == 0.0, 50.0, 100.0), rsi)
    return [(rsi - 50.0) / 50.0]


def _ema_ratio(feature: FeatureDef, bars: _Bars) -> list[FloatArray]:
    fast = _recursive_average(bars.close, 2.0 / (feature.int_param("fast") + 1))
    slow = _recursive_average(bars.close, 2.0 / (feature.int_param("slow") + 1))
    return [np.log(fast / slow)]


def _vwap_deviation(feature: FeatureDef, bars: _Bars) -> list[FloatArray]:
    typical = (bars.high + bars.low + bars.close) / 3.0
    volume = np.cumsum(bars.volume)
    traded = np.cumsum(typical * bars.volume)
    with np.errstate(divide="ignore", invalid="ignore"):
        vwap = np.where(traded > 0.0, traded / volume, typical)
    return [np.log(bars.close / vwap)]


def _log1p(values: FloatArray) -> FloatArray:
    # math.log1p, the streaming side's function, so both see bit-identical values (numpy's
    # log1p may differ in the last bit); a session's few hundred volumes cost microseconds.
    return np.fromiter(map(math.log1p, values.tolist()), dtype=np.float64, count=values.shape[0])


def _volume_zscore(feature: FeatureDef, bars: _Bars) -> list[FloatArray]:
    deviation, std = rolling_deviation_and_std(_log1p(bars.volume), feature.int_param("window"))
    with np.errstate(divide="ignore", invalid="ignore"):
        zscore = np.where(std < MIN_ZSCORE_STD, 0.0, deviation / std)
    return [zscore]


def _time_of_day(feature: FeatureDef, bars: _Bars) -> list[FloatArray]:
    elapsed = (bars.ts_ns + (bars.bar_ns - bars.open_ns)).astype(np.float64)
    phase = math.tau * (elapsed / float(bars.close_ns - bars.open_ns))
    return [np.sin(phase), np.cos(phase)]


def _minutes_to_close(feature: FeatureDef, bars: _Bars) -> list[FloatArray]:
    remaining = np.maximum(bars.close_ns - (bars.ts_ns + bars.bar_ns), 0)
    return [remaining.astype(np.float64) / float(NS_PER_MINUTE)]


def _session_return(feature: FeatureDef, bars: _Bars) -> list[FloatArray]:
    return [np.log(bars.close / bars.open[0])]


def _regime(feature: FeatureDef, bars: _Bars) -> list[FloatArray]:
    if feature.model is None:
        raise not_fitted_error()
    return regime_batch(feature.model, bars.open, bars.close)


_COMPUTERS: Final[dict[str, Callable[[FeatureDef, _Bars], list[FloatArray]]]] = {
    "log_return": _log_return,
    "rolling_volatility": _rolling_volatility,
    "rsi": _rsi,
    "ema_ratio": _ema_ratio,
    "vwap_deviation": _vwap_deviation,
    "volume_zscore": _volume_zscore,
    "time_of_day": _time_of_day,
    "minutes_to_close": _minutes_to_close,
    "session_return": _session_return,
    "regime": _regime,
}
