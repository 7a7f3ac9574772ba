"""ObservationLayout: the one function from (feature window, portfolio state) to an observation.

The env, the vectorized env and live execution all build observations here, so a policy sees the
same numbers in training and in production. Layout of the float32 vector::

    [ features[t-W+1] ... features[t]  (W x F, oldest first, zero rows before the session start)
      position, unrealized_pnl, time_left, drawdown ]

``position`` is signed exposure (position value / equity); ``unrealized_pnl`` and ``drawdown`` are
fractions of capital / of peak equity multiplied by ``pnl_scale`` (percent by default);
``time_left`` is the fraction of the session's bars still to come.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from intraday_rl.features.portfolio import portfolio_fields
from intraday_rl.shared.arrays import Float32Array
from intraday_rl.shared.constants import PORTFOLIO_FIELDS
from intraday_rl.shared.errors import FeatureError
from intraday_rl.shared.types import PortfolioState


class ObservationLayout:
    """Describes and builds the observation vector from a feature window and portfolio state."""

    __slots__ = (
        "_feature_size",
        "_portfolio_scales",
        "feature_names",
        "n_features",
        "obs_dim",
        "pnl_scale",
        "window",
    )

    def __init__(self, feature_names: Sequence[str], window: int, pnl_scale: float = 100.0) -> None:
        if window < 1:
            raise FeatureError(f"observation window: expected >= 1 bar, was {window}")
        if not feature_names:
            raise FeatureError("observation layout: expected at least one feature, was none")
        self.feature_names = tuple(feature_names)
        self.window = int(window)
        self.pnl_scale = float(pnl_scale)
        self.n_features = len(self.feature_names)
        self._feature_size = self.window * self.n_features
        self.obs_dim = self._feature_size + len(PORTFOLIO_FIELDS)
        # Multipliers of (position, unrealized_pnl, time_left, drawdown).
        self._portfolio_scales = np.array([1.0, self.pnl_scale, 1.0, self.pnl_scale])

    @property
    def field_names(self) -> tuple[str, ...]:
        """Name of every observation element, e.g. ``log_return_1[t-3]`` then ``position``."""
        names = [
            f"{name}[t-{lag}]" if lag else f"{name}[t]"
            for lag in range(self.window - 1, -1, -1)
            for name in self.feature_names
        ]
        return (*names, *PORTFOLIO_FIELDS)

    def pad_features(self, features: npt.NDArray[np.floating[Any]]) -> Float32Array:
        """Return ``features`` (n_bars, F) as float32 with W-1 zero rows in front.

        Row ``t .. t+W-1`` of the result is then the window ending at bar ``t``.
        """
        if features.ndim != 2 or features.shape[1] != self.n_features:
            raise FeatureError(
                f"feature matrix: expected shape (n_bars, {self.n_features}), was {features.shape}"
            )
        padded = np.zeros((features.shape[0] + self.window - 1, self.n_features), np.float32)
        padded[self.window - 1 :] = features
        return padded

    def write(
        self,
        out: Float32Array,
        feature_windows: npt.NDArray[np.floating[Any]],
        portfolio: npt.NDArray[np.float64],
    ) -> Float32Array:
        """Fill ``out`` (N, obs_dim) from windows (N, W, F) or (N, W*F) and portfolio (N, 4).

        ``portfolio`` columns are (position, unrealized_pnl, time_left, drawdown) as fractions,
        the same values :meth:`build` takes one by one.
        """
        out[:, : self._feature_size] = feature_windows.reshape(out.shape[0], self._feature_size)
        out[:, self._feature_size :] = portfolio * self._portfolio_scales
        return out

    def observation_table(self, windows: Float32Array) -> Float32Array:
        """Return (n, obs_dim) rows holding each window (n, W*F) and zeroed portfolio fields.

        A batch of observations is then one ``take`` of rows plus the portfolio fields
        (:meth:`write_rows`), the vectorized env's hot path.
        """
        table = np.zeros((windows.shape[0], self.obs_dim), np.float32)
        table[:, : self._feature_size] = windows
        return table

    def write_rows(
        self,
        table: Float32Array,
        rows: npt.NDArray[np.int64],
        portfolio: npt.NDArray[np.float64],
    ) -> Float32Array:
        """Return new observations: ``rows`` of an :meth:`observation_table`, portfolio (N, 4)."""
        out = table.take(rows, axis=0)
        out[:, self._feature_size :] = portfolio * self._portfolio_scales
        return out

    def build(
        self,
        feature_window: npt.NDArray[np.floating[Any]],
        position: float,
        unrealized_pnl: float,
        time_left: float,
        drawdown: float,
    ) -> Float32Array:
        """Return a new observation from one window ((W, F) or flattened) and portfolio values."""
        out = np.empty(self.obs_dim, np.float32)
        size = self._feature_size
        # The env's hot path: its windows are already flat, and four scalar stores are about
        # twice as fast as assigning a tuple (the same float64 -> float32 rounding either way).
        out[:size] = feature_window if feature_window.ndim == 1 else feature_window.reshape(size)
        scale = self.pnl_scale
        out[size] = position
        out[size + 1] = unrealized_pnl * scale
        out[size + 2] = time_left
        out[size + 3] = drawdown * scale
        return out

    def build_from_state(self, feature_window: Float32Array, state: PortfolioState) -> Float32Array:
        """Return the observation for a live :class:`PortfolioState` (execution uses this).

        The portfolio fields come from :func:`~intraday_rl.features.portfolio.portfolio_fields`,
        the function the envs call, so they equal the env's for the same state bit for bit.
        """
        return self.build(feature_window, *state_fields(state))

    def to_dict(self) -> dict[str, Any]:
        """Describe the layout for bundle metadata."""
        return {
            "feature_names": list(self.feature_names),
            "window": self.window,
            "pnl_scale": self.pnl_scale,
            "portfolio_fields": list(PORTFOLIO_FIELDS),
            "obs_dim": self.obs_dim,
        }


def state_fields(state: PortfolioState) -> tuple[float, float, float, float]:
    """Return the observation's portfolio fields (as fractions) of a :class:`PortfolioState`."""
    return portfolio_fields(
        state.position,
        state.price,
        state.equity,
        state.peak_equity,
        state.unrealized_pnl,
        state.initial_capital,
        state.time_left,
    )
