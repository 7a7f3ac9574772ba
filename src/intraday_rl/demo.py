"""The demo job: built-in market → file → sessions → env, baseline policies on the test days."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from intraday_rl.data.config import SplitConfig, SyntheticMarketConfig
from intraday_rl.data.loading import load_ohlcv, write_ohlcv
from intraday_rl.data.sessions import split_sessions
from intraday_rl.data.splits import split_chronological
from intraday_rl.data.synthetic import generate_market
from intraday_rl.env import EnvConfig, IntradayTradingEnv
from intraday_rl.evaluation import (
    ConstantExposurePolicy,
    EnvPolicy,
    OraclePolicy,
    PolicySummary,
    RandomPolicy,
    evaluate_policy,
)


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What the demo produced: where the market file is and each policy's test-set summary."""

    market_path: Path
    n_train: int
    n_validation: int
    n_test: int
    summaries: list[PolicySummary]


def run_demo(n_sessions: int = 250, seed: int = 7, out_dir: Path = Path("artifacts")) -> DemoResult:
    """Generate the built-in market, write and reload it, play the baselines on test sessions."""
    market = generate_market(SyntheticMarketConfig(n_sessions=n_sessions, seed=seed))
    out_dir.mkdir(parents=True, exist_ok=True)
    market_path = out_dir / "market.parquet"
    write_ohlcv(market.bars, market_path)
    bars = load_ohlcv(market_path)  # the same path a user's file takes
    sessions = split_sessions(bars, market.config.calendar)
    split = split_chronological(sessions, SplitConfig())
    env = IntradayTradingEnv(split.test, EnvConfig(session_order="sequential"))
    policies: list[EnvPolicy] = [
        ConstantExposurePolicy("flat", 0.0),
        ConstantExposurePolicy("buy_and_hold", 1.0),
        RandomPolicy(seed),
        OraclePolicy(market),
    ]
    summaries = [evaluate_policy(env, policy)[0] for policy in policies]
    return DemoResult(
        market_path, len(split.train), len(split.validation), len(split.test), summaries
    )
