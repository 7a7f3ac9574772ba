"""PaperBroker: fills at a later open with the shared cost model, partial fills, order states."""

import math

import pytest

from intraday_rl.execution import Order, OrderStatus, PaperBroker
from intraday_rl.market import CostConfig, Portfolio, fill_cost
from intraday_rl.shared.errors import ExecutionError

COSTS = CostConfig(fill_delay_bars=2)


def _broker(**kwargs) -> PaperBroker:
    broker = PaperBroker(COSTS, **kwargs)
    broker.open_account("SYN", 10_000.0, lot_size=5.0)
    broker.start_session("SYN")
    return broker


def test_market_order_fills_at_the_open_after_the_delay_with_the_shared_costs():
    broker = _broker()
    assert broker.on_bar("SYN", 0, 100.0, 100.5, 1_000.0) == []
    order = broker.submit(Order("o-1", "SYN", 50.0, 0))
    assert order.status is OrderStatus.ACCEPTED
    assert broker.on_bar("SYN", 1, 101.0, 101.5, 1_000.0) == []  # one bar of two
    (fill,) = broker.on_bar("SYN", 2, 102.0, 102.5, 0.0)  # volume floored at 1 share
    expected = Portfolio(10_000.0)
    cost = fill_cost(50.0, 102.0, 1.0, *COSTS.rates)
    expected.fill(50.0, 102.0, cost)
    assert (fill.quantity, fill.price, fill.cost, fill.client_order_id) == (
        50.0,
        102.0,
        cost,
        "o-1",
    )
    assert order.status is OrderStatus.FILLED
    assert not broker.open_orders()
    state = broker.portfolio_state("SYN", 3, 103.0, 0.5)
    assert state.cash == expected.cash
    assert state.position == 50.0
    assert state.equity == expected.equity(103.0)


def test_order_over_the_participation_cap_fills_in_whole_lots_over_several_bars():
    broker = _broker(fill_delay_bars=1, participation_cap=0.1)
    broker.on_bar("SYN", 0, 100.0, 100.0, 1_000.0)
    order = broker.submit(Order("o-1", "SYN", -240.0, 0))
    (first,) = broker.on_bar("SYN", 1, 100.0, 100.0, 1_004.0)  # cap 100.4 -> 100 shares
    assert first.quantity == -100.0
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert order.remaining == -140.0
    broker.on_bar("SYN", 2, 100.0, 100.0, 1_000.0)
    (last,) = broker.on_bar("SYN", 3, 100.0, 100.0, 1_000.0)
    assert last.quantity == -40.0
    assert order.status is OrderStatus.FILLED


def test_market_on_close_fills_at_once_at_the_last_close():
    broker = _broker()
    broker.on_bar("SYN", 0, 100.0, 99.0, 500.0, close_ts_ns=60)
    order = broker.submit(Order("c-1", "SYN", 10.0, 60, timing="close"))
    assert order.status is OrderStatus.FILLED
    assert broker.portfolio("SYN").cash == 10_000.0 - 990.0 - fill_cost(
        10.0, 99.0, 500.0, *COSTS.rates
    )


def test_states_rejected_cancelled_and_a_resent_id_is_not_sent_twice():
    broker = _broker()
    broker.on_bar("SYN", 0, 100.0, 100.0, 1_000.0)
    assert broker.submit(Order("bad", "SYN", 3.0, 0)).reject_reason == "NOT_WHOLE_LOTS"
    assert broker.submit(Order("x", "ABC", 5.0, 0)).status is OrderStatus.REJECTED
    order = broker.submit(Order("o-1", "SYN", 5.0, 0))
    assert broker.submit(Order("o-1", "SYN", 5.0, 0)) is order
    assert len(broker.open_orders("SYN")) == 1
    assert broker.cancel("o-1").status is OrderStatus.CANCELLED
    assert broker.on_bar("SYN", 1, 100.0, 100.0, 1.0) == []
    assert broker.on_bar("SYN", 2, 100.0, 100.0, 1.0) == []
    late = broker.submit(Order("o-2", "SYN", 5.0, 0))
    assert broker.end_session("SYN") == [late]
    assert late.status is OrderStatus.CANCELLED


def test_a_nan_open_fills_nothing_and_the_order_waits():
    broker = _broker(fill_delay_bars=1)
    broker.on_bar("SYN", 0, 100.0, 100.0, 1_000.0)
    broker.submit(Order("o-1", "SYN", 5.0, 0))
    assert broker.on_bar("SYN", 1, math.nan, 100.0, 1_000.0) == []
    assert len(broker.on_bar("SYN", 2, 101.0, 100.0, 1_000.0)) == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"fill_delay_bars": 0}, "fill_delay_bars"),
        ({"participation_cap": 1.5}, "participation_cap"),
    ],
)
def test_bad_settings_name_the_field(kwargs, field):
    with pytest.raises(ExecutionError, match=field):
        PaperBroker(**kwargs)


def test_bad_orders_name_the_field():
    with pytest.raises(ExecutionError, match="quantity"):
        Order("o", "SYN", math.nan, 0)
    with pytest.raises(ExecutionError, match="client_order_id"):
        Order("", "SYN", 1.0, 0)
    with pytest.raises(ExecutionError, match="no account"):
        PaperBroker().portfolio("SYN")
