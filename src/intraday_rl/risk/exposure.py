"""Post-trade exposure checks and account-state checks (pure, like :mod:`.checks`).

Exposure is worst case: positions plus every working order, each symbol at its reference price.
Only an order that raises its symbol's worst-case exposure is checked against exposure limits, so
risk-reducing orders always pass them even when prices moved the account over a limit.
"""

from __future__ import annotations

import math

from intraday_rl.risk.book import AccountBook
from intraday_rl.risk.checks import (
    Breach,
    PreTradeState,
    headroom_quantity,
    is_reduce_only,
    make_breach,
    worst_after,
)
from intraday_rl.risk.codes import ReasonCode
from intraday_rl.risk.limits import CompiledLimits
from intraday_rl.shared.types import RiskAction, TradeRequest


def exposure_rise(state: PreTradeState, quantity: float) -> float:
    """How much the order raises its symbol's worst-case |position| W (shares; <= 0: none)."""
    return worst_after(state.book, quantity) - state.book.worst_position


def gross_after(state: PreTradeState, rise: float) -> float:
    """Worst-case gross exposure (currency) after an order that raises W by ``rise`` shares."""
    return state.account.gross_worst + rise * state.reference_price


def check_gross_exposure(
    request: TradeRequest, state: PreTradeState, limits: CompiledLimits
) -> Breach | None:
    """MAX_GROSS_EXPOSURE: worst-case gross exposure above its limit."""
    rise = exposure_rise(state, request.quantity)
    if not rise > 0.0:
        return None
    gross = gross_after(state, rise)
    if gross <= limits.max_gross_exposure:
        return None
    headroom = limits.max_gross_exposure - state.account.gross_worst
    clip = headroom_quantity(state.book, request.quantity, headroom, state.reference_price)
    evidence = f"gross={gross:.2f} limit={limits.max_gross_exposure}"
    return make_breach(ReasonCode.MAX_GROSS_EXPOSURE, request, state, limits, clip, evidence)


def check_leverage(
    request: TradeRequest, state: PreTradeState, limits: CompiledLimits
) -> Breach | None:
    """MAX_LEVERAGE: worst-case gross exposure / equity above its limit (equity <= 0 breaches)."""
    rise = exposure_rise(state, request.quantity)
    if not rise > 0.0:
        return None
    gross, equity = gross_after(state, rise), state.account.equity
    if gross <= limits.max_leverage * equity:
        return None
    headroom = limits.max_leverage * equity - state.account.gross_worst
    clip = headroom_quantity(state.book, request.quantity, headroom, state.reference_price)
    leverage = gross / equity if equity > 0.0 else math.inf
    evidence = f"leverage={leverage:.4f} limit={limits.max_leverage} equity={equity:.2f}"
    return make_breach(ReasonCode.MAX_LEVERAGE, request, state, limits, clip, evidence)


def check_net_exposure(
    request: TradeRequest, state: PreTradeState, limits: CompiledLimits
) -> Breach | None:
    """MAX_NET_EXPOSURE: worst-case |net exposure| on the order's side above its limit."""
    if not exposure_rise(state, request.quantity) > 0.0:
        return None
    account, price, quantity = state.account, state.reference_price, request.quantity
    side_net = account.net_long if quantity > 0.0 else -account.net_short
    net = side_net + abs(quantity) * price
    if net <= limits.max_net_exposure:
        return None
    clip = (limits.max_net_exposure - side_net) / price
    evidence = f"net={math.copysign(net, quantity):.2f} limit={limits.max_net_exposure}"
    return make_breach(ReasonCode.MAX_NET_EXPOSURE, request, state, limits, clip, evidence)


def check_concentration(
    request: TradeRequest, state: PreTradeState, limits: CompiledLimits
) -> Breach | None:
    """CONCENTRATION: the symbol's share of worst-case gross exposure above its limit."""
    rise = exposure_rise(state, request.quantity)
    if not rise > 0.0:
        return None
    gross = gross_after(state, rise)
    if gross <= limits.concentration_min_gross:
        return None
    share = worst_after(state.book, request.quantity) * state.reference_price / gross
    if share <= limits.max_concentration:
        return None
    evidence = f"share={share:.4f} limit={limits.max_concentration} gross={gross:.2f}"
    return make_breach(ReasonCode.CONCENTRATION, request, state, limits, 0.0, evidence)


def _var_check(
    request: TradeRequest,
    state: PreTradeState,
    limits: CompiledLimits,
    code: ReasonCode,
    multiplier: float,
    limit: float,
) -> Breach | None:
    # Parametric (C)VaR = multiplier x sum(worst exposure x bar sigma), as a fraction of equity.
    rise = exposure_rise(state, request.quantity)
    if not rise > 0.0:
        return None
    book, equity = state.book, state.account.equity
    sigma = book.sigma
    exposure_sigma = state.account.var_worst + rise * state.reference_price * sigma
    if multiplier * exposure_sigma <= limit * equity:
        return None
    headroom = limit * equity / multiplier - state.account.var_worst
    clip = headroom_quantity(book, request.quantity, headroom, state.reference_price * sigma)
    value = multiplier * exposure_sigma / equity if equity > 0.0 else math.inf
    evidence = f"fraction={value:.6f} limit={limit} sigma_bar={sigma:.6g}"
    return make_breach(code, request, state, limits, clip, evidence)


def check_var(request: TradeRequest, state: PreTradeState, limits: CompiledLimits) -> Breach | None:
    """VAR_LIMIT: post-trade parametric VaR above its fraction of equity."""
    code, multiplier = ReasonCode.VAR_LIMIT, limits.var_multiplier
    return _var_check(request, state, limits, code, multiplier, limits.max_var)


def check_cvar(
    request: TradeRequest, state: PreTradeState, limits: CompiledLimits
) -> Breach | None:
    """CVAR_LIMIT: post-trade parametric expected shortfall above its fraction of equity."""
    code, multiplier = ReasonCode.CVAR_LIMIT, limits.cvar_multiplier
    return _var_check(request, state, limits, code, multiplier, limits.max_cvar)


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
