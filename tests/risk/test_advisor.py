import math
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from intraday_rl.risk import ProductionRiskAdvisor
from intraday_rl.risk.metrics import breach_severity, penalty
from intraday_rl.shared.types import PortfolioState, TradeRequest
from intraday_rl.training.interfaces import RiskAdvisor
from intraday_rl.training.interfaces.risk_advisor import ProductionRiskAdvisor as ReExported

START = 1_700_000_000_000_000_000
MINUTE = 60_000_000_000


def _state(
    minute: int,
    price: float = 100.0,
    position: float = 0.0,
    peak: float | None = None,
    symbol="SYN",
):
    cash = 100_000.0 - position * 100.0
    equity = cash + position * price
    return PortfolioState(
        ts_ns=START + minute * MINUTE,
        symbol=symbol,
        price=price,
        cash=cash,
        position=position,
        equity=equity,
        initial_capital=100_000.0,
        peak_equity=max(peak or equity, equity),
        realized_pnl=0.0,
        unrealized_pnl=equity - 100_000.0,
        costs_paid=0.0,
        time_left=0.5,
    )


def test_production_advisor_implements_the_interface_and_is_re_exported():
    advisor = ProductionRiskAdvisor()
    assert isinstance(advisor, RiskAdvisor)
    assert ReExported is ProductionRiskAdvisor


def test_flat_state_has_no_penalty_and_every_metric(tmp_path):
    metrics = ProductionRiskAdvisor().evaluate(_state(0))
    assert metrics["risk/penalty"] == 0.0
    assert 0.0 <= metrics["risk/breach_severity"] < 0.5
    for key in (
        "risk/drawdown",
        "risk/daily_loss",
        "risk/var",
        "risk/cvar",
        "risk/leverage",
        "risk/volatility",
    ):
        assert key in metrics
    assert all(isinstance(value, float) for value in metrics.values())


def test_loss_raises_the_penalty_to_one_at_the_limit(kit):
    policy = kit.policy(limits={"max_var": None, "max_cvar": None, "max_volatility": None})
    advisor = ProductionRiskAdvisor(policy=policy)
    advisor.evaluate(_state(0, 100.0, 1_000.0))
    small = advisor.evaluate(_state(1, 98.0, 1_000.0, peak=100_000.0))
    big = advisor.evaluate(_state(2, 96.0, 1_000.0, peak=100_000.0))
    assert 0.0 < small["risk/penalty"] < big["risk/penalty"] == 1.0
    assert big["risk/breach_severity"] >= 1.0


def test_nan_state_is_the_worst_penalty():
    advisor = ProductionRiskAdvisor()
    advisor.evaluate(_state(0))
    metrics = advisor.evaluate(_state(1, price=math.nan))
    assert metrics["risk/penalty"] == 1.0
    assert metrics["risk/breach_severity"] == math.inf


def test_reset_starts_a_new_episode_and_backwards_time_starts_a_session():
    advisor = ProductionRiskAdvisor()
    advisor.evaluate(_state(0, 100.0, 1_000.0))
    advisor.evaluate(_state(1, 96.0, 1_000.0))
    advisor.reset()
    assert advisor.evaluate(_state(0))["risk/penalty"] == 0.0
    advisor.evaluate(_state(100, 96.0, 1_000.0))
    again = advisor.evaluate(_state(0))  # an earlier session: a new day, no daily loss
    assert again["risk/daily_loss"] == 0.0


def test_assess_reports_what_the_engine_would_do():
    advisor = ProductionRiskAdvisor()
    metrics = advisor.assess(_state(0), TradeRequest(START, "SYN", 10_000.0, 100.0))
    assert metrics["risk/action"] >= 3.0
    assert metrics["risk/allowed_fraction"] == 0.0


def test_policy_file_is_used(tmp_path):
    from intraday_rl.risk import default_risk_policy_text

    path = tmp_path / "limits.yaml"
    path.write_text(
        default_risk_policy_text().replace("max_daily_loss: 0.03", "max_daily_loss: 0.01")
    )
    advisor = ProductionRiskAdvisor(policy_yaml=path)
    advisor.evaluate(_state(0, 100.0, 1_000.0))
    assert advisor.evaluate(_state(1, 99.0, 1_000.0))["risk/penalty"] == 1.0
    assert advisor.policy_hash != ProductionRiskAdvisor().policy_hash


utilization = st.floats(min_value=0.0, max_value=3.0)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(utilization, min_size=1, max_size=12),
    st.integers(0, 11),
    st.floats(0.0, 2.0),
    st.floats(0.0, 0.99),
    st.floats(0.1, 5.0),
)
def test_penalty_is_monotone_and_bounded(values, index, increase, start, exponent):
    worse = list(values)
    worse[index % len(values)] += increase
    before = penalty(breach_severity(values), start, exponent)
    after = penalty(breach_severity(worse), start, exponent)
    assert 0.0 <= before <= after <= 1.0


@settings(max_examples=150, deadline=None)
@given(st.floats(90.0, 100.0), st.floats(0.0, 5.0))
def test_a_worse_price_never_lowers_the_penalty_of_a_long(price, extra_drop):
    penalties = []
    for mark in (price, price - extra_drop):
        advisor = ProductionRiskAdvisor()
        advisor.evaluate(_state(0, 100.0, 1_000.0))
        penalties.append(advisor.evaluate(_state(1, mark, 1_000.0, peak=100_000.0))["risk/penalty"])
    assert penalties[0] <= penalties[1]


def test_training_interfaces_import_neither_sb3_nor_torch():
    code = (
        "import sys; import intraday_rl.training.interfaces.risk_advisor; "
        "import intraday_rl.training; "
        "bad = [m for m in ('torch', 'stable_baselines3') if m in sys.modules]; "
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_evaluate_also_gives_the_seeds_plain_penalty_and_severity_keys():
    from intraday_rl.risk import ProductionRiskAdvisor
    from intraday_rl.shared.types import PortfolioState

    advisor = ProductionRiskAdvisor()
    state = PortfolioState(
        ts_ns=1_700_000_000_000_000_000,
        symbol="SYN",
        price=100.0,
        cash=-20_000.0,
        position=1_200.0,
        equity=100_000.0,
        initial_capital=100_000.0,
        peak_equity=104_000.0,
        realized_pnl=0.0,
        unrealized_pnl=0.0,
        costs_paid=0.0,
        time_left=0.5,
    )
    metrics = advisor.evaluate(state)
    assert metrics["penalty"] == metrics["risk/penalty"]
    assert metrics["breach_severity"] == metrics["risk/breach_severity"]
    assert 0.0 <= metrics["penalty"] <= 1.0
