"""FeatureStream's contract: reset first, validated inputs, fresh rows, O(1) state."""

import dataclasses
import math
import re
import sys
import tracemalloc

import numpy as np
import pytest

from intraday_rl.features import (
    FeatureDef,
    FeatureSpec,
    FeatureStream,
    compute_features,
    stream_session,
)
from intraday_rl.shared.errors import FeatureError

OPEN_NS = 1_704_205_800 * 10**9
BAR_NS = 60 * 10**9
CLOSE_NS = OPEN_NS + 390 * BAR_NS
GOOD_BAR = {"open": 100.0, "high": 101.0, "low": 99.0, "close": 100.5, "volume": 1_000.0}


def _ready_stream(spec) -> FeatureStream:
    stream = FeatureStream(spec)
    stream.reset(OPEN_NS, CLOSE_NS, BAR_NS)
    return stream


def test_update_before_reset_is_rejected(default_spec):
    with pytest.raises(FeatureError, match=r"expected reset\(open_ns, close_ns, bar_ns\)"):
        FeatureStream(default_spec).update(OPEN_NS, **GOOD_BAR)


@pytest.mark.parametrize("field", ["open", "high", "low", "close"])
@pytest.mark.parametrize("value", [math.nan, math.inf, 0.0, -1.0, 1e101])
def test_bad_price_is_rejected_naming_field_and_value(default_spec, field, value):
    stream = _ready_stream(default_spec)
    expected = rf"{field}: expected a finite price .*, was {re.escape(str(value))}"
    with pytest.raises(FeatureError, match=expected):
        stream.update(OPEN_NS, **(GOOD_BAR | {field: value}))


@pytest.mark.parametrize("value", [math.nan, -math.inf, -1.0, 1e101])
def test_bad_volume_is_rejected_naming_the_field(default_spec, value):
    stream = _ready_stream(default_spec)
    expected = rf"volume: expected a finite volume .*, was {re.escape(str(value))}"
    with pytest.raises(FeatureError, match=expected):
        stream.update(OPEN_NS, **(GOOD_BAR | {"volume": value}))


def test_rejected_bar_leaves_the_stream_usable(default_spec):
    stream = _ready_stream(default_spec)
    with pytest.raises(FeatureError):
        stream.update(OPEN_NS, **(GOOD_BAR | {"close": math.nan}))
    fresh = _ready_stream(default_spec)
    np.testing.assert_array_equal(
        stream.update(OPEN_NS, **GOOD_BAR), fresh.update(OPEN_NS, **GOOD_BAR)
    )
    assert stream.n_bars == 1


def test_timestamps_must_increase(default_spec):
    stream = _ready_stream(default_spec)
    stream.update(OPEN_NS + BAR_NS, **GOOD_BAR)
    with pytest.raises(FeatureError, match=rf"ts_ns: expected > previous bar's {OPEN_NS + BAR_NS}"):
        stream.update(OPEN_NS + BAR_NS, **GOOD_BAR)


def test_bad_calendar_is_rejected(default_spec):
    with pytest.raises(FeatureError, match="close_ns > open_ns"):
        FeatureStream(default_spec).reset(OPEN_NS, OPEN_NS, BAR_NS)
    with pytest.raises(FeatureError, match="bar_ns > 0"):
        FeatureStream(default_spec).reset(OPEN_NS, CLOSE_NS, 0)


def test_each_update_returns_a_new_float64_row(default_spec):
    stream = _ready_stream(default_spec)
    first = stream.update(OPEN_NS, **GOOD_BAR)
    kept = first.copy()
    first[:] = 99.0
    second = stream.update(OPEN_NS + BAR_NS, **GOOD_BAR)
    assert first.dtype == second.dtype == np.float64
    assert second.shape == (default_spec.n_features,) == (stream.n_features,)
    assert not np.shares_memory(first, second)
    np.testing.assert_array_equal(_ready_stream(default_spec).update(OPEN_NS, **GOOD_BAR), kept)


def test_numpy_scalars_are_accepted(sessions, default_spec):
    session = sessions[41]
    stream = _ready_stream(default_spec)
    stream.reset(session.open_ns, session.close_ns, session.bar_ns)
    rows = [
        stream.update(session.ts_ns[t], session.open[t], session.high[t], session.low[t],
                      session.close[t], session.volume[t])
        for t in range(session.n_bars)
    ]  # fmt: skip
    np.testing.assert_array_equal(np.array(rows), stream_session(default_spec, session))


def test_reset_discards_the_previous_session(sessions, default_spec):
    stream = FeatureStream(default_spec)
    for session in (sessions[3], sessions[4]):
        stream.reset(session.open_ns, session.close_ns, session.bar_ns)
        for t in range(session.n_bars // 2):  # leave the session half done
            stream.update(
                session.ts_ns[t],
                session.open[t],
                session.high[t],
                session.low[t],
                session.close[t],
                session.volume[t],
            )
    session = sessions[5]
    stream.reset(session.open_ns, session.close_ns, session.bar_ns)
    row = stream.update(
        session.ts_ns[0],
        session.open[0],
        session.high[0],
        session.low[0],
        session.close[0],
        session.volume[0],
    )
    np.testing.assert_array_equal(row, compute_features(default_spec, session)[0])


def test_memory_stays_flat_over_a_long_session(session_factory, default_spec):
    """O(1) state: 4,000 more bars leave no per-bar allocation alive (a list growing by one
    float per bar would hold >= 128 kB; big-int sums may change size by a few hundred bytes)."""
    session = session_factory(np.random.default_rng(5), 5_000, calendar_bars=5_000)
    stream = _ready_stream(default_spec)
    bars = list(
        zip(
            session.ts_ns.tolist(),
            session.open.tolist(),
            session.high.tolist(),
            session.low.tolist(),
            session.close.tolist(),
            session.volume.tolist(),
            strict=True,
        )
    )
    for bar in bars[:1_000]:
        stream.update(*bar)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for bar in bars[1_000:]:
            stream.update(*bar)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 32_000


def test_update_work_is_flat_in_the_window_length(session_factory):
    """Windows 60 times longer run no more Python lines per update (no recomputation).

    Counts executed lines, not seconds, so a loaded machine cannot fail it (timings: bench).
    """
    session = session_factory(np.random.default_rng(6), 120)

    def lines(window: int) -> int:
        spec = FeatureSpec(
            features=(
                FeatureDef(kind="rolling_volatility", window=window),
                FeatureDef(kind="volume_zscore", window=window),
                FeatureDef(kind="log_return", lags=(1, window)),
            )
        )
        count = 0

        def trace(frame, event, arg):  # type: ignore[no-untyped-def]
            nonlocal count
            if event == "line":
                count += 1
            return trace

        sys.settrace(trace)
        try:
            stream_session(spec, session)
        finally:
            sys.settrace(None)
        return count

    assert lines(300) < 1.1 * lines(5)


def test_stream_session_of_a_one_bar_session(sessions, default_spec):
    one_bar = sessions[-1]
    np.testing.assert_allclose(
        stream_session(default_spec, one_bar),
        compute_features(default_spec, one_bar),
        rtol=0,
        atol=1e-12,
    )


def test_streaming_rejects_what_batch_rejects(sessions, default_spec):
    session = sessions[0]
    close = session.close.copy()
    close[7] = math.nan
    broken = dataclasses.replace(session, close=close)
    with pytest.raises(FeatureError, match=r"close\[7\]: expected a finite price"):
        compute_features(default_spec, broken)
    with pytest.raises(FeatureError, match="close: expected a finite price"):
        stream_session(default_spec, broken)
