"""Interfaces between training and the rest: ``RiskAdvisor`` (and, later, ``RLPolicy``)."""

from intraday_rl.training.interfaces.risk_advisor import ProductionRiskAdvisor, RiskAdvisor

__all__ = ["ProductionRiskAdvisor", "RiskAdvisor"]

from intraday_rl.training.interfaces.rl_policy import LatencyStats, RLPolicy

__all__ += ["LatencyStats", "RLPolicy"]
