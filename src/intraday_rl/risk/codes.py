"""The risk engine's vocabulary: reason codes, trading states and which actions a code may take.

Reason codes are stable strings (a ``StrEnum``): journals, dashboards and tests match on them, so a
code is never renamed, only added. ``docs/risk.md`` lists each one with its meaning and action.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import Final

from intraday_rl.shared.types import RiskAction


class ReasonCode(StrEnum):
    """Why a rule fired. Each member's value is its name."""

    # Malformed input and missing data: fail closed, always BLOCK.
    INVALID_REQUEST = "INVALID_REQUEST"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    INVALID_PRICE = "INVALID_PRICE"
    UNKNOWN_SYMBOL = "UNKNOWN_SYMBOL"
    NO_REFERENCE_PRICE = "NO_REFERENCE_PRICE"
    BAD_MARKET_DATA = "BAD_MARKET_DATA"
    CLOCK_FAULT = "CLOCK_FAULT"
    PRICE_SOURCE_FAULT = "PRICE_SOURCE_FAULT"
    CALCULATOR_FAULT = "CALCULATOR_FAULT"
    BAD_FILL = "BAD_FILL"
    # Trading state: set by earlier decisions or by an operator.
    KILL_SWITCH = "KILL_SWITCH"
    TRADING_HALTED = "TRADING_HALTED"
    REDUCE_ONLY = "REDUCE_ONLY"
    # Per-order controls (15c3-5 erroneous-order controls, FIA, RTS 6).
    STALE_DATA = "STALE_DATA"
    RESTRICTED_SYMBOL = "RESTRICTED_SYMBOL"
    DUPLICATE_ORDER = "DUPLICATE_ORDER"
    MAX_ORDER_QUANTITY = "MAX_ORDER_QUANTITY"
    MAX_ORDER_NOTIONAL = "MAX_ORDER_NOTIONAL"
    PRICE_COLLAR = "PRICE_COLLAR"
    ORDER_RATE = "ORDER_RATE"
    REPEATED_EXECUTION = "REPEATED_EXECUTION"
    BAR_PARTICIPATION = "BAR_PARTICIPATION"
    ADV_PARTICIPATION = "ADV_PARTICIPATION"
    TURNOVER = "TURNOVER"
    # Post-trade exposure, counting working orders (only risk-increasing orders are checked).
    MAX_POSITION = "MAX_POSITION"
    MAX_GROSS_EXPOSURE = "MAX_GROSS_EXPOSURE"
    MAX_NET_EXPOSURE = "MAX_NET_EXPOSURE"
    MAX_LEVERAGE = "MAX_LEVERAGE"
    CONCENTRATION = "CONCENTRATION"
    VAR_LIMIT = "VAR_LIMIT"
    CVAR_LIMIT = "CVAR_LIMIT"
    # Account state (only risk-increasing orders are checked, unless the action is HALT).
    DAILY_LOSS = "DAILY_LOSS"
    DRAWDOWN = "DRAWDOWN"
    INTRADAY_DRAWDOWN = "INTRADAY_DRAWDOWN"
    VOLATILITY = "VOLATILITY"


class TradingState(Enum):
    """What the engine lets through: everything, only risk-reducing orders, or nothing."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


# Codes the policy cannot configure: bad input never trades (fail closed). Each is a BLOCK, but
# REDUCE_ONLY, which cuts the order to its risk-reducing part when it has one (REDUCE).
FIXED_CODES: Final = frozenset(
    {
        ReasonCode.INVALID_REQUEST,
        ReasonCode.INVALID_QUANTITY,
        ReasonCode.INVALID_PRICE,
        ReasonCode.UNKNOWN_SYMBOL,
        ReasonCode.NO_REFERENCE_PRICE,
        ReasonCode.BAD_MARKET_DATA,
        ReasonCode.CLOCK_FAULT,
        ReasonCode.PRICE_SOURCE_FAULT,
        ReasonCode.CALCULATOR_FAULT,
        ReasonCode.BAD_FILL,
        ReasonCode.KILL_SWITCH,
        ReasonCode.TRADING_HALTED,
        ReasonCode.REDUCE_ONLY,
    }
)

# The least severe action a configurable code may be given in the policy's ``actions``.
MIN_ACTION: Final[Mapping[ReasonCode, RiskAction]] = MappingProxyType(
    {
        ReasonCode.STALE_DATA: RiskAction.BLOCK,
        ReasonCode.RESTRICTED_SYMBOL: RiskAction.BLOCK,
        ReasonCode.DUPLICATE_ORDER: RiskAction.BLOCK,
        ReasonCode.ORDER_RATE: RiskAction.BLOCK,
        ReasonCode.REPEATED_EXECUTION: RiskAction.HALT,
    }
)

# Codes whose breach can be cured by a smaller order of the same sign (REDUCE clips to fit).
CLIPPABLE_CODES: Final = frozenset(
    {
        ReasonCode.MAX_ORDER_QUANTITY,
        ReasonCode.MAX_ORDER_NOTIONAL,
        ReasonCode.BAR_PARTICIPATION,
        ReasonCode.ADV_PARTICIPATION,
        ReasonCode.TURNOVER,
        ReasonCode.MAX_POSITION,
        ReasonCode.MAX_GROSS_EXPOSURE,
        ReasonCode.MAX_NET_EXPOSURE,
        ReasonCode.MAX_LEVERAGE,
        ReasonCode.VAR_LIMIT,
        ReasonCode.CVAR_LIMIT,
    }
)

# Account-state codes: they fire without an order (see ``account_state.check_account_state``).
STATE_CODES: Final = frozenset(
    {
        ReasonCode.DAILY_LOSS,
        ReasonCode.DRAWDOWN,
        ReasonCode.INTRADAY_DRAWDOWN,
        ReasonCode.VOLATILITY,
    }
)

# Every configurable code and its shipped action.
DEFAULT_ACTIONS: Final[Mapping[ReasonCode, RiskAction]] = MappingProxyType(
    {
        ReasonCode.STALE_DATA: RiskAction.BLOCK,
        ReasonCode.RESTRICTED_SYMBOL: RiskAction.BLOCK,
        ReasonCode.DUPLICATE_ORDER: RiskAction.BLOCK,
        ReasonCode.MAX_ORDER_QUANTITY: RiskAction.BLOCK,
        ReasonCode.MAX_ORDER_NOTIONAL: RiskAction.BLOCK,
        ReasonCode.PRICE_COLLAR: RiskAction.BLOCK,
        ReasonCode.ORDER_RATE: RiskAction.BLOCK,
        ReasonCode.REPEATED_EXECUTION: RiskAction.HALT,
        ReasonCode.BAR_PARTICIPATION: RiskAction.REDUCE,
        ReasonCode.ADV_PARTICIPATION: RiskAction.REDUCE,
        ReasonCode.TURNOVER: RiskAction.BLOCK,
        ReasonCode.MAX_POSITION: RiskAction.REDUCE,
        ReasonCode.MAX_GROSS_EXPOSURE: RiskAction.REDUCE,
        ReasonCode.MAX_NET_EXPOSURE: RiskAction.REDUCE,
        ReasonCode.MAX_LEVERAGE: RiskAction.REDUCE,
        ReasonCode.CONCENTRATION: RiskAction.WARN,
        ReasonCode.VAR_LIMIT: RiskAction.REDUCE,
        ReasonCode.CVAR_LIMIT: RiskAction.REDUCE,
        ReasonCode.DAILY_LOSS: RiskAction.REDUCE,
        ReasonCode.DRAWDOWN: RiskAction.HALT,
        ReasonCode.INTRADAY_DRAWDOWN: RiskAction.REDUCE,
        ReasonCode.VOLATILITY: RiskAction.WARN,
    }
)

CONFIGURABLE_CODES: Final = frozenset(DEFAULT_ACTIONS)
