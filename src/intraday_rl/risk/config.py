"""The risk policy (``risk_limits.yaml``): limits, the action of each rule, calculator parameters.

The models only validate; :func:`load_risk_policy` is the one function that reads a file. Every
limit may be ``null`` to switch its control off. ``RiskPolicy.config_hash()`` (the policy hash) is
the sha256 of the canonical JSON and identifies the exact limits in force in audits and bundles.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from intraday_rl.risk.codes import (
    CONFIGURABLE_CODES,
    DEFAULT_ACTIONS,
    FIXED_CODES,
    MIN_ACTION,
    ReasonCode,
)
from intraday_rl.shared.config import FrozenConfig, format_validation_error
from intraday_rl.shared.errors import RiskConfigError
from intraday_rl.shared.types import RiskAction

RISK_POLICY_SCHEMA_VERSION = 1
DEFAULT_POLICY_RESOURCE = "default_risk_limits.yaml"
# The one copy: config/risk_limits.yaml. The wheel packages it as intraday_rl/risk/<resource>
# (pyproject's force-include); a source checkout (editable install) reads the repository file.
_SOURCE_DEFAULT_POLICY = Path(__file__).resolve().parents[3] / "config" / "risk_limits.yaml"

PositiveLimit = Annotated[float | None, Field(gt=0.0, allow_inf_nan=False)]
ActionName = Literal["WARN", "REDUCE", "BLOCK", "HALT", "LIQUIDATE"]


class RateLimit(FrozenConfig):
    """At most ``max_count`` events in any trailing window of ``per_s`` seconds."""

    max_count: int = Field(gt=0, le=1_000_000, description="Events allowed per window.")
    per_s: float = Field(gt=0.0, le=86_400.0, allow_inf_nan=False, description="Window, seconds.")


class RiskLimits(FrozenConfig):
    """Thresholds of every control; ``null`` switches a control off."""

    max_order_quantity: PositiveLimit = Field(5_000.0, description="|Shares| per order.")
    max_order_notional: PositiveLimit = Field(
        250_000.0, description="|Shares| x price per order, account currency."
    )
    price_collar_bps: PositiveLimit = Field(
        500.0, description="Largest |order price / reference price - 1|, basis points."
    )
    max_position: PositiveLimit = Field(
        5_000.0, description="|Shares| held per symbol, counting working orders (worst case)."
    )
    max_gross_exposure: PositiveLimit = Field(
        300_000.0,
        description="Sum over symbols of worst-case |shares| x price (positions + working orders).",
    )
    max_net_exposure: PositiveLimit = Field(
        200_000.0, description="|Sum of signed shares x price|, worst case with working orders."
    )
    max_leverage: PositiveLimit = Field(3.0, description="Worst-case gross exposure / equity.")
    max_concentration: float | None = Field(
        1.0,
        gt=0.0,
        le=1.0,
        description="Largest share of worst-case gross exposure held in one symbol (fraction).",
    )
    concentration_min_gross: float = Field(
        50_000.0,
        ge=0.0,
        allow_inf_nan=False,
        description="Concentration is checked only when gross exposure exceeds this, currency.",
    )
    max_daily_loss: PositiveLimit = Field(
        0.03, description="Loss since the session start, fraction of capital."
    )
    max_drawdown: float | None = Field(
        0.10, gt=0.0, lt=1.0, description="Equity below its all-time peak, fraction of the peak."
    )
    max_intraday_drawdown: float | None = Field(
        0.05, gt=0.0, lt=1.0, description="Equity below the session's peak, fraction of the peak."
    )
    max_volatility: PositiveLimit = Field(
        1.5, description="Annualized EWMA volatility of a symbol's bar returns (1.5 = 150%)."
    )
    max_var: PositiveLimit = Field(
        0.03, description="Parametric value at risk over the VaR horizon, fraction of equity."
    )
    max_cvar: PositiveLimit = Field(
        0.04, description="Parametric expected shortfall over the VaR horizon, fraction of equity."
    )
    max_daily_turnover: PositiveLimit = Field(
        50.0, description="Notional traded this session (fills + working orders) / capital."
    )
    max_bar_participation: PositiveLimit = Field(
        0.25, description="|Order shares| / the symbol's last bar volume."
    )
    max_adv_participation: PositiveLimit = Field(
        0.10, description="Shares traded this session (plus the order) / average daily volume."
    )
    max_data_age_s: PositiveLimit = Field(
        180.0, description="Orders are refused when the symbol's last data is older, seconds."
    )
    max_request_skew_s: PositiveLimit = Field(
        5.0,
        description="A request whose ts_ns is further than this from the engine's clock (earlier "
        "or later) is refused as INVALID_REQUEST, seconds.",
    )
    duplicate_window_s: float | None = Field(
        1.0,
        gt=0.0,
        allow_inf_nan=False,
        description="An order equal to the symbol's last approved one (quantity, price) within "
        "this many seconds is a duplicate; client_order_ids are never reused.",
    )
    order_rate: RateLimit | None = Field(
        default_factory=lambda: RateLimit(max_count=20, per_s=1.0),
        description="Approved orders across all symbols per trailing window.",
    )
    repeated_execution: RateLimit | None = Field(
        default_factory=lambda: RateLimit(max_count=30, per_s=60.0),
        description="Approved same-side orders in one symbol per trailing window; tripping it "
        "halts trading until a human re-arms.",
    )


class RiskModelConfig(FrozenConfig):
    """Parameters of the calculators (not limits)."""

    ewma_lambda: float = Field(
        0.94, gt=0.0, lt=1.0, description="EWMA decay of squared bar returns (RiskMetrics 0.94)."
    )
    initial_volatility: float = Field(
        0.25, gt=0.0, le=10.0, description="Annualized volatility assumed before any return."
    )
    bars_per_year: float = Field(
        98_280.0, gt=0.0, allow_inf_nan=False, description="Bars per year (252 x 390 minutes)."
    )
    var_confidence: float = Field(0.99, gt=0.5, lt=1.0, description="VaR / CVaR confidence.")
    var_horizon_bars: int = Field(30, ge=1, le=100_000, description="VaR horizon in bars.")
    adv_window_sessions: int = Field(
        20, ge=1, le=1_000, description="Completed sessions averaged into the ADV."
    )
    session_gap_s: float = Field(
        3_600.0,
        gt=0.0,
        allow_inf_nan=False,
        description="A gap this long between data timestamps starts a new session.",
    )
    lot_size: float = Field(
        1.0,
        gt=0.0,
        allow_inf_nan=False,
        description="Shares per lot: a request must be a whole number of lots (at least one) "
        "and every approved quantity is one.",
    )


class PenaltyConfig(FrozenConfig):
    """How metric utilizations map to the training penalty (see ``advisor.penalty``)."""

    start: float = Field(
        0.5, ge=0.0, lt=1.0, description="Utilization (metric / limit) where the penalty starts."
    )
    exponent: float = Field(2.0, gt=0.0, le=10.0, description="Shape of the ramp to 1.")


class SymbolOverrides(FrozenConfig):
    """Per-symbol limits that replace the defaults; ``adv_shares`` seeds the ADV."""

    max_order_quantity: PositiveLimit = Field(None, description="|Shares| per order.")
    max_order_notional: PositiveLimit = Field(None, description="Currency per order.")
    max_position: PositiveLimit = Field(None, description="|Shares| held, worst case.")
    adv_shares: PositiveLimit = Field(
        None, description="Average daily volume used until enough sessions were seen, shares."
    )


class RiskPolicy(FrozenConfig):
    """A complete risk policy: what ``risk_limits.yaml`` holds."""

    schema_version: int = Field(RISK_POLICY_SCHEMA_VERSION, description="Policy file version.")
    name: str = Field("default", min_length=1, description="A label for humans and audits.")
    capital: float = Field(
        100_000.0, gt=0.0, allow_inf_nan=False, description="Capital base of fractional limits."
    )
    limits: RiskLimits = Field(default_factory=RiskLimits, description="Control thresholds.")
    actions: dict[ReasonCode, ActionName] = Field(
        default_factory=dict,
        description="Action of each configurable reason code; codes left out keep the default.",
    )
    models: RiskModelConfig = Field(default_factory=RiskModelConfig, description="Calculators.")
    penalty: PenaltyConfig = Field(default_factory=PenaltyConfig, description="Training penalty.")
    symbols: dict[str, SymbolOverrides] = Field(
        default_factory=dict, description="Tradable symbols and their per-symbol overrides."
    )
    allow_unlisted_symbols: bool = Field(
        False, description="Trade symbols missing from `symbols` with the default limits."
    )
    restricted_symbols: tuple[str, ...] = Field(
        (), description="Symbols no order may trade (restricted list)."
    )

    @field_validator("schema_version")
    @classmethod
    def _check_version(cls, value: int) -> int:
        if value != RISK_POLICY_SCHEMA_VERSION:
            raise ValueError(f"expected {RISK_POLICY_SCHEMA_VERSION}, was {value}")
        return value

    @field_validator("actions")
    @classmethod
    def _check_actions(cls, value: dict[ReasonCode, ActionName]) -> dict[ReasonCode, ActionName]:
        for code, action in value.items():
            if code in FIXED_CODES:
                raise ValueError(f"{code}: not configurable (fail closed), remove it")
            if code not in CONFIGURABLE_CODES:
                raise ValueError(f"{code}: not a configurable code")
            least = MIN_ACTION.get(code, RiskAction.WARN)
            if RiskAction[action] < least:
                raise ValueError(f"{code}: expected {least.name} or more severe, was {action}")
        return value

    @model_validator(mode="after")
    def _check_cross_fields(self) -> RiskPolicy:
        max_var, max_cvar = self.limits.max_var, self.limits.max_cvar
        if max_var is not None and max_cvar is not None and max_cvar < max_var:
            message = f"limits.max_cvar: expected >= limits.max_var {max_var}, was {max_cvar}"
            raise ValueError(message)
        return self

    def action_of(self, code: ReasonCode) -> RiskAction:
        """Return the action in force for ``code`` (fixed codes give BLOCK)."""
        if code in FIXED_CODES:
            return RiskAction.BLOCK
        name = self.actions.get(code)
        return RiskAction[name] if name is not None else DEFAULT_ACTIONS[code]

    @property
    def effective_actions(self) -> Mapping[ReasonCode, RiskAction]:
        """Every reason code with the action in force."""
        return {code: self.action_of(code) for code in ReasonCode}


def parse_risk_policy(data: Any, source: str = "risk policy") -> RiskPolicy:
    """Validate a mapping into a :class:`RiskPolicy`; raise RiskConfigError naming each bad key."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RiskConfigError(
            f"{source}: expected a mapping at the top level, was {type(data).__name__}"
        )
    try:
        return RiskPolicy.model_validate(data)
    except ValidationError as error:
        raise RiskConfigError(format_validation_error(error, source)) from None


def load_risk_policy(path: str | Path) -> RiskPolicy:
    """Read ``risk_limits.yaml`` into a :class:`RiskPolicy`.

    Raises:
        RiskConfigError: The file cannot be read, is not YAML, or a key is unknown, has the wrong
            type, a negative or zero limit or an unknown action; the message names the key.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RiskConfigError(f"{path}: cannot read risk policy: {error.strerror}") from None
    return _parse_yaml_text(text, path.name)


def load_default_risk_policy() -> RiskPolicy:
    """Return the shipped default policy (``config/risk_limits.yaml``)."""
    text = default_risk_policy_text()
    return _parse_yaml_text(text, DEFAULT_POLICY_RESOURCE)


def default_risk_policy_text() -> str:
    """Return the text of the shipped default policy file (``config/risk_limits.yaml``)."""
    packaged = resources.files("intraday_rl.risk").joinpath(DEFAULT_POLICY_RESOURCE)
    if packaged.is_file():
        return packaged.read_text("utf-8")
    try:
        return _SOURCE_DEFAULT_POLICY.read_text(encoding="utf-8")
    except OSError as error:
        raise RiskConfigError(
            f"the default risk policy is missing: neither the packaged {DEFAULT_POLICY_RESOURCE} "
            f"nor {_SOURCE_DEFAULT_POLICY} can be read ({error.strerror})"
        ) from None


def policy_to_yaml(policy: RiskPolicy) -> str:
    """Render ``policy`` as YAML that :func:`parse_risk_policy` reads back to an equal policy."""
    return yaml.safe_dump(policy.model_dump(mode="json"), sort_keys=False)


def _parse_yaml_text(text: str, source: str) -> RiskPolicy:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise RiskConfigError(f"{source}: invalid YAML: {error}") from None
    return parse_risk_policy(data, source)
