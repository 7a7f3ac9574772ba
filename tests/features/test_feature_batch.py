"""compute_features: shapes, dtypes and input validation."""

import dataclasses
import math

import numpy as np
import pytest

from intraday_rl.features import compute_features
from intraday_rl.shared.errors import FeatureError


@pytest.mark.parametrize("field", ["open", "high", "low", "close"])
@pytest.mark.parametrize("value", [math.nan, math.inf, 0.0, -2.0])
def test_bad_price_is_rejected_naming_session_field_and_bar(sessions, default_spec, field, value):
    session = sessions[0]
    array = getattr(session, field).copy()
    array[17] = value
    expected = rf"session SYN 2024-01-02: {field}\[17\]: .*was {value}"
    with pytest.raises(FeatureError, match=expected):
        compute_features(default_spec, dataclasses.replace(session, **{field: array}))


@pytest.mark.parametrize("value", [math.nan, -1.0, math.inf])
def test_bad_volume_is_rejected(sessions, default_spec, value):
    session = sessions[0]
    volume = session.volume.copy()
    volume[3] = value
    with pytest.raises(FeatureError, match=rf"volume\[3\]: expected a finite volume .*was {value}"):
        compute_features(default_spec, dataclasses.replace(session, volume=volume))


def test_mismatched_lengths_are_rejected(sessions, default_spec):
    session = sessions[0]
    short = dataclasses.replace(session, high=session.high[:-1])
    with pytest.raises(FeatureError, match=r"high: expected shape \(390,\), was \(389,\)"):
        compute_features(default_spec, short)


def test_non_increasing_timestamps_are_rejected(sessions, default_spec):
    session = sessions[0]
    ts_ns = session.ts_ns.copy()
    ts_ns[5] = ts_ns[4]
    with pytest.raises(FeatureError, match=r"ts_ns\[5\]: expected > ts_ns\[4\]"):
        compute_features(default_spec, dataclasses.replace(session, ts_ns=ts_ns))


def test_empty_calendar_is_rejected(sessions, default_spec):
    session = dataclasses.replace(sessions[0], close_ns=sessions[0].open_ns)
    with pytest.raises(FeatureError, match="close_ns > open_ns"):
        compute_features(default_spec, session)


def test_empty_session_gives_an_empty_matrix(sessions, default_spec):
    session = sessions[0]
    empty = dataclasses.replace(
        session,
        **{name: getattr(session, name)[:0] for name in ("ts_ns", "open", "high", "low", "close")},
        volume=session.volume[:0],
    )
    assert compute_features(default_spec, empty).shape == (0, 12)


def test_other_numeric_dtypes_give_the_same_float64_matrix(sessions, default_spec):
    session = sessions[2]
    integer_volume = dataclasses.replace(session, volume=session.volume.astype(np.int64))
    matrix = compute_features(default_spec, integer_volume)
    assert matrix.dtype == np.float64
    np.testing.assert_array_equal(matrix, compute_features(default_spec, session))


def test_minutes_to_close_and_time_of_day_follow_the_calendar(sessions, default_spec):
    session = sessions[0]  # 390 one-minute bars on a 390-minute calendar
    matrix = compute_features(default_spec, session)
    names = default_spec.column_names
    hours_left = matrix[:, names.index("minutes_to_close")]
    np.testing.assert_allclose(hours_left, (389 - np.arange(390)) / 60, rtol=1e-15)
    phase = 2 * np.pi * (np.arange(390) + 1) / 390
    np.testing.assert_allclose(matrix[:, names.index("time_of_day_sin")], np.sin(phase), atol=1e-12)
    np.testing.assert_allclose(matrix[:, names.index("time_of_day_cos")], np.cos(phase), atol=1e-12)
