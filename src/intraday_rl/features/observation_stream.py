"""ObservationStream: the policy's observation built bar by bar, as execution needs it.

One object per symbol does what the env does with precomputed arrays: a
:class:`~intraday_rl.features.streaming.FeatureStream` turns each bar into a feature row (O(1)),
a ring keeps the last W rows (zeros before the session's first bar, as the env pads), and the
:class:`~intraday_rl.features.layout.ObservationLayout` appends the portfolio fields of
:func:`~intraday_rl.features.portfolio.portfolio_fields`. Per bar::

    stream.reset(open_ns, close_ns, bar_ns)              # at each session start
    stream.update(ts_ns, open_, high, low, close, volume) # the bar that just closed
    obs = stream.observation(portfolio_state)             # marked at that bar's close

On every bar of a session the observation equals :class:`~intraday_rl.env.IntradayTradingEnv`'s
for the same portfolio (a parity test runs whole sessions through both).
"""

from __future__ import annotations

import math

import numpy as np

from intraday_rl.features.config import FeatureSpec
from intraday_rl.features.layout import ObservationLayout, state_fields
from intraday_rl.features.streaming import FeatureStream
from intraday_rl.shared.arrays import Float32Array, FloatArray
from intraday_rl.shared.constants import PORTFOLIO_FIELDS
from intraday_rl.shared.errors import FeatureError
from intraday_rl.shared.types import PortfolioState


class ObservationStream:
    """Streams a session's bars into observations: features, a W-bar window, portfolio fields.

    Args:
        spec: The feature spec (fitted where it has a regime feature), e.g. a bundle's.
        window: Bars of features per observation (W).
        pnl_scale: The layout's multiplier of P&L and drawdown (a bundle's ``pnl_scale``).

    Raises:
        FeatureError: ``window < 1``, an unfitted regime feature.
    """

    __slots__ = ("_features", "_position", "_ring", "layout")

    def __init__(self, spec: FeatureSpec, window: int, pnl_scale: float = 100.0) -> None:
        self.layout = ObservationLayout(spec.column_names, window, pnl_scale)
        self._features = FeatureStream(spec)
        # Each row is written twice, at p and p + W, so the window ending at the newest row is
        # always the contiguous slice p + 1 .. p + W (oldest first), whatever p is.
        self._ring = np.zeros((2 * self.layout.window, self.layout.n_features), np.float32)
        self._position = self.layout.window - 1

    @property
    def spec(self) -> FeatureSpec:
        """The feature spec the rows are computed from."""
        return self._features.spec

    @property
    def n_bars(self) -> int:
        """Bars seen since the last :meth:`reset`."""
        return self._features.n_bars

    def reset(self, open_ns: int, close_ns: int, bar_ns: int) -> None:
        """Start a session (calendar open and close, bar length, UTC ns): nothing carries over.

        Raises:
            FeatureError: ``bar_ns <= 0`` or ``close_ns <= open_ns``.
        """
        self._features.reset(open_ns, close_ns, bar_ns)
        self._ring[:] = 0.0  # the zero rows in front of the session's first bar
        self._position = self.layout.window - 1

    def update(
        self, ts_ns: int, open: float, high: float, low: float, close: float, volume: float
    ) -> FloatArray:
        """Add the bar that opened at ``ts_ns`` and closed now; return its feature row (float64).

        Raises:
            FeatureError: no :meth:`reset` yet, a price or volume that is NaN, inf or out of
                range, or ``ts_ns`` not after the previous bar's (the message names the field).
                The stream is unchanged then.
        """
        row = self._features.update(ts_ns, open, high, low, close, volume)
        window = self.layout.window
        position = self._position + 1
        if position == window:
            position = 0
        self._ring[position] = row
        self._ring[position + window] = row
        self._position = position
        return row

    def feature_window(self) -> Float32Array:
        """The last W feature rows, oldest first (float32, a new array)."""
        start = self._position + 1
        window: Float32Array = self._ring[start : start + self.layout.window].copy()
        return window

    def observation(self, state: PortfolioState) -> Float32Array:
        """Return the observation of the latest bar for ``state``, the portfolio at its close.

        Raises:
            FeatureError: no bar since :meth:`reset`, or a portfolio field that is NaN or inf.
        """
        return self.observation_from_fields(*state_fields(state))

    def observation_from_fields(
        self, position: float, unrealized_pnl: float, time_left: float, drawdown: float
    ) -> Float32Array:
        """Return the observation of the latest bar from the four portfolio fields (fractions).

        The fields are :func:`~intraday_rl.features.portfolio.portfolio_fields`' values.

        Raises:
            FeatureError: as :meth:`observation`.
        """
        if self._features.n_bars == 0:
            raise FeatureError(
                "ObservationStream.observation: expected a bar since reset() (call update() "
                "first), was none"
            )
        fields = (position, unrealized_pnl, time_left, drawdown)
        for name, value in zip(PORTFOLIO_FIELDS, fields, strict=True):
            if not math.isfinite(value):
                raise FeatureError(
                    f"ObservationStream.observation: {name}: expected a finite value, was {value}"
                )
        start = self._position + 1
        return self.layout.build(self._ring[start : start + self.layout.window], *fields)
