import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intraday_rl.market import CostConfig
from intraday_rl.market.costs import fill_cost, split_costs

quantities = st.floats(-1e6, 1e6, allow_nan=False)
prices = st.floats(0.01, 1e5, allow_nan=False)
volumes = st.floats(1.0, 1e9, allow_nan=False)
bps = st.floats(0.0, 50.0, allow_nan=False)


def _parts(quantity, price, volume, costs):
    # One fill's cost split by kind, as the env reports a session's fills.
    total = fill_cost(quantity, price, volume, *costs.rates)
    return split_costs(abs(quantity) * price, abs(quantity), total, costs)


@settings(max_examples=300, deadline=None)
@given(quantities, prices, volumes, bps, bps, bps, st.floats(0.0, 0.01, allow_nan=False))
def test_parts_add_up_to_the_fill_cost(
    quantity, price, volume, commission, spread, impact, per_share
):
    costs = CostConfig(
        commission_bps=commission,
        half_spread_bps=spread,
        impact_bps=impact,
        commission_per_share=per_share,
    )
    parts = _parts(quantity, price, volume, costs)
    total = fill_cost(quantity, price, volume, *costs.rates)
    assert all(part >= 0.0 for part in parts)
    assert math.isclose(sum(parts), total, rel_tol=1e-12, abs_tol=1e-12)


def test_each_part_follows_its_formula():
    costs = CostConfig(
        commission_bps=0.5, half_spread_bps=1.0, impact_bps=10.0, commission_per_share=0.002
    )
    commission, spread, impact = _parts(-400.0, 50.0, 10_000.0, costs)
    assert commission == pytest.approx(400 * 50 * 0.5e-4 + 400 * 0.002, rel=1e-12)
    assert spread == pytest.approx(400 * 50 * 1.0e-4, rel=1e-12)
    assert impact == pytest.approx(400 * 50 * 10e-4 * math.sqrt(400 / 10_000), rel=1e-12)


def test_no_quantity_has_no_cost_of_any_kind():
    assert _parts(0.0, 100.0, 1000.0, CostConfig(commission_per_share=0.01)) == (0.0, 0.0, 0.0)


def test_cost_presets_and_overrides():
    import pytest

    from intraday_rl.market.config import CostConfig

    fx = CostConfig.model_validate("fx")
    assert fx.impact_bps == 0.0
    assert CostConfig.model_validate({"preset": "fx", "fill_delay_bars": 2}).fill_delay_bars == 2
    assert CostConfig.model_validate("us_equities") == CostConfig()
    with pytest.raises(ValueError, match="unknown cost preset 'crypto'"):
        CostConfig.model_validate("crypto")
