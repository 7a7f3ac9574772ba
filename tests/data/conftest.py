"""Fixtures for the data context: small valid bar frames and generated markets."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pytest

from intraday_rl.data import GeneratedMarket, SyntheticMarketConfig, generate_market

BarsFactory = Callable[..., pd.DataFrame]


def _make_bars(
    n_bars: int = 5,
    symbols: Sequence[str] = ("SYN",),
    start: str = "2024-01-02T14:30:00Z",
    step: str = "1min",
) -> pd.DataFrame:
    """Valid canonical bars: ``n_bars`` per symbol, prices rising by 0.01 a bar."""
    frames = []
    for k, symbol in enumerate(symbols):
        stamps = pd.date_range(start, periods=n_bars, freq=step, unit="ns")
        close = 100.0 + 10.0 * k + 0.01 * np.arange(1, n_bars + 1)
        frames.append(
            pd.DataFrame(
                {
                    "timestamp": stamps,
                    "symbol": pd.Series([symbol] * n_bars, dtype="str"),
                    "open": close - 0.01,
                    "high": close + 0.05,
                    "low": close - 0.06,
                    "close": close,
                    "volume": np.full(n_bars, 1_000.0),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture
def make_bars() -> BarsFactory:
    """Build valid canonical bars: ``make_bars(n_bars, symbols, start, step)``."""
    return _make_bars


@pytest.fixture(scope="session")
def market() -> GeneratedMarket:
    """The default built-in market (250 sessions of one symbol), generated once per test run."""
    return generate_market(SyntheticMarketConfig())


@pytest.fixture(scope="session")
def two_symbol_market() -> GeneratedMarket:
    """A short two-symbol market."""
    return generate_market(SyntheticMarketConfig(n_sessions=6, symbols=("BBB", "AAA")))
