"""What every pre-trade check shares: its inputs, its result and the exposure arithmetic.

A check is a pure function of (request, :class:`PreTradeState`, limits) returning a
:class:`Breach` or None; a :class:`Control` is a check with its reason code, limit fields and pass
condition. The controls themselves live in :mod:`intraday_rl.risk.controls`. A breach
carries its code, the action in force, the quantity a ``REDUCE`` would send, and ``key=value``
evidence. Checks never raise on purpose: the engine turns an exception into a
``CALCULATOR_FAULT`` block.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Set
from dataclasses import dataclass
from typing import Literal, NamedTuple

from intraday_rl.risk.book import AccountBook, SymbolBook
from intraday_rl.risk.codes import CLIPPABLE_CODES, ReasonCode
from intraday_rl.risk.limits import CompiledLimits
from intraday_rl.shared.types import RiskAction, TradeRequest


class PreTradeState(NamedTuple):
    """What a check may read: the account, the symbol's book, the time and the reference price."""

    account: AccountBook
    book: SymbolBook
    now_ns: int
    reference_price: float
    seen_order_ids: Set[str]


class Breach(NamedTuple):
    """A rule that fired: ``allowed_quantity`` is what a REDUCE would send (signed)."""

    code: ReasonCode
    action: RiskAction
    allowed_quantity: float
    evidence: str


Check = Callable[[TradeRequest, PreTradeState, CompiledLimits], "Breach | None"]


def order_price(request: TradeRequest) -> float:
    """The price an order is valued and collared at: its limit price, else its reference price."""
    return request.limit_price if request.limit_price is not None else request.reference_price


def worst_after(book: SymbolBook, quantity: float) -> float:
    """Worst-case |position| of ``book`` after an order of ``quantity`` joins the working orders."""
    if quantity > 0.0:
        return max(book.position + book.working_buy + quantity, book.working_sell - book.position)
    return max(book.position + book.working_buy, book.working_sell - book.position - quantity)


def reducing_part(book: SymbolBook, quantity: float) -> float:
    """The part of ``quantity`` that shrinks |position| without flipping it (working filled)."""
    if quantity > 0.0:
        return min(quantity, max(0.0, -(book.position + book.working_buy)))
    return max(quantity, min(0.0, book.working_sell - book.position))


def is_reduce_only(book: SymbolBook, quantity: float) -> bool:
    """True when the whole order is risk-reducing (:func:`reducing_part` is all of it)."""
    return reducing_part(book, quantity) == quantity


def make_breach(
    code: ReasonCode,
    request: TradeRequest,
    state: PreTradeState,
    limits: CompiledLimits,
    clip: float,
    evidence: str,
) -> Breach:
    # ``clip`` is the largest |quantity| that fits a clippable limit at REDUCE; a LIQUIDATE, and
    # any other code, lets only the risk-reducing part go (0 from flat), never a clipped order
    # that still adds risk.
    action = limits.actions[code]
    if code in CLIPPABLE_CODES and action != RiskAction.LIQUIDATE:
        allowed = math.copysign(max(0.0, min(clip, abs(request.quantity))), request.quantity)
    else:
        allowed = reducing_part(state.book, request.quantity)
    return Breach(code, action, allowed, f"{code} {evidence}")


def headroom_quantity(
    book: SymbolBook, quantity: float, headroom: float, per_share: float
) -> float:
    # Largest |q| whose rise of worst-case exposure, valued at ``per_share``, fits ``headroom``.
    if not per_share > 0.0:
        return 0.0
    side = book.position + book.working_buy if quantity > 0.0 else book.working_sell - book.position
    return max(0.0, book.worst_position + headroom / per_share - side)


Stage = Literal["order", "exposure"]


@dataclass(frozen=True)
class Control:
    """One pre-trade control; call it as its check: ``control(request, state, limits)``.

    Attributes:
        code: The reason code it reports.
        check: The full check (the specification): a breach, or None.
        limits: The fields it reads: ``CompiledLimits`` attributes, ``symbol.<name>`` for a
            per-symbol limit (``SymbolLimits``).
        passes: The pass condition as an expression over the names that
            :mod:`intraday_rl.risk.controls` lists: True only when ``check`` returns None.
        stage: ``exposure`` for the post-trade exposure controls (only a rise of ``W`` can fire).
        conservative: Why ``passes`` may be False although the check passes ("" when never).
    """

    code: ReasonCode
    check: Check
    limits: tuple[str, ...]
    passes: str
    stage: Stage = "order"
    conservative: str = ""

    def __call__(
        self, request: TradeRequest, state: PreTradeState, limits: CompiledLimits
    ) -> Breach | None:
        return self.check(request, state, limits)


def control(
    code: ReasonCode,
    limits: tuple[str, ...],
    passes: str,
    stage: Stage = "order",
    conservative: str = "",
) -> Callable[[Check], Control]:
    """Make the decorated check a :class:`Control` (the arguments are its fields)."""

    def wrap(check: Check) -> Control:
        return Control(code, check, limits, passes, stage, conservative)

    return wrap


def exposure_rise(state: PreTradeState, quantity: float) -> float:
    """How much the order raises its symbol's worst-case |position| W (shares; <= 0: none)."""
    return worst_after(state.book, quantity) - state.book.worst_position


def gross_after(state: PreTradeState, rise: float) -> float:
    """Worst-case gross exposure (currency) after an order that raises W by ``rise`` shares."""
    return state.account.gross_worst + rise * state.reference_price
