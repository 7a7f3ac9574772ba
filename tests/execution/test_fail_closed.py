"""Fail closed: bad bars, predict errors, a tampered bundle and the kill switch."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import textwrap

import numpy as np

from intraday_rl.execution import (
    DataClock,
    ExecutionAgent,
    FeedBar,
    OrchestratorAgent,
    PaperBroker,
    ReplayFeed,
    run_backtest,
)
from intraday_rl.execution.backtest import non_binding_risk_policy
from intraday_rl.risk import RiskAgentV2


def test_a_nan_bar_never_reaches_the_policy_and_the_loop_goes_on(exported, sessions):
    config, policy, _ = exported
    close = sessions[0].close.copy()
    close[6] = np.nan
    broken = [dataclasses.replace(sessions[0], close=close), *sessions[1:3]]
    result = run_backtest(policy, broken, costs=config.costs)
    bar = result.equity.iloc[6]
    assert any("BAD_MARKET_DATA" in note for note in bar["notes"])
    assert bar["requested"] == 0.0
    assert len(result.equity) == sum(s.n_bars for s in broken)


class FailingPolicy:
    """A bundle policy whose predict raises on every third call."""

    def __init__(self, policy) -> None:
        self._policy, self.metadata, self.calls = policy, policy.metadata, 0

    def predict(self, observation):
        self.calls += 1
        if self.calls % 3 == 0:
            raise RuntimeError("runtime crashed")
        return self._policy.predict(observation)


def test_a_predict_exception_means_no_order_on_that_bar_with_a_reason(exported, sessions):
    config, policy, _ = exported
    result = run_backtest(FailingPolicy(policy), sessions[:2], costs=config.costs)
    failed = result.equity[
        result.equity["notes"].map(lambda n: any("PREDICT_ERROR" in x for x in n))
    ]
    assert len(failed) > 3
    assert (failed["action"].isna()).all()
    assert len(result.equity) == sessions[0].n_bars + sessions[1].n_bars


def test_a_tampered_bundle_is_refused_and_the_symbol_holds_flat(exported, sessions, tmp_path):
    config, _, path = exported
    copy = tmp_path / "bundle"
    shutil.copytree(path, copy)
    meta = json.loads((copy / "metadata.json").read_text())
    meta["rules"]["lot_size"] = 1.0
    (copy / "metadata.json").write_text(json.dumps(meta))
    result = run_backtest(copy, sessions[:2], costs=config.costs)
    assert sessions[0].symbol in result.refused
    assert (result.equity["position"] == 0.0).all()
    assert result.trades.empty
    assert result.equity["notes"].map(lambda n: "BUNDLE_REFUSED" in n).all()


def test_the_kill_switch_flattens_and_stops_new_risk(exported, sessions):
    config, policy, _ = exported
    symbol = sessions[0].symbol
    clock = DataClock()
    risk = RiskAgentV2(non_binding_risk_policy([symbol], 50_000.0), clock=clock)
    agent = ExecutionAgent(policy, symbol)
    broker = PaperBroker(config.costs)
    orchestrator = OrchestratorAgent([agent], broker, risk, clock=clock)
    events = list(ReplayFeed(sessions[:1]))
    engaged = None
    for event in events:
        if isinstance(event, FeedBar) and engaged is None and broker.portfolio(symbol).position:
            risk.engage_kill_switch("test", "operator")
            engaged = event.index
        orchestrator.on_event(event)
    assert engaged is not None
    after = [r for r in orchestrator.records if r.bar >= engaged]
    assert after[0].position == 0.0  # flattened at the close of the bar it was engaged on
    assert all(r.position == 0.0 and r.requested == 0.0 for r in after)
    assert all("KILL_SWITCH" in r.notes for r in after[1:-1])
    assert orchestrator.fills[-1][3] in ("KILL_SWITCH", "SESSION_CLOSE")


def test_execution_imports_without_sb3_and_without_training():
    code = textwrap.dedent(
        """
        import importlib.abc, json, sys

        class Blocker(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {"stable_baselines3", "sb3_contrib"}:
                    raise ImportError(f"{name} is blocked for this test")
                return None

        sys.meta_path.insert(0, Blocker())
        import intraday_rl.execution
        print(json.dumps({
            "training": "intraday_rl.training" in sys.modules,
            "sb3": [n for n in ("stable_baselines3", "sb3_contrib") if n in sys.modules],
        }))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"training": False, "sb3": []}
