"""Risk: incremental calculators, pre-trade controls, the YAML policy, ``RiskAgentV2``,
``ProductionRiskAdvisor`` and the decision audit. See ``docs/risk.md``."""

from intraday_rl.risk.advisor import ProductionRiskAdvisor
from intraday_rl.risk.audit import AuditSink, JsonlAuditWriter, read_audit_log
from intraday_rl.risk.codes import DEFAULT_ACTIONS, ReasonCode, TradingState
from intraday_rl.risk.config import (
    RateLimit,
    RiskLimits,
    RiskModelConfig,
    RiskPolicy,
    SymbolOverrides,
    default_risk_policy_text,
    load_default_risk_policy,
    load_risk_policy,
    parse_risk_policy,
)
from intraday_rl.risk.engine import RiskAgentV2
from intraday_rl.shared.types import (
    Bar,
    Fill,
    OrderEvent,
    OrderEventKind,
    RiskAction,
    RiskDecision,
)

__all__ = [
    "DEFAULT_ACTIONS",
    "AuditSink",
    "Bar",
    "Fill",
    "JsonlAuditWriter",
    "OrderEvent",
    "OrderEventKind",
    "ProductionRiskAdvisor",
    "RateLimit",
    "ReasonCode",
    "RiskAction",
    "RiskAgentV2",
    "RiskDecision",
    "RiskLimits",
    "RiskModelConfig",
    "RiskPolicy",
    "SymbolOverrides",
    "TradingState",
    "default_risk_policy_text",
    "load_default_risk_policy",
    "load_risk_policy",
    "parse_risk_policy",
    "read_audit_log",
]
