"""Orders as the execution engine and its brokers see them: status, timing, what is left."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from intraday_rl.shared.errors import ExecutionError

OrderTiming = Literal["next_open", "close"]


class OrderStatus(StrEnum):
    """Where an order stands at the broker; every status but the first two ends it."""

    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


OPEN_STATUSES = frozenset({OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED})


@dataclass(slots=True)
class Order:
    """A market order for ``quantity`` shares (> 0 buys, < 0 sells) of one symbol.

    ``timing="next_open"`` fills at the open of a later bar (the broker's fill delay);
    ``"close"`` is a market-on-close order that fills at the close of the bar just seen (the
    env's closing trade). ``reason`` says why the engine sent it (``POLICY``, ``SESSION_CLOSE``,
    ``KILL_SWITCH``, ...). The broker owns ``status``, ``filled_quantity`` and ``reject_reason``.

    Raises:
        ExecutionError: an empty id or symbol, a quantity that is 0, NaN or inf.
    """

    client_order_id: str
    symbol: str
    quantity: float
    ts_ns: int
    timing: OrderTiming = "next_open"
    reason: str = "POLICY"
    status: OrderStatus = OrderStatus.ACCEPTED
    filled_quantity: float = 0.0
    reject_reason: str = ""

    def __post_init__(self) -> None:
        if not self.client_order_id:
            raise ExecutionError("order.client_order_id: expected a non-empty string, was ''")
        if not self.symbol:
            raise ExecutionError(
                f"order {self.client_order_id}: symbol: expected a non-empty string, was ''"
            )
        if not math.isfinite(self.quantity) or self.quantity == 0.0:
            raise ExecutionError(
                f"order {self.client_order_id}: quantity: expected a finite non-zero number of "
                f"shares, was {self.quantity}"
            )
        if self.timing not in ("next_open", "close"):
            raise ExecutionError(
                f"order {self.client_order_id}: timing: expected 'next_open' or 'close', "
                f"was {self.timing!r}"
            )

    @property
    def remaining(self) -> float:
        """Signed shares not filled yet (0 once the order has ended)."""
        if self.status not in OPEN_STATUSES:
            return 0.0
        return self.quantity - self.filled_quantity

    @property
    def is_open(self) -> bool:
        """True while the order may still fill."""
        return self.status in OPEN_STATUSES
