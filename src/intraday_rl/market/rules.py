"""Trading rules: how a policy's action becomes a target, the target an order, the order a fill.

One implementation for every place that turns a decision into an order, read top to bottom:

1. :class:`ActionMap` — the action becomes a target exposure (fraction of equity): a discrete
   action picks one of the position levels, a box action is clipped to ``±max_exposure``
   (:func:`clip_exposure`).
2. :func:`target_shares` — the exposure becomes shares at the decision price, in whole lots.
3. :func:`places_order` — the rebalance deadband: a target too close to the last one places no
   order.
4. The fill-delay queue (:func:`new_fill_queue`, :func:`queue_order`, :func:`due_quantity`) — an
   order decided at the close of bar ``t`` fills at the open of bar ``t + fill_delay_bars``.

The scalar env calls these as plain Python, the vectorized env's numba kernel compiles the same
function objects (every function here but :class:`ActionMap`, whose per-env part is
:func:`clip_exposure`), and the execution engine calls them per bar with the values a bundle's
metadata records (action kind and levels, ``ActingRules``), so a policy meets the same rules
everywhere.
"""

from __future__ import annotations

import math
from collections.abc import MutableSequence, Sequence
from typing import Any, Literal

import numpy as np

from intraday_rl.shared.errors import ActionError

ActionKind = Literal["discrete", "box"]


def clip_exposure(exposure: float, max_exposure: float) -> float:
    """Clip a target exposure to ``[-max_exposure, max_exposure]``.

    >>> clip_exposure(1.7, 1.0), clip_exposure(-0.25, 1.0)
    (1.0, -0.25)
    """
    return min(max(exposure, -max_exposure), max_exposure)


class ActionMap:
    """Maps a policy's action to a target exposure (signed fraction of equity).

    ``kind="discrete"``: the action is an index into ``position_levels``. ``kind="box"``: the
    action (a number, or an array whose first element is used) is the exposure itself, clipped
    by :func:`clip_exposure`.

    Raises:
        ActionError: at construction, no levels for a discrete map or ``max_exposure <= 0``;
            in :meth:`target_exposure`, an index out of range or a non-finite box value.
    """

    __slots__ = ("_discrete", "_levels", "kind", "max_exposure", "position_levels")

    def __init__(
        self, kind: ActionKind, position_levels: Sequence[float], max_exposure: float
    ) -> None:
        if kind not in ("discrete", "box"):
            raise ActionError(f"action kind: expected 'discrete' or 'box', was {kind!r}")
        if not max_exposure > 0.0:
            raise ActionError(f"max_exposure: expected > 0, was {max_exposure}")
        if kind == "discrete" and not position_levels:
            raise ActionError("position_levels: expected at least one level, was none")
        self.kind: ActionKind = kind
        self.position_levels = tuple(float(level) for level in position_levels)
        self.max_exposure = float(max_exposure)
        self._discrete = kind == "discrete"
        self._levels = list(self.position_levels)

    @property
    def n_actions(self) -> int | None:
        """Number of discrete actions (None for a box map)."""
        return len(self._levels) if self._discrete else None

    def target_exposure(self, action: Any) -> float:
        """Return the target exposure the policy's ``action`` asks for."""
        if self._discrete:
            index = int(action)
            if not 0 <= index < len(self._levels):
                raise ActionError(f"action: expected 0..{len(self._levels) - 1}, was {action!r}")
            return self._levels[index]
        value = float(np.asarray(action, dtype=np.float64).reshape(-1)[0])
        if not math.isfinite(value):
            raise ActionError(f"action: expected a finite target exposure, was {value}")
        return clip_exposure(value, self.max_exposure)


def target_shares(exposure: float, equity: float, price: float, lot: float) -> float:
    """Shares for a target exposure (fraction of equity) at ``price``, truncated to whole lots."""
    return float(math.trunc(exposure * max(equity, 0.0) / price / lot)) * lot


def places_order(
    target: float, intended: float, price: float, equity: float, deadband: float
) -> bool:
    """Whether a new target differs enough from the last one to become an order.

    Going flat always trades; otherwise the change must be worth at least ``deadband`` of equity.
    """
    if target == intended:
        return False
    return target == 0.0 or abs(target - intended) * price >= deadband * equity


def new_fill_queue(fill_delay_bars: int) -> list[float]:
    """Return an empty fill-delay queue: one slot per bar of delay, NaN where nothing is due.

    The vectorized env keeps one such row per env in a float array filled with NaN.
    """
    return [math.nan] * fill_delay_bars


def queue_order(queue: MutableSequence[float], bar: int, target: float) -> None:
    """Queue the order to reach ``target`` shares, decided at the close of ``bar``.

    It becomes due at the open of bar ``bar + len(queue)``, replacing any order decided
    ``len(queue)`` bars earlier that is still waiting (none can be: it is taken on its bar).
    """
    queue[bar % len(queue)] = target


def due_quantity(queue: MutableSequence[float], bar: int, position: float) -> float:
    """Take the target due at the open of ``bar``; return the shares to trade to reach it.

    Returns 0.0 when no order is due (or the position already is the target). The slot is
    emptied either way.
    """
    slot = bar % len(queue)
    due = queue[slot]
    if math.isnan(due):
        return 0.0
    queue[slot] = math.nan
    return due - position
