"""Constants, small value types and the error hierarchy shared by every bounded context."""

from intraday_rl.shared.errors import (
    ConfigError,
    DataError,
    EnvError,
    FeatureError,
    IntradayRLError,
)
from intraday_rl.shared.types import PortfolioState, TradeRequest

__all__ = [
    "ConfigError",
    "DataError",
    "EnvError",
    "FeatureError",
    "IntradayRLError",
    "PortfolioState",
    "TradeRequest",
]
