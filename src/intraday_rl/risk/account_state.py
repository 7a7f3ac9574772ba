"""Account-state rules: daily loss, drawdowns and volatility (pure, like :mod:`.controls`).

They fire without an order (the account is past a limit), so they are not per-order controls:
the engine takes the fast path only while :func:`account_state_clear` holds, and the full path
runs :func:`check_account_state` before the controls.
"""

from __future__ import annotations

from intraday_rl.risk.book import AccountBook
from intraday_rl.risk.checks import Breach, PreTradeState, is_reduce_only, make_breach
from intraday_rl.risk.codes import ReasonCode
from intraday_rl.risk.limits import CompiledLimits
from intraday_rl.shared.types import RiskAction, TradeRequest


def account_state_values(account: AccountBook) -> tuple[float, float, float]:
    """Return ``(daily_loss, drawdown, intraday_drawdown)``, fractions (see the limits)."""
    return account.daily_loss, account.peak.drawdown, account.intraday.drawdown


def account_state_clear(account: AccountBook, limits: CompiledLimits) -> bool:
    """True when no account-state rule fires (NaN values never clear: fail closed)."""
    daily_loss, drawdown, intraday = account_state_values(account)
    return (
        daily_loss <= limits.max_daily_loss
        and drawdown <= limits.max_drawdown
        and intraday <= limits.max_intraday_drawdown
    )


def check_account_state(
    request: TradeRequest, state: PreTradeState, limits: CompiledLimits
) -> list[Breach]:
    """DAILY_LOSS, DRAWDOWN, INTRADAY_DRAWDOWN, VOLATILITY: the account is past a state limit.

    A rule fires on orders that are not reduce-only, and on every order when its action is
    ``HALT`` or ``LIQUIDATE``.
    """
    daily_loss, drawdown, intraday = account_state_values(state.account)
    volatility = state.book.annualized_volatility(limits.bars_per_year)
    if (
        daily_loss <= limits.max_daily_loss
        and drawdown <= limits.max_drawdown
        and intraday <= limits.max_intraday_drawdown
        and volatility <= limits.max_volatility
    ):
        return []  # the common case: no state limit passed (NaN takes the loop: it fires)
    reduce_only = is_reduce_only(state.book, request.quantity)
    found = []
    for code, value, limit in (
        (ReasonCode.DAILY_LOSS, daily_loss, limits.max_daily_loss),
        (ReasonCode.DRAWDOWN, drawdown, limits.max_drawdown),
        (ReasonCode.INTRADAY_DRAWDOWN, intraday, limits.max_intraday_drawdown),
        (ReasonCode.VOLATILITY, volatility, limits.max_volatility),
    ):
        if value <= limit:
            continue
        if reduce_only and limits.actions[code] < RiskAction.HALT:
            continue
        found.append(
            make_breach(code, request, state, limits, 0.0, f"value={value:.6g} limit={limit}")
        )
    return found
