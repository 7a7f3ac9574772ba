import json
import os
import subprocess
import sys

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from intraday_rl.features import FEATURE_KINDS, FeatureDef, FeatureSpec
from intraday_rl.features.config import DEFAULT_KINDS
from intraday_rl.shared.config import parse_config
from intraday_rl.shared.errors import ConfigError, FeatureError

DEFAULT_SPEC_HASH = "33b494bb9db20f7f83bdd5d288b57f8776a68d36ee1c8421a1fb1e918c39146a"
DEFAULT_COLUMNS = (
    "log_return_1",
    "log_return_5",
    "log_return_15",
    "log_return_30",
    "rolling_volatility_30",
    "rsi_14",
    "ema_ratio_10_30",
    "vwap_deviation",
    "volume_zscore_30",
    "time_of_day_sin",
    "time_of_day_cos",
    "minutes_to_close",
)


def test_default_spec_has_twelve_columns_in_documented_order(default_spec):
    assert default_spec.column_names == DEFAULT_COLUMNS
    assert default_spec.n_features == 12
    assert tuple(feature.kind for feature in default_spec.features) == DEFAULT_KINDS
    assert (*DEFAULT_KINDS, "session_return", "regime") == FEATURE_KINDS


def test_default_spec_hash_is_pinned(default_spec):
    assert default_spec.spec_hash() == DEFAULT_SPEC_HASH


def test_spec_hash_is_the_same_in_another_process():
    code = "from intraday_rl.features import FeatureSpec; print(FeatureSpec.default().spec_hash())"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert result.stdout.strip() == DEFAULT_SPEC_HASH


@pytest.mark.parametrize(
    ("kind", "change"),
    [
        ("log_return", {"lags": (1, 5, 15, 31)}),
        ("log_return", {"lags": (5, 1, 15, 30)}),
        ("rolling_volatility", {"window": 31}),
        ("rsi", {"period": 15}),
        ("ema_ratio", {"fast": 9}),
        ("ema_ratio", {"slow": 31}),
        ("vwap_deviation", {"scale": 999.0}),
        ("volume_zscore", {"window": 20}),
        ("volume_zscore", {"clip": 4.0}),
        ("time_of_day", {"clip": 2.0}),
        ("minutes_to_close", {"scale": 1.0}),
    ],
)
def test_spec_hash_changes_when_any_parameter_changes(default_spec, kind, change):
    features = [
        feature.model_dump() | (change if feature.kind == kind else {})
        for feature in default_spec.features
    ]
    changed = FeatureSpec.model_validate({"features": features})
    assert changed != default_spec
    assert changed.spec_hash() != default_spec.spec_hash()


def test_spec_hash_changes_when_features_are_reordered(default_spec):
    reordered = FeatureSpec(features=default_spec.features[::-1])
    assert reordered.spec_hash() != default_spec.spec_hash()


def test_equal_specs_built_differently_hash_equally(default_spec):
    explicit = FeatureSpec.model_validate(
        {
            "features": [
                {"kind": "log_return", "lags": [1, 5, 15, 30], "scale": 1000, "clip": 10},
                {"kind": "rolling_volatility", "window": 30},
                {"kind": "rsi", "period": 14, "scale": 1, "clip": 1.0},
                {"kind": "ema_ratio", "fast": 10, "slow": 30},
                {"kind": "vwap_deviation", "window": None},
                {"kind": "volume_zscore"},
                {"kind": "time_of_day"},
                {"kind": "minutes_to_close", "scale": 1 / 60},
            ]
        }
    )
    from_yaml = parse_config(FeatureSpec, yaml.safe_load(_DEFAULT_YAML), source="features.yaml")
    assert explicit == default_spec == from_yaml
    assert explicit.spec_hash() == from_yaml.spec_hash() == DEFAULT_SPEC_HASH


_DEFAULT_YAML = """
features:
  - {kind: log_return}
  - {kind: rolling_volatility}
  - {kind: rsi}
  - {kind: ema_ratio}
  - {kind: vwap_deviation}
  - {kind: volume_zscore}
  - {kind: time_of_day}
  - {kind: minutes_to_close}
"""


def test_spec_round_trips_through_model_dump(default_spec, custom_spec):
    for spec in (default_spec, custom_spec):
        again = FeatureSpec.model_validate(spec.model_dump())
        assert again == spec
        assert again.spec_hash() == spec.spec_hash()
        from_json = FeatureSpec.model_validate(json.loads(spec.model_dump_json()))
        assert from_json == spec


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_random_specs_round_trip_and_keep_their_hash(data, spec_strategy):
    spec = data.draw(spec_strategy)
    again = FeatureSpec.model_validate(json.loads(spec.canonical_json()))
    assert again == spec
    assert again.spec_hash() == spec.spec_hash()
    assert len(spec.column_names) == spec.n_features == len(set(spec.column_names))


@pytest.mark.parametrize(
    ("definition", "match"),
    [
        ({"kind": "macd"}, r"kind[\s\S]*'log_return', 'rolling_volatility', 'rsi'"),
        ({"kind": "log_return", "lags": (1, 0)}, r"lags: every lag must be >= 1 bar, was \(1, 0\)"),
        ({"kind": "log_return", "lags": (-3,)}, "lags"),
        ({"kind": "log_return", "lags": ()}, "lags: expected at least one lag"),
        ({"kind": "log_return", "lags": (2, 2)}, "lags: expected distinct lags"),
        ({"kind": "ema_ratio", "fast": 30, "slow": 30}, r"fast: expected < slow \(30\), was 30"),
        ({"kind": "ema_ratio", "fast": 40}, r"fast: expected < slow \(30\), was 40"),
        ({"kind": "ema_ratio", "fast": 0, "slow": 3}, "fast: expected >= 1 bar, was 0"),
        ({"kind": "rolling_volatility", "window": 1}, "window: expected >= 2 bars, was 1"),
        ({"kind": "volume_zscore", "window": 0}, "window: expected >= 2 bars, was 0"),
        ({"kind": "rsi", "period": 0}, "period: expected >= 1 bar, was 0"),
        ({"kind": "rsi", "window": 5}, "window: not a parameter of kind 'rsi'"),
        ({"kind": "rsi", "scale": 0.0}, r"scale[\s\S]*greater than 0"),
        ({"kind": "rsi", "clip": float("inf")}, r"clip[\s\S]*finite"),
        ({"kind": "rsi", "colour": "red"}, r"colour[\s\S]*Extra inputs are not permitted"),
    ],
)
def test_invalid_definition_is_rejected_naming_the_field(definition, match):
    with pytest.raises(ValidationError, match=match):
        FeatureDef.model_validate(definition)


def test_invalid_definition_reports_only_the_bad_field():
    with pytest.raises(ValidationError) as info:
        FeatureDef.model_validate({"kind": "macd"})
    assert [error["loc"] for error in info.value.errors()] == [("kind",)]


def test_empty_spec_is_rejected():
    with pytest.raises(ValidationError, match="features: expected at least one feature"):
        FeatureSpec(features=())


def test_duplicate_column_names_are_rejected():
    with pytest.raises(ValidationError, match=r"duplicate column name 'rsi_14' \(features.0 and"):
        FeatureSpec(features=(FeatureDef(kind="rsi"), FeatureDef(kind="rsi", scale=2.0)))
    with pytest.raises(ValidationError, match="duplicate column name 'log_return_5'"):
        FeatureSpec(
            features=(
                FeatureDef(kind="log_return", lags=(1, 5)),
                FeatureDef(kind="log_return", lags=(5, 10)),
            )
        )


def test_other_schema_version_is_rejected():
    with pytest.raises(ValidationError, match="schema_version: expected 1, was 2"):
        FeatureSpec.model_validate({"schema_version": 2, "features": [{"kind": "rsi"}]})


def test_parse_config_names_file_and_field_path():
    data = {"features": [{"kind": "rsi"}, {"kind": "volume_zscore", "window": 1}]}
    with pytest.raises(ConfigError, match=r"features.yaml: features.1.window: .*was 1"):
        parse_config(FeatureSpec, data, source="features.yaml")


def test_definitions_fill_per_kind_defaults():
    rsi = FeatureDef(kind="rsi")
    assert (rsi.period, rsi.scale, rsi.clip, rsi.window, rsi.lags) == (14, 1.0, 1.0, None, None)
    minutes = FeatureDef(kind="minutes_to_close")
    assert (minutes.scale, minutes.clip) == (1 / 60, 10.0)
    assert FeatureDef(kind="volume_zscore").clip == 5.0


def test_asking_a_kind_for_a_parameter_it_lacks_raises_feature_error():
    with pytest.raises(FeatureError, match="'rsi': has no parameter 'window'"):
        FeatureDef(kind="rsi").int_param("window")


def test_every_field_has_a_description():
    for model in (FeatureDef, FeatureSpec):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name}"
