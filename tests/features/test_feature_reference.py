"""Each feature against a straightforward loop written from the documented formula."""

import dataclasses
import math
import statistics

import numpy as np
import pytest

from intraday_rl.features import FeatureDef, FeatureSpec, compute_features

TOLERANCE = 1e-9


def _clip(values, feature):
    return [min(max(value * feature.scale, -feature.clip), feature.clip) for value in values]


def reference_log_return(s, lag):
    return [
        math.log(s.close[t] / (s.close[t - lag] if t >= lag else s.open[0]))
        for t in range(s.n_bars)
    ]


def _one_bar_returns(s):
    closes = [s.open[0], *s.close]
    return [math.log(closes[t + 1] / closes[t]) for t in range(s.n_bars)]


def reference_rolling_volatility(s, window):
    returns = _one_bar_returns(s)
    return [statistics.pstdev(returns[max(0, t - window + 1) : t + 1]) for t in range(s.n_bars)]


def reference_rsi(s, period):
    closes = [s.open[0], *s.close]
    out = []
    for t in range(s.n_bars):
        change = closes[t + 1] - closes[t]
        gain, loss = max(change, 0.0), max(-change, 0.0)
        if t == 0:
            avg_gain, avg_loss = gain, loss
        else:
            avg_gain += (gain - avg_gain) / period
            avg_loss += (loss - avg_loss) / period
        if avg_loss == 0:
            rsi = 50.0 if avg_gain == 0 else 100.0
        else:
            rsi = 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
        out.append((rsi - 50.0) / 50.0)
    return out


def _ema(values, span):
    alpha = 2.0 / (span + 1)
    out = [values[0]]
    for value in values[1:]:
        out.append(out[-1] + alpha * (value - out[-1]))
    return out


def reference_ema_ratio(s, fast, slow):
    closes = list(s.close)
    return [math.log(f / w) for f, w in zip(_ema(closes, fast), _ema(closes, slow), strict=True)]


def reference_vwap_deviation(s):
    out, traded, volume = [], 0.0, 0.0
    for t in range(s.n_bars):
        typical = (s.high[t] + s.low[t] + s.close[t]) / 3
        traded += typical * s.volume[t]
        volume += s.volume[t]
        vwap = traded / volume if volume > 0 else typical
        out.append(math.log(s.close[t] / vwap))
    return out


def reference_volume_zscore(s, window):
    x = [math.log1p(v) for v in s.volume]
    out = []
    for t in range(s.n_bars):
        values = x[max(0, t - window + 1) : t + 1]
        std = statistics.pstdev(values)
        out.append(0.0 if std < 1e-12 else (x[t] - statistics.fmean(values)) / std)
    return out


def reference_time_of_day(s):
    phases = [
        2 * math.pi * (int(ts) + s.bar_ns - s.open_ns) / (s.close_ns - s.open_ns) for ts in s.ts_ns
    ]
    return [math.sin(p) for p in phases], [math.cos(p) for p in phases]


def reference_minutes_to_close(s):
    return [max(0, s.close_ns - (int(ts) + s.bar_ns)) / 60e9 for ts in s.ts_ns]


def reference_session_return(s):
    return [math.log(float(c) / float(s.open[0])) for c in s.close]


def reference_columns(feature, s):
    kind = feature.kind
    if kind == "log_return":
        return [reference_log_return(s, lag) for lag in feature.lags]
    if kind == "rolling_volatility":
        return [reference_rolling_volatility(s, feature.window)]
    if kind == "rsi":
        return [reference_rsi(s, feature.period)]
    if kind == "ema_ratio":
        return [reference_ema_ratio(s, feature.fast, feature.slow)]
    if kind == "vwap_deviation":
        return [reference_vwap_deviation(s)]
    if kind == "volume_zscore":
        return [reference_volume_zscore(s, feature.window)]
    if kind == "time_of_day":
        return list(reference_time_of_day(s))
    if kind == "session_return":
        return [reference_session_return(s)]
    return [reference_minutes_to_close(s)]


SPECS = {
    "default": FeatureSpec.default(),
    # unclipped scales, so the comparison sees the raw values
    "unclipped": FeatureSpec(
        features=(
            FeatureDef(kind="log_return", lags=(1, 3, 20), scale=1.0, clip=1e6),
            FeatureDef(kind="rolling_volatility", window=5, scale=1.0, clip=1e6),
            FeatureDef(kind="rsi", period=4),
            FeatureDef(kind="ema_ratio", fast=2, slow=7, scale=1.0, clip=1e6),
            FeatureDef(kind="vwap_deviation", scale=1.0, clip=1e6),
            FeatureDef(kind="volume_zscore", window=4, clip=1e6),
            FeatureDef(kind="time_of_day"),
            FeatureDef(kind="minutes_to_close", scale=1.0, clip=1e6),
            FeatureDef(kind="session_return", scale=1.0, clip=1e6),
        )
    ),
}


@pytest.mark.parametrize("spec_name", SPECS)
@pytest.mark.parametrize("index", [0, 8, 40, 42, 43])  # two full days, two 5-bar days, 1 bar
def test_every_feature_matches_its_reference_loop(spec_name, index, sessions):
    spec, session = SPECS[spec_name], sessions[index]
    matrix = compute_features(spec, session)
    column = 0
    for feature in spec.features:
        for expected in reference_columns(feature, session):
            name = spec.column_names[column]
            np.testing.assert_allclose(
                matrix[:, column], _clip(expected, feature), rtol=0, atol=TOLERANCE, err_msg=name
            )
            column += 1
    assert column == spec.n_features


def test_zero_volume_windows_give_zero_zscore_and_price_vwap(sessions):
    session = sessions[0]
    silent = dataclasses.replace(session, volume=np.zeros_like(session.volume))
    spec = FeatureSpec(features=(FeatureDef(kind="volume_zscore", window=3),))
    assert (compute_features(spec, silent) == 0.0).all()
    vwap_spec = FeatureSpec(features=(FeatureDef(kind="vwap_deviation", scale=1.0, clip=1e6),))
    typical = (session.high + session.low + session.close) / 3
    np.testing.assert_allclose(
        compute_features(vwap_spec, silent)[:, 0],
        np.log(session.close / typical),
        rtol=0,
        atol=1e-15,
    )
