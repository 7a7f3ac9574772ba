"""Risk metrics, limit utilizations and the training penalty.

Utilization of a limit is ``metric / limit`` (0 for a control switched off; ``inf`` when the
metric is not finite, so a fault is the worst case). The training penalty is

    breach_severity = max over limits of utilization
    penalty = clip((breach_severity - start) / (1 - start), 0, 1) ** exponent

so it is 0 while every metric is below ``start`` of its limit, reaches 1 at the first limit and
is monotone: a worse metric never lowers it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from intraday_rl.risk.book import AccountBook, SymbolBook
from intraday_rl.risk.config import PenaltyConfig
from intraday_rl.risk.limits import CompiledLimits


def _ratio(value: float, limit: float) -> float:
    # max(value, 0) / limit; inf when value is NaN or infinite (``value - value`` is then NaN).
    if value - value != 0.0:
        return math.inf
    return (value if value > 0.0 else 0.0) / limit


def _symbol_maxima(books: Iterable[SymbolBook]) -> tuple[float, float, float, float, bool]:
    # One pass: largest bar sigma (of symbols with a price), worst-case gross contribution,
    # worst-case position and position utilization. NaN lands in every "not <=" branch, so it
    # propagates (fail closed).
    sigma = largest = position = position_used = 0.0
    data_fault = False
    for book in books:
        data_fault = data_fault or book.data_fault
        if book.price > 0.0 and not book.sigma <= sigma:
            sigma = book.sigma
        if not book.c_gross_worst <= largest:
            largest = book.c_gross_worst
        held, buys, sells = book.position, book.working_buy, book.working_sell
        worst = held + buys if held + buys >= sells - held else sells - held
        if not worst <= position:
            position = worst
        used = worst / book.limits.max_position
        if not used <= position_used:
            position_used = used
    return sigma, largest, position, position_used, data_fault


def account_metrics(
    account: AccountBook, books: Iterable[SymbolBook], limits: CompiledLimits
) -> dict[str, float]:
    """Return the account's risk metrics (``risk/...`` keys, units in ``docs/risk.md``).

    Also ``risk/util/position`` (the largest ``worst position / max_position``), which needs the
    per-symbol pass this function makes anyway.
    """
    equity = account.equity
    positive_equity = equity if equity > 0.0 else math.nan
    sigma, largest, position, position_used, data_fault = _symbol_maxima(books)
    gross_worst = account.gross_worst
    return {
        "risk/equity": equity,
        "risk/capital": account.capital,
        "risk/daily_loss": account.daily_loss,
        "risk/drawdown": account.peak.drawdown,
        "risk/intraday_drawdown": account.intraday.drawdown,
        "risk/volatility": sigma * math.sqrt(limits.bars_per_year),
        "risk/var": limits.var_multiplier * account.var_worst / positive_equity,
        "risk/cvar": limits.cvar_multiplier * account.var_worst / positive_equity,
        "risk/gross_exposure": account.gross,
        "risk/gross_exposure_worst": gross_worst,
        "risk/net_exposure": account.net,
        "risk/net_exposure_worst": max(account.net_long, -account.net_short, 0.0),
        "risk/working_notional": account.working,
        "risk/leverage": gross_worst / positive_equity,
        "risk/concentration": largest / gross_worst if gross_worst > 0.0 else 0.0,
        "risk/turnover": account.turnover.value / account.capital,
        "risk/max_position": position,
        "risk/util/position": position_used,
        "risk/data_fault": float(data_fault),
    }


def utilizations(metrics: dict[str, float], limits: CompiledLimits) -> dict[str, float]:
    """Return ``metric / limit`` for every limited metric (keys ``risk/util/<name>``)."""
    gross = metrics["risk/gross_exposure_worst"]
    # A share of 1 cannot exceed a limit of 1: such a limit is off, not fully used.
    concentration = (
        _ratio(metrics["risk/concentration"], limits.max_concentration)
        if gross > limits.concentration_min_gross and limits.max_concentration < 1.0
        else 0.0
    )
    return {
        "risk/util/daily_loss": _ratio(metrics["risk/daily_loss"], limits.max_daily_loss),
        "risk/util/drawdown": _ratio(metrics["risk/drawdown"], limits.max_drawdown),
        "risk/util/intraday_drawdown": _ratio(
            metrics["risk/intraday_drawdown"], limits.max_intraday_drawdown
        ),
        "risk/util/volatility": _ratio(metrics["risk/volatility"], limits.max_volatility),
        "risk/util/var": _ratio(metrics["risk/var"], limits.max_var),
        "risk/util/cvar": _ratio(metrics["risk/cvar"], limits.max_cvar),
        "risk/util/gross_exposure": _ratio(gross, limits.max_gross_exposure),
        "risk/util/net_exposure": _ratio(
            metrics["risk/net_exposure_worst"], limits.max_net_exposure
        ),
        "risk/util/leverage": _ratio(metrics["risk/leverage"], limits.max_leverage),
        "risk/util/position": metrics["risk/util/position"],
        "risk/util/concentration": concentration,
        "risk/util/turnover": _ratio(metrics["risk/turnover"], limits.max_daily_turnover),
    }


def breach_severity(utilization: Iterable[float]) -> float:
    """The largest utilization (``inf`` when any is NaN): >= 1 means a limit is breached."""
    worst = 0.0
    for value in utilization:
        if not value <= worst:  # NaN lands here too
            worst = value if value == value else math.inf
    return worst


def penalty(severity: float, start: float, exponent: float) -> float:
    """Map a breach severity to a penalty in [0, 1] (monotone non-decreasing).

    >>> penalty(0.25, 0.5, 2.0), penalty(0.75, 0.5, 2.0), penalty(3.0, 0.5, 2.0)
    (0.0, 0.25, 1.0)
    """
    if not severity <= 1.0:  # breached, inf or NaN: the worst
        return 1.0
    ramp = (severity - start) / (1.0 - start)
    return float(min(1.0, max(0.0, ramp)) ** exponent)


def risk_metrics(
    account: AccountBook,
    books: list[SymbolBook],
    limits: CompiledLimits,
    settings: PenaltyConfig,
    faulted: bool,
) -> dict[str, float]:
    """Every metric, its utilization, ``risk/breach_severity``, ``risk/penalty``, ``risk/fault``.

    A fault (the engine's or bad market data on any symbol) makes the severity ``inf``.
    """
    metrics = account_metrics(account, books, limits)
    used = utilizations(metrics, limits)
    severity = breach_severity(used.values())
    if faulted or metrics["risk/data_fault"]:
        severity = math.inf
    metrics.update(used)
    metrics["risk/breach_severity"] = severity
    metrics["risk/penalty"] = penalty(severity, settings.start, settings.exponent)
    metrics["risk/fault"] = float(faulted)
    return metrics
