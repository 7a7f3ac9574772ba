"""Judging policies: baselines (flat, buy-and-hold, random, oracle), rollouts and summaries."""

from intraday_rl.evaluation.baselines import (
    ConstantExposurePolicy,
    EnvPolicy,
    OraclePolicy,
    RandomPolicy,
    baseline_policies,
)
from intraday_rl.evaluation.rollout import (
    EpisodeResult,
    PolicySummary,
    evaluate_policy,
    play_session,
    summarize,
)

__all__ = [
    "ConstantExposurePolicy",
    "EnvPolicy",
    "EpisodeResult",
    "OraclePolicy",
    "PolicySummary",
    "RandomPolicy",
    "baseline_policies",
    "evaluate_policy",
    "play_session",
    "summarize",
]
