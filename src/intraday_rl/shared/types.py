"""Small immutable value types passed between contexts (env, risk, execution)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class PortfolioState:
    """A portfolio snapshot at one bar: what the risk engine and the observation see.

    Money in account currency; ``position`` in shares (signed); ``exposure`` is
    ``position * price / equity``; ``drawdown`` is the fraction below the session's peak equity.
    """

    ts_ns: int
    symbol: str
    price: float
    cash: float
    position: float
    equity: float
    initial_capital: float
    peak_equity: float
    realized_pnl: float
    unrealized_pnl: float
    costs_paid: float
    time_left: float

    @property
    def exposure(self) -> float:
        return self.position * self.price / self.equity if self.equity > 0 else 0.0

    @property
    def drawdown(self) -> float:
        return 1.0 - self.equity / self.peak_equity if self.peak_equity > 0 else 0.0


@dataclass(frozen=True, slots=True)
class TradeRequest:
    """An order intent before risk checks: buy (quantity > 0) or sell (quantity < 0) shares.

    ``reference_price`` is the price the requester sized the order with; ``client_order_id``
    (optional) lets the risk engine detect duplicates and match fills to the order.
    """

    ts_ns: int
    symbol: str
    quantity: float
    reference_price: float
    order_type: str = "market"
    limit_price: float | None = None
    client_order_id: str | None = None


class RiskAction(IntEnum):
    """What a risk decision does, ordered by severity: the most severe action wins.

    ``ALLOW`` sends the order; ``WARN`` sends it and flags it; ``REDUCE`` sends a smaller order
    (``allowed_quantity``); ``BLOCK`` rejects this order; ``HALT`` rejects it and halts trading
    until an explicit re-arm; ``LIQUIDATE`` halts new risk and asks for the positions to be closed.
    """

    ALLOW = 0
    WARN = 1
    REDUCE = 2
    BLOCK = 3
    HALT = 4
    LIQUIDATE = 5


class RiskDecision(NamedTuple):
    """The risk engine's verdict on one :class:`TradeRequest` (a value, never an exception).

    Attributes:
        action: The most severe action of every rule that fired (``ALLOW`` when none did).
        allowed_quantity: Signed shares that may be sent: the request's quantity for ``ALLOW`` and
            ``WARN``, a smaller quantity of the same sign for ``REDUCE``, the risk-reducing part
            for ``LIQUIDATE``, 0 for ``BLOCK`` and ``HALT``.
        reason_codes: Stable codes (``intraday_rl.risk.ReasonCode``, a ``StrEnum``) of every rule
            that fired, in check order; empty for ``ALLOW``.
        metrics: Risk metrics (``risk/...`` keys) of the account at the last update.
        evidence: One ``CODE key=value ...`` line per reason code.
    """

    action: RiskAction
    allowed_quantity: float
    reason_codes: tuple[str, ...]
    metrics: Mapping[str, float]
    evidence: tuple[str, ...] = ()

    @property
    def approved(self) -> bool:
        """True when some quantity may be sent (``allowed_quantity`` is not 0)."""
        return self.allowed_quantity != 0.0


@dataclass(frozen=True, slots=True)
class Bar:
    """One OHLCV bar of one symbol; ``ts_ns`` is the bar's close time (ns since the epoch, UTC)."""

    ts_ns: int
    symbol: str
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True, slots=True)
class Fill:
    """An execution: ``quantity`` shares bought (> 0) or sold (< 0) at ``price``, paid ``cost``."""

    ts_ns: int
    symbol: str
    quantity: float
    price: float
    cost: float = 0.0
    client_order_id: str | None = None


class OrderEventKind(StrEnum):
    """What happened to a working order besides fills."""

    ACKNOWLEDGED = "acknowledged"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """A broker event on a working order; any kind but ``ACKNOWLEDGED`` ends the order.

    Orders are matched by ``client_order_id``; without one, ``quantity`` (signed shares still
    working) says how much working quantity of ``symbol`` to release.
    """

    ts_ns: int
    symbol: str
    kind: OrderEventKind
    client_order_id: str | None = None
    quantity: float = 0.0
