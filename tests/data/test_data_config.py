"""Data configs: defaults, cross-field rules, messages that name the field."""

from __future__ import annotations

import datetime as dt

import pytest

from intraday_rl.data import SessionCalendar, SplitConfig, SyntheticMarketConfig, WalkForwardConfig
from intraday_rl.data.source import DataSourceConfig
from intraday_rl.shared.config import parse_config
from intraday_rl.shared.errors import ConfigError


def test_default_calendar_is_new_york_regular_hours() -> None:
    calendar = SessionCalendar()
    assert calendar.session_minutes == 390
    assert calendar.open_time == dt.time(9, 30)


def test_calendar_parses_times_from_text() -> None:
    calendar = parse_config(SessionCalendar, {"open_time": "10:00", "close_time": "11:30"})
    assert calendar.session_minutes == 90


def test_unknown_timezone_names_the_field() -> None:
    with pytest.raises(ConfigError, match=r"timezone: .*unknown time zone 'Mars/Olympus'"):
        parse_config(SessionCalendar, {"timezone": "Mars/Olympus"})


def test_open_after_close_is_an_overnight_session() -> None:
    calendar = parse_config(SessionCalendar, {"open_time": "16:00", "close_time": "09:30"})
    assert calendar.overnight
    assert calendar.session_minutes == 17 * 60 + 30


def test_calendar_presets_and_unknown_names() -> None:
    assert SessionCalendar.preset("fx_24h").session_minutes == 24 * 60
    assert SessionCalendar.preset("us_equities") == SessionCalendar()
    file = {"source": "file", "path": "x.csv"}
    source = parse_config(DataSourceConfig, {**file, "calendar": "fx_24h"})
    assert source.calendar == SessionCalendar.preset("fx_24h")
    with pytest.raises(ConfigError, match="unknown calendar preset 'lse'"):
        parse_config(DataSourceConfig, {**file, "calendar": "lse"})


def test_split_fractions_must_leave_a_test_split() -> None:
    with pytest.raises(ConfigError, match=r"train_fraction \+ validation_fraction must be < 1"):
        parse_config(SplitConfig, {"train_fraction": 0.8, "validation_fraction": 0.2})
    assert SplitConfig().test_fraction == pytest.approx(0.15)


def test_walk_forward_rejects_unknown_mode_and_counts_dates() -> None:
    with pytest.raises(ConfigError, match=r"mode: "):
        parse_config(WalkForwardConfig, {"mode": "expanding"})
    config = WalkForwardConfig(n_folds=3, train_sessions=10, test_sessions=5, embargo_sessions=2)
    assert config.min_dates == 27


def test_synthetic_config_rejects_unknown_field_and_repeated_symbols() -> None:
    with pytest.raises(ConfigError, match=r"volatility: unknown field"):
        parse_config(SyntheticMarketConfig, {"volatility": 0.1})
    with pytest.raises(ConfigError, match=r"symbols: .*distinct"):
        parse_config(SyntheticMarketConfig, {"symbols": ["A", "A"]})
    with pytest.raises(ConfigError, match=r"regime_probabilities: .*summing to 1"):
        parse_config(SyntheticMarketConfig, {"regime_probabilities": [0.5, 0.5, 0.5]})


def test_config_hash_changes_with_the_seed() -> None:
    assert SyntheticMarketConfig().config_hash() == SyntheticMarketConfig().config_hash()
    assert SyntheticMarketConfig().config_hash() != SyntheticMarketConfig(seed=8).config_hash()
