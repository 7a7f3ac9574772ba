"""The trading rules: action mapping, sizing, the deadband and the fill-delay queue."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intraday_rl.market.rules import (
    ActionMap,
    clip_exposure,
    due_quantity,
    new_fill_queue,
    places_order,
    queue_order,
    target_shares,
)
from intraday_rl.shared.errors import ActionError


def test_discrete_action_picks_its_position_level():
    actions = ActionMap("discrete", (-1.0, 0.0, 0.5, 1.0), max_exposure=1.0)
    assert [actions.target_exposure(a) for a in range(4)] == [-1.0, 0.0, 0.5, 1.0]
    assert actions.target_exposure(np.int64(2)) == 0.5
    assert actions.n_actions == 4


def test_discrete_action_out_of_range_is_rejected_with_the_range():
    actions = ActionMap("discrete", (-1.0, 0.0, 1.0), max_exposure=1.0)
    with pytest.raises(ActionError, match=r"action: expected 0\.\.2, was 3"):
        actions.target_exposure(3)
    with pytest.raises(ActionError, match=r"expected 0\.\.2, was -1"):
        actions.target_exposure(-1)


def test_box_action_is_clipped_to_max_exposure():
    actions = ActionMap("box", (), max_exposure=1.5)
    assert actions.target_exposure(np.array([2.5], np.float32)) == 1.5
    assert actions.target_exposure(-7.0) == -1.5
    assert actions.target_exposure(np.array([[0.25]])) == 0.25
    assert actions.n_actions is None


def test_non_finite_box_action_is_rejected():
    with pytest.raises(ActionError, match="expected a finite target exposure, was nan"):
        ActionMap("box", (), 1.0).target_exposure(np.array([np.nan]))


def test_bad_action_maps_are_rejected_naming_the_field():
    with pytest.raises(ActionError, match=r"max_exposure: expected > 0, was 0\.0"):
        ActionMap("box", (), 0.0)
    with pytest.raises(ActionError, match="position_levels: expected at least one level"):
        ActionMap("discrete", (), 1.0)
    with pytest.raises(ActionError, match="action kind: expected 'discrete' or 'box', was 'x'"):
        ActionMap("x", (0.0,), 1.0)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.floats(-50, 50), st.floats(0.01, 10))
def test_clipped_exposure_stays_within_the_limit_and_keeps_values_inside(exposure, limit):
    clipped = clip_exposure(exposure, limit)
    assert -limit <= clipped <= limit
    if abs(exposure) <= limit:
        assert clipped == exposure


def test_sizing_truncates_to_whole_lots_and_the_deadband_skips_small_changes():
    assert target_shares(0.5, 100_000.0, 101.0, 10.0) == 490.0
    assert target_shares(-0.5, 100_000.0, 101.0, 1.0) == -495.0
    assert not places_order(495.0, 495.0, 100.0, 100_000.0, 0.05)
    assert not places_order(500.0, 495.0, 100.0, 100_000.0, 0.05)  # 500 < 5% of equity
    assert places_order(0.0, 10.0, 100.0, 100_000.0, 0.05)  # going flat always trades
    assert places_order(1_000.0, 0.0, 100.0, 100_000.0, 0.05)


def test_order_decided_at_bar_t_is_due_at_bar_t_plus_delay_only():
    queue = new_fill_queue(3)
    queue_order(queue, 4, 100.0)
    assert [due_quantity(queue, bar, 0.0) for bar in (5, 6)] == [0.0, 0.0]
    assert due_quantity(queue, 7, 30.0) == 70.0  # trades the difference to the target
    assert all(math.isnan(slot) for slot in queue)  # taken: due once
    assert due_quantity(queue, 10, 30.0) == 0.0


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 6), st.lists(st.integers(0, 3), min_size=1, max_size=40))
def test_every_queued_order_fills_exactly_delay_bars_later(delay, decisions):
    # Orders at consecutive bars (any subset) come out in order, each `delay` bars later.
    queue = new_fill_queue(delay)
    due: dict[int, float] = {}
    position = 0.0
    for bar, code in enumerate(decisions):
        if code:
            queue_order(queue, bar, float(10 * code + bar))
            due[bar + delay] = float(10 * code + bar)
        quantity = due_quantity(queue, bar + 1, position)
        expected = due.pop(bar + 1, position) - position
        assert quantity == expected
        position += quantity
