"""Risk policy presets: an FX-sized position is not penalized as if it were shares."""

from pathlib import Path

from intraday_rl.risk import ProductionRiskAdvisor
from intraday_rl.shared.types import PortfolioState

CONFIG = Path(__file__).parents[2] / "config"


def _fx_position(ts_ns: int) -> PortfolioState:
    # 90,000 EUR bought at 1.10 on 100,000 of capital: a full-size FX position.
    price, units, capital = 1.10, 90_000.0, 100_000.0
    return PortfolioState(
        ts_ns=ts_ns,
        symbol="EURUSD",
        price=price,
        cash=capital - units * price,
        position=units,
        equity=capital,
        initial_capital=capital,
        peak_equity=capital,
        realized_pnl=0.0,
        unrealized_pnl=0.0,
        costs_paid=0.0,
        time_left=0.5,
    )


def test_the_fx_preset_does_not_penalize_a_full_size_fx_position():
    penalties = {}
    for name in ("risk_limits.yaml", "risk_limits_fx.yaml"):
        advisor = ProductionRiskAdvisor(CONFIG / name)
        metrics = {}
        for step in range(5):  # an hour apart, as hourly bars come
            metrics = advisor.evaluate(
                _fx_position(1_700_000_000_000_000_000 + step * 3_600 * 10**9)
            )
        penalties[name] = float(metrics["risk/penalty"])
    assert penalties["risk_limits.yaml"] > 0.5  # 90,000 "shares" against max_position 5,000
    assert penalties["risk_limits_fx.yaml"] < 0.1


def test_every_preset_loads_and_the_futures_one_bounds_size_by_notional(kit):
    from intraday_rl.risk import load_risk_policy

    for name in ("risk_limits.yaml", "risk_limits_fx.yaml", "risk_limits_futures.yaml"):
        load_risk_policy(CONFIG / name)
    engine = kit.engine(load_risk_policy(CONFIG / "risk_limits_futures.yaml"))
    small = engine.evaluate_and_enforce(kit.request(10))  # 1,000 of notional: no size limit
    assert small.allowed_quantity == 10
    huge = engine.evaluate_and_enforce(kit.request(20_000))  # 2,000,000: over the notional limits
    assert huge.allowed_quantity < 20_000
    assert "MAX_ORDER_QUANTITY" not in {str(code) for code in huge.reason_codes}
