"""Risk metrics, limit utilizations and the training penalty.

Utilization of a limit is ``metric / limit`` (0 for a control switched off; ``inf`` when the
metric is not finite, so a fault is the worst case). The training penalty is

    breach_severity = max over limits of utilization
    penalty = clip((breach_severity - start) / (1 - start), 0, 1) ** exponent

so it is 0 while every metric is below ``start`` of its limit, reaches 1 at the first limit and
is monotone: a worse metric never lowers it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType

from intraday_rl.risk.book import AccountBook, SymbolBook
from intraday_rl.risk.config import PenaltyConfig
from intraday_rl.risk.limits import CompiledLimits

logger = logging.getLogger(__name__)
PENALTY_KEY = "risk/penalty"  # the shaped reward reads these two (training/risk_shaping)
SEVERITY_KEY = "risk/breach_severity"


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
        used = worst / book.max_position  # limits.max_position, copied by refresh
        if not used <= position_used:
            position_used = used
    return sigma, largest, position, position_used, data_fault


# What the metrics read, captured at one moment (see capture_inputs for the order).
MetricInputs = tuple[float, ...]


def capture_inputs(account: AccountBook, books: Iterable[SymbolBook]) -> MetricInputs:
    """Copy what the metrics read now (O(number of symbols)); :func:`metrics_from` derives them.

    Cheap on purpose: decisions capture their metrics here and derive the mapping on access.
    """
    sigma, largest, position, position_used, data_fault = _symbol_maxima(books)
    return (
        account.equity,
        account.capital,
        account.daily_loss,
        account.peak.drawdown,
        account.intraday.drawdown,
        account.var_worst,
        account.gross,
        account.gross_worst,
        account.net,
        account.net_long,
        account.net_short,
        account.working,
        account.turnover.value,
        sigma,
        largest,
        position,
        position_used,
        float(data_fault),
    )


def account_metrics(inputs: MetricInputs, limits: CompiledLimits) -> dict[str, float]:
    """Return the account's risk metrics (``risk/...`` keys, units in ``docs/risk.md``).

    Also ``risk/util/position`` (the largest ``worst position / max_position``), which needs the
    per-symbol pass that :func:`capture_inputs` makes anyway.
    """
    equity, capital, daily_loss, drawdown, intraday, var_worst, gross, gross_worst = inputs[:8]
    net, net_long, net_short, working, turnover, sigma, largest, position, used, fault = inputs[8:]
    positive_equity = equity if equity > 0.0 else math.nan
    return {
        "risk/equity": equity,
        "risk/capital": capital,
        "risk/daily_loss": daily_loss,
        "risk/drawdown": drawdown,
        "risk/intraday_drawdown": intraday,
        "risk/volatility": sigma * math.sqrt(limits.bars_per_year),
        "risk/var": limits.var_multiplier * var_worst / positive_equity,
        "risk/cvar": limits.cvar_multiplier * var_worst / positive_equity,
        "risk/gross_exposure": gross,
        "risk/gross_exposure_worst": gross_worst,
        "risk/net_exposure": net,
        "risk/net_exposure_worst": max(net_long, -net_short, 0.0),
        "risk/working_notional": working,
        "risk/leverage": gross_worst / positive_equity,
        "risk/concentration": largest / gross_worst if gross_worst > 0.0 else 0.0,
        "risk/turnover": turnover / capital,
        "risk/max_position": position,
        "risk/util/position": used,
        "risk/data_fault": fault,
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


def metrics_from(
    inputs: MetricInputs, limits: CompiledLimits, settings: PenaltyConfig, faulted: bool
) -> dict[str, float]:
    """Every metric, its utilization, ``risk/breach_severity``, ``risk/penalty``, ``risk/fault``.

    A fault (the engine's or bad market data on any symbol) makes the severity ``inf``.
    """
    metrics = account_metrics(inputs, limits)
    used = utilizations(metrics, limits)
    severity = breach_severity(used.values())
    if faulted or metrics["risk/data_fault"]:
        severity = math.inf
    metrics.update(used)
    metrics[SEVERITY_KEY] = severity
    metrics[PENALTY_KEY] = penalty(severity, settings.start, settings.exponent)
    metrics["risk/fault"] = float(faulted)
    return metrics


def risk_metrics(
    account: AccountBook,
    books: list[SymbolBook],
    limits: CompiledLimits,
    settings: PenaltyConfig,
    faulted: bool,
) -> dict[str, float]:
    """:func:`metrics_from` the account and books as they are now."""
    return metrics_from(capture_inputs(account, books), limits, settings, faulted)


# What a snapshot holds when the metrics themselves cannot be computed.
FAULT_METRICS: Mapping[str, float] = MappingProxyType(
    {"risk/fault": 1.0, PENALTY_KEY: 1.0, SEVERITY_KEY: math.inf}
)


class MetricsSnapshot(Mapping[str, float]):
    """The engine's metrics at one moment: inputs captured then, the mapping built on first read.

    Deciding captures :func:`capture_inputs` (a tuple of floats) and nothing else, so a denial
    does not pay for ~35 metrics nobody may read; reading any key derives them all, once, from
    the captured inputs, so the values are those of the capture however the engine moved since.
    Read-only, equal to a dict with the same items.
    """

    __slots__ = ("_faulted", "_inputs", "_kill_switch", "_limits", "_settings", "_state", "_values")

    def __init__(
        self,
        inputs: MetricInputs,
        limits: CompiledLimits,
        settings: PenaltyConfig,
        faulted: bool,
        trading_state: float,
        kill_switch: bool,
    ) -> None:
        self._inputs = inputs
        self._limits = limits
        self._settings = settings
        self._faulted = faulted
        self._state = trading_state
        self._kill_switch = kill_switch
        self._values: Mapping[str, float] | None = None

    def materialize(self) -> Mapping[str, float]:
        """Derive the metrics (once); raise what the derivation raises."""
        values = self._values
        if values is None:
            metrics = metrics_from(self._inputs, self._limits, self._settings, self._faulted)
            metrics["risk/trading_state"] = self._state
            metrics["risk/kill_switch"] = float(self._kill_switch)
            values = self._values = metrics
        return values

    def _read(self) -> Mapping[str, float]:
        try:
            return self.materialize()
        except Exception:  # a decision already made cannot fault the engine: report the fault
            logger.exception("risk metrics failed")
            self._values = FAULT_METRICS
            return FAULT_METRICS

    def __getitem__(self, key: str) -> float:
        return self._read()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())

    def __repr__(self) -> str:
        return f"MetricsSnapshot({dict(self._read())!r})"
