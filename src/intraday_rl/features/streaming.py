"""Streaming feature computation: one bar in, one feature row out, O(1) per bar.

:class:`FeatureStream` keeps per-session state in ring buffers and running sums and does pure
Python float arithmetic (no numpy until the output row), so it can run on every live bar. It
implements the formulas of :mod:`intraday_rl.features.config` in the same operation order as
:mod:`intraday_rl.features.batch`; parity tests hold the two to 1e-9.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final, Protocol

import numpy as np

from intraday_rl.features.config import MIN_ZSCORE_STD, FeatureDef, FeatureSpec
from intraday_rl.features.inputs import (
    MAX_PRICE,
    MAX_VOLUME,
    MIN_PRICE,
    SessionBars,
    check_calendar,
)
from intraday_rl.features.regime import RegimeFilter, not_fitted_error
from intraday_rl.features.windows import ExactRollingMoments
from intraday_rl.shared.arrays import FloatArray
from intraday_rl.shared.constants import NS_PER_MINUTE
from intraday_rl.shared.errors import FeatureError

_PRICE_RANGE: Final = f"a finite price in [{MIN_PRICE:g}, {MAX_PRICE:g}]"
_VOLUME_RANGE: Final = f"a finite volume in [0, {MAX_VOLUME:g}]"


class _Bar:
    # The bar being processed, shared by every calculator (reused, never reallocated).
    __slots__ = (
        "change",
        "close",
        "high",
        "index",
        "log_change",
        "low",
        "open",
        "ts_ns",
        "volume",
    )

    def __init__(self) -> None:
        self.index = 0
        self.ts_ns = 0
        self.open = self.high = self.low = self.close = self.volume = 0.0
        self.change = self.log_change = 0.0


class _Clock:
    # The session calendar given to reset().
    __slots__ = ("bar_ns", "close_ns", "open_ns")

    def __init__(self, open_ns: int, close_ns: int, bar_ns: int) -> None:
        self.open_ns = open_ns
        self.close_ns = close_ns
        self.bar_ns = bar_ns


class _Calculator(Protocol):
    # One feature definition's state; appends its scaled, clipped columns to `out`.
    def reset(self, clock: _Clock) -> None: ...
    def update(self, bar: _Bar, out: list[float]) -> None: ...


# Calculators clip inline (`clip if value > clip else ...`): a helper call per column would cost
# ~10% of an update.


class _LogReturn:
    __slots__ = ("_clip", "_closes", "_first_open", "_lags", "_scale", "_size")

    def __init__(self, feature: FeatureDef) -> None:
        self._lags = feature.int_tuple("lags")
        self._size = max(self._lags)
        self._scale, self._clip = feature.scale, feature.clip
        self._closes = [0.0] * self._size
        self._first_open = 0.0

    def reset(self, clock: _Clock) -> None:
        self._closes = [0.0] * self._size

    def update(self, bar: _Bar, out: list[float]) -> None:
        t, close, closes, size = bar.index, bar.close, self._closes, self._size
        scale, clip = self._scale, self._clip
        if t == 0:
            self._first_open = bar.open
        for lag in self._lags:
            reference = closes[(t - lag) % size] if t >= lag else self._first_open
            value = math.log(close / reference) * scale
            out.append(clip if value > clip else (-clip if value < -clip else value))
        closes[t % size] = close


class _RollingVolatility:
    __slots__ = ("_clip", "_moments", "_scale")

    def __init__(self, feature: FeatureDef) -> None:
        self._moments = ExactRollingMoments(feature.int_param("window"))
        self._scale, self._clip = feature.scale, feature.clip

    def reset(self, clock: _Clock) -> None:
        self._moments.reset()

    def update(self, bar: _Bar, out: list[float]) -> None:
        self._moments.push(bar.log_change)
        value = self._moments.std() * self._scale
        clip = self._clip
        out.append(clip if value > clip else (-clip if value < -clip else value))


class _Rsi:
    __slots__ = ("_alpha", "_clip", "_decay", "_gain", "_loss", "_scale")

    def __init__(self, feature: FeatureDef) -> None:
        self._alpha = 1.0 / feature.int_param("period")
        self._decay = 1.0 - self._alpha
        self._scale, self._clip = feature.scale, feature.clip
        self._gain = self._loss = 0.0

    def reset(self, clock: _Clock) -> None:
        self._gain = self._loss = 0.0

    def update(self, bar: _Bar, out: list[float]) -> None:
        change = bar.change
        gain = change if change > 0.0 else 0.0
        loss = -change if change < 0.0 else 0.0
        if bar.index == 0:
            self._gain, self._loss = gain, loss
        else:
            self._gain = self._alpha * gain + self._decay * self._gain
            self._loss = self._alpha * loss + self._decay * self._loss
        if self._loss == 0.0:
            rsi = 50.0 if self._gain == 0.0 else 100.0
        else:
            rsi = 100.0 - 100.0 / (1.0 + self._gain / self._loss)
        value = (rsi - 50.0) / 50.0 * self._scale
        clip = self._clip
        out.append(clip if value > clip else (-clip if value < -clip else value))


class _EmaRatio:
    __slots__ = (
        "_clip",
        "_fast",
        "_fast_alpha",
        "_fast_decay",
        "_scale",
        "_slow",
        "_slow_alpha",
        "_slow_decay",
    )

    def __init__(self, feature: FeatureDef) -> None:
        self._fast_alpha = 2.0 / (feature.int_param("fast") + 1)
        self._slow_alpha = 2.0 / (feature.int_param("slow") + 1)
        self._fast_decay = 1.0 - self._fast_alpha
        self._slow_decay = 1.0 - self._slow_alpha
        self._scale, self._clip = feature.scale, feature.clip
        self._fast = self._slow = 0.0

    def reset(self, clock: _Clock) -> None:
        self._fast = self._slow = 0.0

    def update(self, bar: _Bar, out: list[float]) -> None:
        close = bar.close
        if bar.index == 0:
            self._fast = self._slow = close
        else:
            self._fast = self._fast_alpha * close + self._fast_decay * self._fast
            self._slow = self._slow_alpha * close + self._slow_decay * self._slow
        value = math.log(self._fast / self._slow) * self._scale
        clip = self._clip
        out.append(clip if value > clip else (-clip if value < -clip else value))


class _VwapDeviation:
    __slots__ = ("_clip", "_scale", "_traded", "_volume")

    def __init__(self, feature: FeatureDef) -> None:
        self._scale, self._clip = feature.scale, feature.clip
        self._traded = self._volume = 0.0

    def reset(self, clock: _Clock) -> None:
        self._traded = self._volume = 0.0

    def update(self, bar: _Bar, out: list[float]) -> None:
        typical = (bar.high + bar.low + bar.close) / 3.0
        self._volume += bar.volume
        self._traded += typical * bar.volume
        vwap = self._traded / self._volume if self._traded > 0.0 else typical
        value = math.log(bar.close / vwap) * self._scale
        clip = self._clip
        out.append(clip if value > clip else (-clip if value < -clip else value))


class _VolumeZscore:
    __slots__ = ("_clip", "_moments", "_scale")

    def __init__(self, feature: FeatureDef) -> None:
        self._moments = ExactRollingMoments(feature.int_param("window"))
        self._scale, self._clip = feature.scale, feature.clip

    def reset(self, clock: _Clock) -> None:
        self._moments.reset()

    def update(self, bar: _Bar, out: list[float]) -> None:
        self._moments.push(math.log1p(bar.volume))
        zscore = self._moments.zscore_of_last(MIN_ZSCORE_STD)
        value = zscore * self._scale
        clip = self._clip
        out.append(clip if value > clip else (-clip if value < -clip else value))


class _TimeOfDay:
    __slots__ = ("_clip", "_length", "_offset", "_scale")

    def __init__(self, feature: FeatureDef) -> None:
        self._scale, self._clip = feature.scale, feature.clip
        self._offset = 0
        self._length = 1

    def reset(self, clock: _Clock) -> None:
        self._offset = clock.bar_ns - clock.open_ns
        self._length = clock.close_ns - clock.open_ns

    def update(self, bar: _Bar, out: list[float]) -> None:
        phase = math.tau * ((bar.ts_ns + self._offset) / self._length)
        scale, clip = self._scale, self._clip
        value = math.sin(phase) * scale
        out.append(clip if value > clip else (-clip if value < -clip else value))
        value = math.cos(phase) * scale
        out.append(clip if value > clip else (-clip if value < -clip else value))


class _MinutesToClose:
    __slots__ = ("_bar_ns", "_clip", "_close_ns", "_scale")

    def __init__(self, feature: FeatureDef) -> None:
        self._scale, self._clip = feature.scale, feature.clip
        self._close_ns = self._bar_ns = 0

    def reset(self, clock: _Clock) -> None:
        self._close_ns, self._bar_ns = clock.close_ns, clock.bar_ns

    def update(self, bar: _Bar, out: list[float]) -> None:
        remaining = max(self._close_ns - (bar.ts_ns + self._bar_ns), 0)
        value = remaining / NS_PER_MINUTE * self._scale
        clip = self._clip
        out.append(clip if value > clip else (-clip if value < -clip else value))


class _SessionReturn:
    __slots__ = ("_clip", "_first_open", "_scale")

    def __init__(self, feature: FeatureDef) -> None:
        self._scale, self._clip = feature.scale, feature.clip
        self._first_open = 0.0

    def reset(self, clock: _Clock) -> None:
        self._first_open = 0.0

    def update(self, bar: _Bar, out: list[float]) -> None:
        if bar.index == 0:
            self._first_open = bar.open
        value = math.log(bar.close / self._first_open) * self._scale
        clip = self._clip
        out.append(clip if value > clip else (-clip if value < -clip else value))


class _Regime:
    __slots__ = ("_clip", "_filter", "_scale")

    def __init__(self, feature: FeatureDef) -> None:
        if feature.model is None:
            raise not_fitted_error()
        self._filter = RegimeFilter(feature.model)
        self._scale, self._clip = feature.scale, feature.clip

    def reset(self, clock: _Clock) -> None:
        self._filter.reset()

    def update(self, bar: _Bar, out: list[float]) -> None:
        scale, clip = self._scale, self._clip
        for raw in self._filter.update(bar.open, bar.close):
            value = raw * scale
            out.append(clip if value > clip else (-clip if value < -clip else value))


_CALCULATORS: Final[dict[str, Callable[[FeatureDef], _Calculator]]] = {
    "log_return": _LogReturn,
    "rolling_volatility": _RollingVolatility,
    "rsi": _Rsi,
    "ema_ratio": _EmaRatio,
    "vwap_deviation": _VwapDeviation,
    "volume_zscore": _VolumeZscore,
    "time_of_day": _TimeOfDay,
    "minutes_to_close": _MinutesToClose,
    "session_return": _SessionReturn,
    "regime": _Regime,
}


class FeatureStream:
    """Computes one feature row per bar, as the bar closes, in O(1) time and memory.

    Call :meth:`reset` at the start of every session (nothing carries over between sessions),
    then :meth:`update` once per bar in time order. Row ``t`` equals row ``t`` of
    :func:`~intraday_rl.features.batch.compute_features` for the same bars (within 1e-9).

    Example::

        stream = FeatureStream(FeatureSpec.default())
        stream.reset(open_ns, close_ns, bar_ns)
        row = stream.update(ts_ns, open_, high, low, close, volume)
    """

    __slots__ = ("_bar", "_calculators", "_clock", "_previous_close", "spec")

    def __init__(self, spec: FeatureSpec) -> None:
        self.spec = spec
        self._calculators = tuple(_CALCULATORS[feature.kind](feature) for feature in spec.features)
        self._bar = _Bar()
        self._clock: _Clock | None = None
        self._previous_close = 0.0

    @property
    def n_features(self) -> int:
        """Length of each row :meth:`update` returns."""
        return self.spec.n_features

    @property
    def n_bars(self) -> int:
        """Bars seen since the last :meth:`reset`."""
        return self._bar.index

    def reset(self, open_ns: int, close_ns: int, bar_ns: int) -> None:
        """Start a new session whose calendar runs from ``open_ns`` to ``close_ns`` (UTC ns).

        Raises:
            FeatureError: ``bar_ns <= 0`` or ``close_ns <= open_ns``.
        """
        open_ns, close_ns, bar_ns = int(open_ns), int(close_ns), int(bar_ns)
        check_calendar(open_ns, close_ns, bar_ns, where="FeatureStream.reset")
        clock = _Clock(open_ns, close_ns, bar_ns)
        for calculator in self._calculators:
            calculator.reset(clock)
        self._clock = clock
        self._bar.index = 0
        self._bar.ts_ns = open_ns - bar_ns  # so the first bar may open at open_ns or later

    def update(
        self, ts_ns: int, open: float, high: float, low: float, close: float, volume: float
    ) -> FloatArray:
        """Add the bar that opened at ``ts_ns`` and return its feature row (a new float64 array).

        Raises:
            FeatureError: no :meth:`reset` yet; a price outside [MIN_PRICE, MAX_PRICE] (this
                includes 0, negative, NaN and inf); a volume outside [0, MAX_VOLUME]; ``ts_ns``
                not after the previous bar's. The message names the field and its value.
        """
        if self._clock is None:
            raise FeatureError(
                "FeatureStream.update: expected reset(open_ns, close_ns, bar_ns) before the "
                "first bar, was not called"
            )
        open, high, low, close = float(open), float(high), float(low), float(close)
        volume, ts_ns = float(volume), int(ts_ns)
        if not (
            MIN_PRICE <= open <= MAX_PRICE
            and MIN_PRICE <= high <= MAX_PRICE
            and MIN_PRICE <= low <= MAX_PRICE
            and MIN_PRICE <= close <= MAX_PRICE
            and 0.0 <= volume <= MAX_VOLUME
        ):
            _reject_bar(open, high, low, close, volume)
        bar = self._bar
        if ts_ns <= bar.ts_ns and bar.index > 0:
            raise FeatureError(
                f"FeatureStream.update: ts_ns: expected > previous bar's {bar.ts_ns}, was {ts_ns}"
            )
        reference = open if bar.index == 0 else self._previous_close
        bar.ts_ns, bar.open, bar.high, bar.low, bar.close = ts_ns, open, high, low, close
        bar.volume = volume
        bar.change = close - reference
        bar.log_change = math.log(close / reference)
        row: list[float] = []
        for calculator in self._calculators:
            calculator.update(bar, row)
        self._previous_close = close
        bar.index += 1
        return np.array(row, dtype=np.float64)


def _reject_bar(open: float, high: float, low: float, close: float, volume: float) -> None:
    for name, value in (("open", open), ("high", high), ("low", low), ("close", close)):
        if not MIN_PRICE <= value <= MAX_PRICE:
            raise FeatureError(
                f"FeatureStream.update: {name}: expected {_PRICE_RANGE}, was {value}"
            )
    raise FeatureError(f"FeatureStream.update: volume: expected {_VOLUME_RANGE}, was {volume}")


def stream_session(spec: FeatureSpec, session: SessionBars) -> FloatArray:
    """Feed a whole session through a fresh :class:`FeatureStream`; return the stacked rows."""
    stream = FeatureStream(spec)
    stream.reset(session.open_ns, session.close_ns, session.bar_ns)
    columns = (
        session.ts_ns.tolist(),
        session.open.tolist(),
        session.high.tolist(),
        session.low.tolist(),
        session.close.tolist(),
        session.volume.tolist(),
    )
    matrix = np.empty((len(columns[0]), spec.n_features), dtype=np.float64)
    for index, bar in enumerate(zip(*columns, strict=True)):
        matrix[index] = stream.update(*bar)
    return matrix
