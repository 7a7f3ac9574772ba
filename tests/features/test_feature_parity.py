"""Batch and streaming computation give the same numbers (within 1e-9) for every feature."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intraday_rl.features import (
    FeatureSpec,
    FeatureStream,
    compute_features,
    compute_features_many,
    stream_session,
)

TOLERANCE = 1e-9


def assert_parity(spec: FeatureSpec, session) -> np.ndarray:
    batch = compute_features(spec, session)
    streamed = stream_session(spec, session)
    assert batch.shape == streamed.shape == (session.n_bars, spec.n_features)
    assert batch.dtype == streamed.dtype == np.float64
    assert np.isfinite(batch).all()
    worst = np.abs(batch - streamed).max(axis=0, initial=0.0)
    bad = {name: err for name, err in zip(spec.column_names, worst, strict=True) if err > TOLERANCE}
    assert not bad, f"batch and streaming differ by more than {TOLERANCE}: {bad}"
    return batch


def test_batch_and_streaming_agree_on_every_session_default_spec(sessions, default_spec):
    for session in sessions:
        assert_parity(default_spec, session)


def test_batch_and_streaming_agree_on_every_session_custom_spec(sessions, custom_spec):
    for session in sessions:
        assert_parity(custom_spec, session)


def test_values_respect_each_features_clip(sessions, custom_spec):
    for spec in (FeatureSpec.default(), custom_spec):
        clips = np.array([f.clip for f in spec.features for _ in f.column_names])
        for session in sessions[:10]:
            assert (np.abs(compute_features(spec, session)) <= clips).all()


def test_one_bar_session_gives_one_row(sessions, default_spec):
    one_bar = sessions[-1]
    assert one_bar.n_bars == 1
    row = assert_parity(default_spec, one_bar)[0]
    columns = dict(zip(default_spec.column_names, row, strict=True))
    expected = np.log(one_bar.close[0] / one_bar.open[0]) * 1000.0
    assert columns["log_return_30"] == np.clip(expected, -10, 10)
    assert columns["rolling_volatility_30"] == 0.0
    assert columns["ema_ratio_10_30"] == 0.0
    assert columns["volume_zscore_30"] == 0.0


def test_compute_features_many_matches_one_by_one(sessions, default_spec):
    many = compute_features_many(default_spec, sessions[:5])
    assert len(many) == 5
    for matrix, session in zip(many, sessions[:5], strict=True):
        np.testing.assert_array_equal(matrix, compute_features(default_spec, session))


def test_streaming_sessions_back_to_back_equals_fresh_streams(sessions, default_spec):
    stream = FeatureStream(default_spec)
    for session in (sessions[0], sessions[40], sessions[1]):
        stream.reset(session.open_ns, session.close_ns, session.bar_ns)
        rows = [
            stream.update(*bar)
            for bar in zip(
                session.ts_ns,
                session.open,
                session.high,
                session.low,
                session.close,
                session.volume,
                strict=True,
            )
        ]
        np.testing.assert_array_equal(np.array(rows), stream_session(default_spec, session))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_batch_and_streaming_agree_on_random_paths_default_spec(data, session_strategy):
    session = data.draw(session_strategy)
    assert_parity(FeatureSpec.default(), session)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_batch_and_streaming_agree_on_random_paths_and_specs(data, session_strategy, spec_strategy):
    assert_parity(data.draw(spec_strategy), data.draw(session_strategy))
