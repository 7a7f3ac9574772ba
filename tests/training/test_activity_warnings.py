"""A run whose agent never trades, or trades on every decision, says so."""

from intraday_rl.evaluation import PolicySummary
from intraday_rl.training.trainer_agent import activity_warnings


def _summary(n_trades: int, n_sessions: int = 10) -> PolicySummary:
    return PolicySummary(
        policy="agent",
        n_sessions=n_sessions,
        net_pnl=0.0,
        costs=0.0,
        n_trades=n_trades,
        sharpe=0.0,
        max_drawdown=0.0,
        hit_rate=0.0,
    )


def test_an_agent_that_never_trades_is_reported_with_what_to_check():
    (warning,) = activity_warnings(_summary(0), decisions_per_session=65)
    assert "never traded on the 10 validation sessions" in warning
    assert "costs: fx" in warning


def test_an_agent_that_trades_on_every_decision_is_reported():
    (warning,) = activity_warnings(_summary(600), decisions_per_session=65)
    assert "traded on 92% of its decisions" in warning


def test_an_ordinary_agent_gets_no_warning():
    assert activity_warnings(_summary(120), decisions_per_session=65) == ()
