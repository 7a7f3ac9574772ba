"""Market data: loading and validating OHLCV files, sessions, splits, the built-in market."""

from intraday_rl.data.config import (
    SessionCalendar,
    SplitConfig,
    SyntheticMarketConfig,
    WalkForwardConfig,
)
from intraday_rl.data.loading import CANONICAL_COLUMNS, load_ohlcv, write_ohlcv
from intraday_rl.data.sessions import Session, session_bounds_ns, split_sessions
from intraday_rl.data.source import (
    DataSourceConfig,
    MarketData,
    data_fingerprint,
    load_market_data,
)
from intraday_rl.data.splits import (
    Fold,
    SessionSplit,
    session_dates,
    split_chronological,
    walk_forward_folds,
)
from intraday_rl.data.synthetic import (
    DEFAULT_ORACLE_THRESHOLD,
    GeneratedMarket,
    Regime,
    generate_market,
    oracle_positions,
)
from intraday_rl.data.timestamps import TIMESTAMP_UNITS, parse_timestamps
from intraday_rl.data.validation import validate_ohlcv

__all__ = [
    "CANONICAL_COLUMNS",
    "DEFAULT_ORACLE_THRESHOLD",
    "TIMESTAMP_UNITS",
    "DataSourceConfig",
    "Fold",
    "GeneratedMarket",
    "MarketData",
    "Regime",
    "Session",
    "SessionCalendar",
    "SessionSplit",
    "SplitConfig",
    "SyntheticMarketConfig",
    "WalkForwardConfig",
    "data_fingerprint",
    "generate_market",
    "load_market_data",
    "load_ohlcv",
    "oracle_positions",
    "parse_timestamps",
    "session_bounds_ns",
    "session_dates",
    "split_chronological",
    "split_sessions",
    "validate_ohlcv",
    "walk_forward_folds",
    "write_ohlcv",
]
