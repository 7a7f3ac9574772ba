"""Training/serving parity: the backtest of a bundle trades exactly as the env rollout of it.

A tiny bundle (decision_every=3, fill_delay_bars=2, lots of 5, a deadband) is played through the
env and backtested through the execution engine (ReplayFeed -> OrchestratorAgent ->
ExecutionAgent -> RiskAgentV2 -> PaperBroker). With a risk policy that does not bind, positions,
fills, costs and equity agree on every env step to 1e-9; with binding limits, every bar where the
backtest trades differently carries a risk decision.
"""

from __future__ import annotations

import numpy as np
import pytest

from intraday_rl.env import IntradayTradingEnv
from intraday_rl.evaluation.rollout import evaluate_policy
from intraday_rl.execution import non_binding_risk_policy, run_backtest


class BundleActor:
    """The bundle acting in the env (an EnvPolicy)."""

    name = "bundle"

    def __init__(self, policy) -> None:
        self.policy = policy

    def act(self, observation, env):
        return self.policy.predict(observation)[0]


def test_backtest_equals_the_env_rollout_on_every_step(exported, sessions):
    config, policy, _ = exported
    result = run_backtest(policy, sessions, costs=config.costs)
    env = IntradayTradingEnv(sessions, config)
    actor = BundleActor(policy)
    n_steps = 0
    for index, session in enumerate(sessions):
        bars = result.equity[result.equity["session_id"] == session.date.isoformat()]
        bars = bars.set_index("bar")
        observation, _ = env.reset(options={"session_index": index})
        terminated = False
        while not terminated:
            observation, _, terminated, _, info = env.step(actor.act(observation, env))
            row = bars.loc[env.bar_index]
            assert row["position"] == info["position"]
            assert row["equity"] == pytest.approx(info["equity"], abs=1e-9)
            assert row["cash"] == pytest.approx(info["cash"], abs=1e-9)
            assert row["costs_paid"] == pytest.approx(info["costs_paid"], abs=1e-9)
            n_steps += 1
        fills = result.trades[result.trades["session"] == session.date.isoformat()]
        assert len(fills) == info["n_trades"]
        assert fills["cost"].sum() == pytest.approx(info["costs_paid"], abs=1e-9)
        assert env.fill_totals["traded_notional"] == pytest.approx(
            float((fills["quantity"].abs() * fills["price"]).sum()), abs=1e-9
        )
    # Every request was approved in full: the risk engine saw every order and bound none.
    requested = result.equity[result.equity["requested"] != 0.0]
    assert (requested["allowed"] == requested["requested"]).all()
    assert set(requested["risk_action"]) <= {"ALLOW", "WARN"}
    assert (result.trades["reason"] == "POLICY").sum() > len(sessions)  # the policy traded
    assert n_steps > 0

    _, episodes = evaluate_policy(IntradayTradingEnv(sessions, config), actor)
    np.testing.assert_allclose(
        result.sessions["net_pnl"], [e.net_pnl for e in episodes], rtol=0, atol=1e-9
    )
    assert result.sessions["n_fills"].tolist() == [e.n_trades for e in episodes]
    assert not result.refused


def test_with_binding_limits_every_difference_is_a_recorded_risk_decision(exported, sessions):
    config, policy, _ = exported
    free = run_backtest(policy, sessions, costs=config.costs)
    base = non_binding_risk_policy([sessions[0].symbol], 50_000.0)
    tight = base.model_copy(
        update={"limits": base.limits.model_copy(update={"max_position": 20.0})}
    )
    bound = run_backtest(policy, sessions, tight, costs=config.costs)
    assert (bound.equity["position"].abs() <= 20.0).all()
    decided = bound.equity[bound.equity["risk_action"].isin(["REDUCE", "BLOCK"])]
    assert len(decided) > 0
    assert decided["reason_codes"].map(lambda codes: "MAX_POSITION" in codes).all()
    # Up to the first bar the risk engine cut, both runs are the same bar for bar.
    first = decided.index[0]
    np.testing.assert_array_equal(bound.equity["position"][:first], free.equity["position"][:first])
    differs = bound.equity["position"] != free.equity["position"]
    assert differs.any()
    assert differs.idxmax() > first
