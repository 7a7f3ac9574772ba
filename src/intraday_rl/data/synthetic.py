"""The built-in market: one-minute bars with regimes, a U-shaped day and a weak predictable drift.

Nothing external is needed: :func:`generate_market` is the project's default data, deterministic
from ``SyntheticMarketConfig.seed`` (numpy ``default_rng``; each symbol draws from its own stream,
seeded by the root seed and the symbol's name, so adding a symbol never changes another's path).

The model, per symbol, with ``n`` sessions of ``m`` one-minute bars (``m = 390`` for 09:30-16:00):

* **Calendar.** Sessions are consecutive business days (weekends skipped, no holidays) from
  ``start_date``; bar ``t`` opens ``t`` minutes after the local open (DST-aware), stored in UTC.
* **Regimes.** Each session is ``trending``, ``mean_reverting`` or ``volatile``. The first is
  drawn from ``regime_probabilities`` (pi); afterwards a session keeps the previous regime with
  probability ``regime_persistence`` (p) and otherwise redraws from pi, i.e. the Markov chain
  ``P = p I + (1 - p) 1 pi'`` whose stationary law is pi.
* **Intraday volatility.** ``sigma_t = base_volatility * (1 + volatility_u_shape * (2x - 1)^2)``
  with ``x = (t + 0.5) / m``: a U, highest at the open and the close; times
  ``volatile_multiplier`` in volatile sessions.
* **Returns.** The bar's log return ``r_t = log(close_t / open_t)`` is, with ``eps_t ~ N(0, 1)``:

  - trending: ``r_t = mu_t + sigma_t eps_t``, latent drift ``mu_t = phi mu_{t-1} + eta_t``
    (``phi = trend_persistence``), stationary std ``trend_drift_std``, started from its
    stationary law each session;
  - mean-reverting: ``r_t = -kappa (log close_{t-1} - log anchor) + sigma_t eps_t`` with the
    anchor the session's first open and ``kappa = mean_reversion_speed`` (0 pull on bar 0);
  - volatile: ``r_t = sigma_t eps_t`` (sigma already scaled up), no drift.

* **Prices.** Inside a session ``open_{t+1} = close_t`` exactly (continuous trading: a position
  filled at the next open earns exactly the next bars' returns). The first open of a session is
  the previous close times ``exp(g)``, ``g ~ N(0, gap_volatility)``; the first session opens at
  ``start_price``. ``high = max(open, close) exp(range_scale sigma_t |z|)`` and
  ``low = min(open, close) exp(-range_scale sigma_t |z'|)``.
* **Volume.** ``base_volume (1 + volume_u_shape (2x - 1)^2)`` times ``volatile_volume_multiplier``
  in volatile sessions, times log-normal noise of log-std ``volume_noise`` (mean one), rounded to
  whole shares (at least one).
* **The predictable part.** ``expected_return[t] = E[r_{t+1} | everything up to the close of t]``
  is computed exactly: ``phi mu_t`` (trending), ``-kappa (log close_t - log anchor)``
  (mean-reverting), ``0`` (volatile) and ``0`` on each session's last bar.

With the defaults (sigma 5 bps per minute at mid-day) the signal is weak per bar - the
correlation of ``expected_return`` with the next bar's realized return is about 0.1 - but real:
:func:`oracle_positions` trading it at the next open stays clearly profitable after 1.5 bps per
side of costs.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.signal import lfilter

from intraday_rl.data.config import SyntheticMarketConfig
from intraday_rl.data.sessions import Session, session_bounds_ns, split_sessions
from intraday_rl.shared.arrays import FloatArray, IntArray
from intraday_rl.shared.constants import (
    CLOSE,
    HIGH,
    LOW,
    NS_PER_MINUTE,
    OPEN,
    SYMBOL,
    TIMESTAMP,
    VOLUME,
)
from intraday_rl.shared.errors import DataError

__all__ = [
    "DEFAULT_ORACLE_THRESHOLD",
    "GeneratedMarket",
    "Regime",
    "generate_market",
    "oracle_positions",
]

DEFAULT_ORACLE_THRESHOLD: Final = 1.0e-4
"""1 bp of expected next-bar log return: below a round trip's 3 bps of cost, because a position,
once opened, is held for many bars while the drift persists."""


class Regime(StrEnum):
    """The behaviour of one session of the built-in market."""

    TRENDING = "trending"
    MEAN_REVERTING = "mean_reverting"
    VOLATILE = "volatile"


_REGIMES: Final = tuple(Regime)
_TRENDING, _MEAN_REVERTING, _VOLATILE = range(3)
_LOG = logging.getLogger(__name__)
_NO_TIMES: Final = np.empty(0, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class GeneratedMarket:
    """Bars of the built-in market with the generator's exact conditional expectation.

    Attributes:
        bars: Canonical OHLCV frame (the columns and dtypes :func:`load_ohlcv` returns), sorted
            by (symbol, timestamp).
        expected_return: float64, one per row of ``bars``: ``E[log(close/open)]`` of the next
            bar given everything up to this bar's close; 0 on a session's last bar.
        regimes: Columns ``symbol``, ``date`` (``datetime.date``), ``regime`` (a
            :class:`Regime` value), one row per session.
        config: The config that generated this market.
    """

    bars: pd.DataFrame
    expected_return: FloatArray
    regimes: pd.DataFrame
    config: SyntheticMarketConfig

    def sessions(self, *, min_bars: int = 2) -> list[Session]:
        """Split :attr:`bars` into sessions with the config's calendar."""
        return split_sessions(self.bars, self.config.calendar, min_bars=min_bars)

    def oracle_signal(self, session: Session) -> FloatArray:
        """Return the ``expected_return`` rows of ``session`` (a copy, aligned with its bars).

        Raises:
            DataError: If the session's symbol or timestamps are not bars of this market.
        """
        first_row, ts_ns = self._rows_by_symbol.get(session.symbol, (0, _NO_TIMES))
        found = np.searchsorted(ts_ns, session.ts_ns)
        if not ((found < ts_ns.shape[0]).all() and (ts_ns[found] == session.ts_ns).all()):
            raise DataError(
                f"oracle_signal: session ({session.symbol!r}, {session.date}) is not from this "
                f"market (symbols: {', '.join(self.config.symbols)}, seed {self.config.seed})"
            )
        return np.asarray(self.expected_return[first_row + found], dtype=np.float64)

    @cached_property
    def _rows_by_symbol(self) -> dict[str, tuple[int, IntArray]]:
        # Bars are sorted by (symbol, timestamp): each symbol is one block of rows.
        symbols = self.bars[SYMBOL].to_numpy()
        ts_ns = np.asarray(pd.DatetimeIndex(self.bars[TIMESTAMP]).asi8, dtype=np.int64)
        names, starts, counts = np.unique(symbols, return_index=True, return_counts=True)
        return {
            str(name): (int(start), ts_ns[start : start + count])
            for name, start, count in zip(names, starts, counts, strict=True)
        }


def oracle_positions(
    signal: npt.ArrayLike, threshold: float = DEFAULT_ORACLE_THRESHOLD
) -> FloatArray:
    """Map an expected next-bar return to a target position per bar: +1, -1 or 0.

    Long where ``signal > threshold``, short where ``signal < -threshold``, flat otherwise. The
    position chosen at bar t is meant to be filled at bar t+1's open.

    >>> oracle_positions([2e-4, 0.5e-4, -3e-4]).tolist()
    [1.0, 0.0, -1.0]
    """
    values = np.asarray(signal, dtype=np.float64)
    return np.where(values > threshold, 1.0, np.where(values < -threshold, -1.0, 0.0))


def generate_market(config: SyntheticMarketConfig | None = None) -> GeneratedMarket:
    """Generate the built-in market; the same config gives identical output on every run.

    Args:
        config: Model and calendar parameters; the defaults when omitted.

    Returns:
        The bars, the exact expected next-bar returns and each session's regime.
    """
    config = config or SyntheticMarketConfig()
    _LOG.info(
        "generating built-in market: %d sessions x %d symbols, seed %d, config %s",
        config.n_sessions,
        len(config.symbols),
        config.seed,
        config.config_hash()[:12],
    )
    n_bars = config.calendar.session_minutes
    days = np.busday_offset(
        np.datetime64(config.start_date, "D"), np.arange(config.n_sessions), roll="forward"
    )
    open_ns, _ = session_bounds_ns(days, config.calendar)
    ts_ns = (open_ns[:, None] + np.arange(n_bars, dtype=np.int64) * NS_PER_MINUTE).ravel()
    dates: list[dt.date] = days.astype(object).tolist()
    frames, expected, regime_frames = [], [], []
    for symbol in sorted(config.symbols):
        path = _simulate_symbol(config, _symbol_rng(config.seed, symbol))
        frames.append(_bars_frame(symbol, ts_ns, path))
        expected.append(path.expected.ravel())
        regime_frames.append(
            pd.DataFrame(
                {
                    SYMBOL: pd.Series([symbol] * config.n_sessions, dtype="str"),
                    "date": pd.Series(dates, dtype=object),
                    "regime": pd.Series([_REGIMES[k].value for k in path.regimes], dtype="str"),
                }
            )
        )
    return GeneratedMarket(
        bars=pd.concat(frames, ignore_index=True),
        expected_return=np.concatenate(expected),
        regimes=pd.concat(regime_frames, ignore_index=True),
        config=config,
    )


def _symbol_rng(seed: int, symbol: str) -> np.random.Generator:
    # The symbol's name is part of the seed: a symbol's path does not depend on the others.
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=tuple(symbol.encode())))


@dataclass(frozen=True, slots=True)
class _SymbolPath:
    # Per-session rows, per-bar columns: shape (n_sessions, n_bars) except ``regimes``.
    regimes: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    expected: FloatArray


def _simulate_symbol(config: SyntheticMarketConfig, rng: np.random.Generator) -> _SymbolPath:
    n_sessions, n_bars = config.n_sessions, config.calendar.session_minutes
    regimes = _regime_chain(config, rng)
    volatile = regimes == _VOLATILE
    sigma = (
        config.base_volatility
        * _u_shape(n_bars, config.volatility_u_shape)[None, :]
        * np.where(volatile, config.volatile_multiplier, 1.0)[:, None]
    )
    shocks = sigma * rng.standard_normal((n_sessions, n_bars))
    returns, expected = _returns(config, regimes, shocks, rng)
    gaps = rng.normal(0.0, config.gap_volatility, n_sessions)
    gaps[0] = 0.0
    open_, close = _prices(returns, gaps, config.start_price)
    stretch = config.range_scale * sigma
    high = np.maximum(open_, close) * np.exp(stretch * np.abs(rng.standard_normal(sigma.shape)))
    low = np.minimum(open_, close) * np.exp(-stretch * np.abs(rng.standard_normal(sigma.shape)))
    noise = config.volume_noise
    volume = (
        config.base_volume
        * _u_shape(n_bars, config.volume_u_shape)[None, :]
        * np.where(volatile, config.volatile_volume_multiplier, 1.0)[:, None]
        * np.exp(noise * rng.standard_normal(sigma.shape) - 0.5 * noise**2)
    )
    return _SymbolPath(
        regimes=regimes,
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=np.maximum(np.rint(volume), 1.0),
        expected=expected,
    )


def _u_shape(n_bars: int, depth: float) -> FloatArray:
    # 1 at mid-day, 1 + depth at the open and the close.
    x = (np.arange(n_bars, dtype=np.float64) + 0.5) / n_bars
    return np.asarray(1.0 + depth * (2.0 * x - 1.0) ** 2, dtype=np.float64)


def _regime_chain(config: SyntheticMarketConfig, rng: np.random.Generator) -> IntArray:
    # Vectorized Markov chain: a session either keeps its regime or redraws from pi; each session
    # takes the draw of the latest redraw at or before it.
    n_sessions = config.n_sessions
    draws = rng.choice(len(_REGIMES), size=n_sessions, p=np.asarray(config.regime_probabilities))
    redraw = rng.random(n_sessions) >= config.regime_persistence
    redraw[0] = True
    latest = np.maximum.accumulate(np.where(redraw, np.arange(n_sessions), 0))
    return np.asarray(draws[latest], dtype=np.int64)


def _returns(
    config: SyntheticMarketConfig,
    regimes: IntArray,
    shocks: FloatArray,
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray]:
    # Bar log returns and the exact expectation of the next one, regime by regime (rows).
    drift_noise = rng.standard_normal(shocks.shape)
    drift_start = rng.standard_normal((shocks.shape[0],))
    returns = shocks.copy()
    expected = np.zeros_like(shocks)
    trending = regimes == _TRENDING
    if trending.any():
        phi, drift_std = config.trend_persistence, config.trend_drift_std
        # mu_t = phi mu_{t-1} + eta_t, with mu_{-1} drawn from the stationary law.
        initial = (phi * drift_std * drift_start[trending])[:, None]
        innovations = drift_std * np.sqrt(1.0 - phi**2) * drift_noise[trending]
        filtered = lfilter([1.0], [1.0, -phi], innovations, axis=1, zi=initial)
        drift = np.asarray(filtered[0], dtype=np.float64)
        returns[trending] += drift
        expected[trending] = phi * drift
    reverting = regimes == _MEAN_REVERTING
    if reverting.any():
        kappa = config.mean_reversion_speed
        # x_t = log close_t - log anchor = (1 - kappa) x_{t-1} + shock_t, x_{-1} = 0.
        deviation = np.asarray(lfilter([1.0], [1.0, -(1.0 - kappa)], shocks[reverting], axis=1))
        previous = np.zeros_like(deviation)
        previous[:, 1:] = deviation[:, :-1]
        returns[reverting] -= kappa * previous
        expected[reverting] = -kappa * deviation
    expected[:, -1] = 0.0
    return returns, expected


def _prices(
    returns: FloatArray, gaps: FloatArray, start_price: float
) -> tuple[FloatArray, FloatArray]:
    # Closes from the cumulative log path; opens copy the previous close exactly, times exp(gap)
    # on each session's first bar.
    steps = returns.copy()
    steps[:, 0] += gaps
    close = np.exp(np.log(start_price) + np.cumsum(steps.ravel())).reshape(returns.shape)
    open_ = np.empty_like(close)
    open_[:, 1:] = close[:, :-1]
    open_[0, 0] = start_price
    open_[1:, 0] = close[:-1, -1] * np.exp(gaps[1:])
    return open_, close


def _bars_frame(symbol: str, ts_ns: IntArray, path: _SymbolPath) -> pd.DataFrame:
    return pd.DataFrame(
        {
            TIMESTAMP: pd.DatetimeIndex(ts_ns.view("datetime64[ns]")).tz_localize("UTC"),
            SYMBOL: pd.Series([symbol] * ts_ns.shape[0], dtype="str"),
            OPEN: path.open.ravel(),
            HIGH: path.high.ravel(),
            LOW: path.low.ravel(),
            CLOSE: path.close.ravel(),
            VOLUME: path.volume.ravel(),
        }
    )
