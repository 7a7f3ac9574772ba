"""EpisodeBook: sessions prepared once for simulation and shared by every env that uses them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from intraday_rl.data.sessions import Session
from intraday_rl.features import FeatureSpec, compute_features_many
from intraday_rl.features.layout import ObservationLayout
from intraday_rl.features.regime import BPS
from intraday_rl.shared.arrays import FloatArray
from intraday_rl.shared.errors import EnvError

MAX_OBSERVATION_TABLE_BYTES = 512 * 2**20


@dataclass(frozen=True, slots=True)
class StackedBook:
    """All sessions in flat arrays for the vectorized env, addressed by one row index.

    Session ``s`` occupies rows ``s * stride .. (s + 1) * stride - 1``; its bar ``t`` is row
    ``s * stride + window - 1 + t`` of the price arrays and of ``observations``, and the
    observation window ending at bar ``t`` is row ``s * stride + t`` of ``windows`` (the W-1 rows
    in front are zero padding).
    """

    open: FloatArray  # (S * stride,)
    close: FloatArray  # (S * stride,)
    fill_volume: FloatArray  # (S * stride,), floored at 1
    forecast: FloatArray  # (S * stride,), the regime forecast (log return), 0 without one
    windows: npt.NDArray[np.float32]  # (S * stride - W + 1, W * F), a strided view
    # (S * stride, obs_dim) observation rows (layout.observation_table), or None when too large.
    observations: npt.NDArray[np.float32] | None
    n_bars: npt.NDArray[np.int64]  # (S,)
    stride: int


class EpisodeBook:
    """Sessions with their feature matrices, padded windows and fill liquidity, computed once."""

    def __init__(
        self,
        sessions: Sequence[Session],
        spec: FeatureSpec,
        window: int,
        features: Sequence[npt.NDArray[np.float64]] | None = None,
    ) -> None:
        if not sessions:
            raise EnvError("episode book: expected at least one session, was none")
        short = [(i, s.n_bars) for i, s in enumerate(sessions) if s.n_bars < 2]
        if short:
            index, n_bars = short[0]
            raise EnvError(
                f"session {index} ({sessions[index].symbol} {sessions[index].date}): expected at "
                f"least 2 bars for one decision and one fill, was {n_bars}"
            )
        self.sessions = tuple(sessions)
        self.spec = spec
        self.layout = ObservationLayout(spec.column_names, window)
        matrices = compute_features_many(spec, self.sessions) if features is None else features
        self.padded = tuple(self.layout.pad_features(matrix) for matrix in matrices)
        self.fill_volume = tuple(np.maximum(s.volume, 1.0) for s in self.sessions)
        self.forecast = tuple(_forecast_column(spec, matrix) for matrix in matrices)
        # Row t of windows[i] is session i's flattened feature window ending at bar t (a view).
        self.windows = tuple(self._window_view(padded) for padded in self.padded)

    def _window_view(self, padded: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        window, n_features = self.layout.window, self.layout.n_features
        item = padded.itemsize
        return np.lib.stride_tricks.as_strided(
            padded,
            shape=(padded.shape[0] - window + 1, window * n_features),
            strides=(n_features * item, item),
            writeable=False,
        )

    @property
    def n_sessions(self) -> int:
        return len(self.sessions)

    @cached_property
    def stacked(self) -> StackedBook:
        """The sessions stacked for batch simulation (built on first use)."""
        n_bars = np.array([s.n_bars for s in self.sessions], dtype=np.int64)
        window, n_features = self.layout.window, self.layout.n_features
        stride = int(n_bars.max()) + window - 1
        shape = (self.n_sessions, stride)
        open_, close, volume = np.ones(shape), np.ones(shape), np.ones(shape)
        forecast = np.zeros(shape)
        features = np.zeros((self.n_sessions, stride, n_features), np.float32)
        for row, session in enumerate(self.sessions):
            bars = slice(window - 1, window - 1 + session.n_bars)
            open_[row, bars] = session.open
            close[row, bars] = session.close
            volume[row, bars] = self.fill_volume[row]
            forecast[row, bars] = self.forecast[row]
            features[row, : session.n_bars + window - 1] = self.padded[row]
        flat = features.reshape(-1)
        item = flat.itemsize
        windows = np.lib.stride_tricks.as_strided(
            flat,
            shape=(self.n_sessions * stride - window + 1, window * n_features),
            strides=(n_features * item, item),
            writeable=False,
        )
        return StackedBook(
            open_.reshape(-1),
            close.reshape(-1),
            volume.reshape(-1),
            forecast.reshape(-1),
            windows,
            self._observation_rows(stride),
            n_bars,
            stride,
        )

    def _observation_rows(self, stride: int) -> npt.NDArray[np.float32] | None:
        # Materialized observation rows make a batch one gather, at W times the feature memory.
        obs_dim, window = self.layout.obs_dim, self.layout.window
        if self.n_sessions * stride * obs_dim * 4 > MAX_OBSERVATION_TABLE_BYTES:
            return None
        table = np.zeros((self.n_sessions, stride, obs_dim), np.float32)
        for row, windows in enumerate(self.windows):
            table[row, window - 1 : window - 1 + windows.shape[0]] = self.layout.observation_table(
                windows
            )
        return table.reshape(-1, obs_dim)


def _forecast_column(spec: FeatureSpec, matrix: npt.NDArray[np.float64]) -> FloatArray:
    # The regime feature's expected next-bar log return (its column is in bps, scaled).
    if "regime_forecast" not in spec.column_names:
        return np.zeros(matrix.shape[0])
    scale = next(feature.scale for feature in spec.features if feature.kind == "regime")
    column = spec.column_names.index("regime_forecast")
    return np.asarray(matrix[:, column] / (scale * BPS), dtype=np.float64)
