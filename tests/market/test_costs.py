import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intraday_rl.market import CostConfig, trade_cost
from intraday_rl.shared.config import parse_config
from intraday_rl.shared.errors import ConfigError

quantities = st.floats(-1e6, 1e6, allow_nan=False)
prices = st.floats(0.01, 1e5, allow_nan=False)
volumes = st.floats(1.0, 1e9, allow_nan=False)


def test_zero_quantity_costs_nothing():
    assert trade_cost(0.0, 100.0, 1000.0, CostConfig()) == 0.0


def test_proportional_costs_are_commission_plus_half_spread():
    costs = CostConfig(commission_bps=0.5, half_spread_bps=1.5, impact_bps=0.0)
    assert trade_cost(-200.0, 50.0, 1e6, costs) == pytest.approx(200 * 50 * 2.0e-4, rel=1e-12)


def test_per_share_commission_is_charged_per_share():
    costs = CostConfig(
        commission_bps=0.0, half_spread_bps=0.0, impact_bps=0.0, commission_per_share=0.005
    )
    assert trade_cost(1000.0, 10.0, 1e6, costs) == pytest.approx(5.0)


def test_impact_grows_with_square_root_of_participation():
    costs = CostConfig(commission_bps=0.0, half_spread_bps=0.0, impact_bps=10.0)
    per_share_small = trade_cost(100.0, 100.0, 10_000.0, costs) / 100.0
    per_share_large = trade_cost(400.0, 100.0, 10_000.0, costs) / 400.0
    assert per_share_large == pytest.approx(2.0 * per_share_small, rel=1e-12)
    # 100% participation costs exactly impact_bps.
    assert trade_cost(1000.0, 100.0, 1000.0, costs) == pytest.approx(1000 * 100 * 10e-4)


@settings(max_examples=300, deadline=None)
@given(quantities, prices, volumes)
def test_cost_is_non_negative_and_ignores_the_side(quantity, price, volume):
    costs = CostConfig(commission_per_share=0.001)
    cost = trade_cost(quantity, price, volume, costs)
    assert cost >= 0.0
    assert trade_cost(-quantity, price, volume, costs) == cost


def test_negative_cost_parameter_is_rejected_naming_the_field():
    with pytest.raises(
        ConfigError, match=r"costs\.yaml: half_spread_bps: .*greater than or equal to 0"
    ):
        parse_config(CostConfig, {"half_spread_bps": -1}, source="costs.yaml")


def test_fill_delay_below_one_bar_is_rejected():
    with pytest.raises(ConfigError, match="fill_delay_bars"):
        parse_config(CostConfig, {"fill_delay_bars": 0})
