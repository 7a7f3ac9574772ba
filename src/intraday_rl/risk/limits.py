"""A risk policy compiled into plain floats and ints, so checks never touch pydantic.

``inf`` stands for a control switched off (``null`` in the YAML): comparisons still run, so the
cost of a check does not depend on the policy, and ``x <= inf`` always passes.
"""

from __future__ import annotations

import math

from intraday_rl.risk.calculators import normal_cvar_multiplier, normal_var_multiplier
from intraday_rl.risk.config import RateLimit, RiskPolicy
from intraday_rl.shared.constants import BPS, NS_PER_SECOND
from intraday_rl.shared.types import RiskAction

INF = math.inf
# Inputs beyond these are refused whatever the policy says (a control switched off included):
# requests (INVALID_QUANTITY / INVALID_PRICE) and fills (BAD_FILL) alike. The notional bound
# keeps the running cash and exposure sums exact to about a cent (a float has 53 bits).
MAX_SANE_QUANTITY = 1e12
MAX_SANE_PRICE = 1e12
MAX_SANE_NOTIONAL = 1e13
# Relative tolerance of "a whole number of lots" (0.3 shares is 3 lots of 0.1 in decimal, not in
# binary floating point).
LOT_TOLERANCE = 1e-12


def is_whole_lots(magnitude: float, lot_size: float) -> bool:
    """True when ``magnitude`` (> 0) is a whole number (>= 1) of lots, within rounding.

    >>> is_whole_lots(300.0, 100.0), is_whole_lots(0.3, 0.1), is_whole_lots(1.8e-90, 1.0)
    (True, True, False)
    """
    lots = magnitude / lot_size
    return lots >= 1.0 - LOT_TOLERANCE and abs(lots - round(lots)) <= LOT_TOLERANCE * lots


def _limit(value: float | None) -> float:
    return INF if value is None else float(value)


def _seconds_to_ns(value: float | None) -> int:
    # Switched off: a window longer than any clock reading.
    return 2**62 if value is None else round(value * NS_PER_SECOND)


def _rate(rate: RateLimit | None) -> tuple[int, int]:
    if rate is None:
        return 2**62, 1
    return rate.max_count, round(rate.per_s * NS_PER_SECOND)


class SymbolLimits:
    """The limits in force for one symbol (defaults merged with the policy's overrides)."""

    __slots__ = (
        "adv_shares",
        "max_order_notional",
        "max_order_quantity",
        "max_position",
        "symbol",
    )

    def __init__(self, policy: RiskPolicy, symbol: str) -> None:
        overrides = policy.symbols.get(symbol)
        limits = policy.limits
        self.symbol = symbol
        self.max_order_quantity = _limit(limits.max_order_quantity)
        self.max_order_notional = _limit(limits.max_order_notional)
        self.max_position = _limit(limits.max_position)
        self.adv_shares = math.nan
        if overrides is not None:
            if overrides.max_order_quantity is not None:
                self.max_order_quantity = float(overrides.max_order_quantity)
            if overrides.max_order_notional is not None:
                self.max_order_notional = float(overrides.max_order_notional)
            if overrides.max_position is not None:
                self.max_position = float(overrides.max_position)
            if overrides.adv_shares is not None:
                self.adv_shares = float(overrides.adv_shares)


class CompiledLimits:
    """Every threshold of a :class:`RiskPolicy` as a plain attribute, plus derived constants."""

    __slots__ = (
        "_policy",
        "actions",
        "adv_window_sessions",
        "allow_unlisted_symbols",
        "bar_return_prior_variance",
        "bars_per_year",
        "capital",
        "collar_fraction",
        "concentration_min_gross",
        "cvar_multiplier",
        "duplicate_window_ns",
        "ewma_lambda",
        "listed_symbols",
        "lot_size",
        "max_adv_participation",
        "max_bar_participation",
        "max_concentration",
        "max_cvar",
        "max_daily_loss",
        "max_daily_turnover",
        "max_data_age_ns",
        "max_drawdown",
        "max_gross_exposure",
        "max_intraday_drawdown",
        "max_leverage",
        "max_net_exposure",
        "max_order_notional",
        "max_var",
        "max_volatility",
        "order_rate_max",
        "order_rate_window_ns",
        "policy_hash",
        "repeat_max",
        "repeat_window_ns",
        "request_skew_low_ns",
        "request_skew_ns",
        "restricted_symbols",
        "session_gap_ns",
        "sqrt_horizon",
        "var_multiplier",
    )

    def __init__(self, policy: RiskPolicy) -> None:
        limits, models = policy.limits, policy.models
        self.policy_hash = policy.config_hash()
        self.capital = float(policy.capital)
        self.max_order_notional = _limit(limits.max_order_notional)
        self.collar_fraction = _limit(limits.price_collar_bps) * BPS
        self.max_gross_exposure = _limit(limits.max_gross_exposure)
        self.max_net_exposure = _limit(limits.max_net_exposure)
        self.max_leverage = _limit(limits.max_leverage)
        # One symbol's share of gross exposure is at most 1 by construction: a limit of 1 (the
        # default) can never be breached, so it is off. Comparing with 1.0 would let rounding
        # (share = 1 + 1 ulp) fire it.
        concentration = _limit(limits.max_concentration)
        self.max_concentration = INF if concentration >= 1.0 else concentration
        self.concentration_min_gross = float(limits.concentration_min_gross)
        self.max_daily_loss = _limit(limits.max_daily_loss)
        self.max_drawdown = _limit(limits.max_drawdown)
        self.max_intraday_drawdown = _limit(limits.max_intraday_drawdown)
        self.max_volatility = _limit(limits.max_volatility)
        self.max_var = _limit(limits.max_var)
        self.max_cvar = _limit(limits.max_cvar)
        self.max_daily_turnover = _limit(limits.max_daily_turnover)
        self.max_bar_participation = _limit(limits.max_bar_participation)
        self.max_adv_participation = _limit(limits.max_adv_participation)
        self.max_data_age_ns = _seconds_to_ns(limits.max_data_age_s)
        # Off: any timestamp >= 0 passes (inf compares with every int).
        skew = limits.max_request_skew_s
        self.request_skew_ns: float = INF if skew is None else round(skew * NS_PER_SECOND)
        self.request_skew_low_ns = -self.request_skew_ns  # the screen's lower bound, negated once
        self.duplicate_window_ns = (
            0
            if limits.duplicate_window_s is None
            else round(limits.duplicate_window_s * NS_PER_SECOND)
        )
        self.order_rate_max, self.order_rate_window_ns = _rate(limits.order_rate)
        self.repeat_max, self.repeat_window_ns = _rate(limits.repeated_execution)
        self.ewma_lambda = float(models.ewma_lambda)
        self.bars_per_year = float(models.bars_per_year)
        self.bar_return_prior_variance = models.initial_volatility**2 / models.bars_per_year
        self.sqrt_horizon = math.sqrt(models.var_horizon_bars)
        self.var_multiplier = normal_var_multiplier(models.var_confidence) * self.sqrt_horizon
        self.cvar_multiplier = normal_cvar_multiplier(models.var_confidence) * self.sqrt_horizon
        self.adv_window_sessions = models.adv_window_sessions
        self.session_gap_ns = round(models.session_gap_s * NS_PER_SECOND)
        self.lot_size = float(models.lot_size)
        self.actions: dict[str, RiskAction] = {
            code.value: action for code, action in policy.effective_actions.items()
        }
        self.listed_symbols = frozenset(policy.symbols)
        self.allow_unlisted_symbols = policy.allow_unlisted_symbols
        self.restricted_symbols = frozenset(policy.restricted_symbols)
        self._policy = policy

    @property
    def policy(self) -> RiskPolicy:
        """The policy these limits were compiled from."""
        return self._policy

    def is_tradable_universe(self, symbol: str) -> bool:
        """True when ``symbol`` is listed, or unlisted symbols are allowed."""
        return symbol in self.listed_symbols or self.allow_unlisted_symbols

    def symbol_limits(self, symbol: str) -> SymbolLimits:
        """Return the per-symbol limits of ``symbol`` (defaults plus overrides)."""
        return SymbolLimits(self._policy, symbol)
