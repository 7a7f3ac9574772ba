"""Where a run's market data comes from: the built-in market or a file, split by date.

One config (``DataSourceConfig``) and one function (:func:`load_market_data`) turn a data source
into sessions, the chronological split, and a fingerprint that identifies the exact bars used.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from intraday_rl.data.config import SessionCalendar, SplitConfig, SyntheticMarketConfig
from intraday_rl.data.diagnostics import detect_calendar, split_and_diagnose
from intraday_rl.data.loading import load_ohlcv
from intraday_rl.data.sessions import Session, split_sessions
from intraday_rl.data.splits import SessionSplit, split_chronological
from intraday_rl.data.synthetic import GeneratedMarket, generate_market
from intraday_rl.shared.config import FrozenConfig


class DataSourceConfig(FrozenConfig):
    """A run's market data: the built-in market (default) or an OHLCV file, and its split."""

    source: Literal["builtin", "file"] = Field(
        "builtin", description="'builtin': the generated market; 'file': CSV/Parquet at `path`."
    )
    builtin: SyntheticMarketConfig = Field(
        default_factory=SyntheticMarketConfig,
        description="Built-in market parameters (sessions, seed, symbols, its calendar).",
    )
    path: Path | None = Field(None, description="OHLCV file or partitioned Parquet folder.")
    symbol: str | None = Field(None, description="Keep only this symbol from the file.")
    default_timezone: str | None = Field(
        None, description="Zone of naive timestamps in the file, e.g. 'America/New_York'."
    )
    timestamp_format: str | None = Field(
        None, description="strftime format of text timestamps, e.g. '%d.%m.%Y %H:%M:%S.%f'."
    )
    columns: dict[str, str] | None = Field(
        None,
        description="The file's names of canonical columns where they differ, e.g. "
        "{timestamp: Time}; without it Date / Datetime / Time / the unnamed index are recognized.",
    )
    calendar: SessionCalendar | Literal["auto"] = Field(
        default_factory=SessionCalendar,
        description="Session calendar of the file (the built-in market carries its own): a "
        "mapping, a preset name (us_equities, fx_24h, cme_globex) or 'auto' (detect_calendar).",
    )
    split: SplitConfig = Field(
        default_factory=SplitConfig, description="Chronological train/validation/test split."
    )

    @model_validator(mode="after")
    def _path_matches_source(self) -> DataSourceConfig:
        if self.source == "file" and self.path is None:
            raise ValueError("path: required when source is 'file'")
        if self.source == "builtin" and self.path is not None:
            raise ValueError("path: only used when source is 'file' (set source: file)")
        return self


@dataclass(frozen=True, slots=True)
class MarketData:
    """Sessions of a data source, their split, and the generator when the market is built in."""

    sessions: tuple[Session, ...]
    split: SessionSplit
    fingerprint: str
    market: GeneratedMarket | None = None


def load_market_data(config: DataSourceConfig) -> MarketData:
    """Load or generate the bars, split them into sessions and into train/validation/test."""
    market: GeneratedMarket | None = None
    if config.source == "builtin":
        market = generate_market(config.builtin)
        sessions = split_sessions(market.bars, config.builtin.calendar)
    else:
        assert config.path is not None  # guaranteed by the validator
        bars = load_ohlcv(
            config.path,
            symbol=config.symbol,
            default_timezone=config.default_timezone,
            timestamp_format=config.timestamp_format,
            columns=config.columns,
        )
        calendar = detect_calendar(bars)[1] if config.calendar == "auto" else config.calendar
        sessions, report = split_and_diagnose(bars, calendar)
        report.raise_if_unusable(str(config.path))
    split = split_chronological(sessions, config.split)
    return MarketData(tuple(sessions), split, data_fingerprint(sessions), market)


def data_fingerprint(sessions: Sequence[Session]) -> str:
    """sha256 over every session's symbol, timestamps and OHLCV values (order matters)."""
    digest = hashlib.sha256()
    for session in sessions:
        digest.update(session.symbol.encode())
        for values in (
            session.ts_ns,
            session.open,
            session.high,
            session.low,
            session.close,
            session.volume,
        ):
            digest.update(values.tobytes())
    return digest.hexdigest()
