"""Names and numbers every context agrees on: OHLCV columns, time units, schema versions."""

from typing import Final

TIMESTAMP: Final = "timestamp"
OPEN: Final = "open"
HIGH: Final = "high"
LOW: Final = "low"
CLOSE: Final = "close"
VOLUME: Final = "volume"
SYMBOL: Final = "symbol"

PRICE_COLUMNS: Final = (OPEN, HIGH, LOW, CLOSE)
OHLCV_COLUMNS: Final = (TIMESTAMP, OPEN, HIGH, LOW, CLOSE, VOLUME)

DEFAULT_SYMBOL: Final = "SYN"

NS_PER_SECOND: Final = 1_000_000_000
NS_PER_MINUTE: Final = 60 * NS_PER_SECOND

BPS: Final = 1e-4

# Default discrete action levels: target exposure as a fraction of equity.
DEFAULT_POSITION_LEVELS: Final = (-1.0, 0.0, 1.0)

# Portfolio fields appended to every observation, in this order (see features.layout).
PORTFOLIO_FIELDS: Final = ("position", "unrealized_pnl", "time_left", "drawdown")

FEATURE_SPEC_SCHEMA_VERSION: Final = 1

MIN_PRICE: Final = 1e-100
"""Smallest price accepted anywhere (loading, features, training): beyond these bounds ratios,
products and sums of the feature formulas overflow or hit zero."""
MAX_PRICE: Final = 1e100
"""Largest price accepted anywhere."""
MAX_VOLUME: Final = 1e100
"""Largest bar volume accepted anywhere."""
