"""Real public files (gym-anytrading ships them) and the layouts people's own files have."""

from __future__ import annotations

from pathlib import Path

import gym_anytrading
import pandas as pd
import pytest

from intraday_rl.data import SessionCalendar
from intraday_rl.data.diagnostics import diagnose_sessions
from intraday_rl.data.loading import load_ohlcv
from intraday_rl.data.source import DataSourceConfig, load_market_data
from intraday_rl.shared.config import parse_config
from intraday_rl.shared.errors import DataError

DATA = Path(gym_anytrading.__file__).parent / "datasets" / "data"
EURUSD = DATA / "FOREX_EURUSD_1H_ASK.csv"
GOOGL = DATA / "STOCKS_GOOGL.csv"
EURUSD_FORMAT = "%d.%m.%Y %H:%M:%S.%f"


def test_hourly_fx_with_the_fx_calendar_gives_24_hour_sessions():
    bars = load_ohlcv(EURUSD, default_timezone="UTC", timestamp_format=EURUSD_FORMAT)
    report = diagnose_sessions(bars, SessionCalendar.preset("fx_24h"))
    assert report.problem is None
    assert report.n_bars_outside_calendar == 0
    assert report.n_sessions > 250
    assert report.symbols[0].median_step_minutes == 60.0


def test_a_daily_file_is_refused_with_the_reason():
    source = parse_config(
        DataSourceConfig,
        {"source": "file", "path": str(GOOGL), "default_timezone": "America/New_York"},
    )
    with pytest.raises(DataError, match=r"24\.0 hours apart.*trades within sessions"):
        load_market_data(source)


def test_a_calendar_that_keeps_nothing_says_which_hours_it_has(tmp_path):
    bars = load_ohlcv(EURUSD, default_timezone="UTC", timestamp_format=EURUSD_FORMAT)
    night = SessionCalendar(timezone="Asia/Tokyo", open_time="03:00", close_time="03:30")
    hourly = bars.iloc[::3].reset_index(drop=True)  # at most one bar inside each half hour
    report = diagnose_sessions(hourly, night)
    assert report.n_sessions == 0
    assert report.problem is not None
    assert "03:00-03:30 Asia/Tokyo" in report.problem


def test_pandas_default_csv_with_its_unnamed_index_column_loads(tmp_path):
    stamps = pd.date_range("2024-01-02 09:30", periods=4, freq="1min", tz="America/New_York")
    frame = pd.DataFrame(
        {"Open": 1.0, "High": 2.0, "Low": 0.5, "Close": 1.5, "Volume": 10.0}, index=stamps
    )
    path = tmp_path / "bars.csv"
    frame.to_csv(path)  # the timestamps land in an unnamed first column
    loaded = load_ohlcv(path)
    assert len(loaded) == 4
    assert loaded["timestamp"].iloc[0] == stamps[0]


def test_declared_column_names_win_and_unknown_ones_are_named(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text(
        "when,o,h,l,c,qty\n2024-01-02T09:30:00-05:00,1,2,0.5,1.5,7\n"
        "2024-01-02T09:31:00-05:00,1.5,2,1,1.2,3\n"
    )
    names = {"timestamp": "when", "open": "o", "high": "h", "low": "l", "close": "c"}
    loaded = load_ohlcv(path, columns={**names, "volume": "QTY"})
    assert loaded["volume"].tolist() == [7.0, 3.0]
    with pytest.raises(DataError, match=r"columns\.volume: no column 'size'"):
        load_ohlcv(path, columns={**names, "volume": "size"})


def test_the_calendar_is_detected_from_the_bars():
    from intraday_rl.data.diagnostics import detect_calendar

    fx = load_ohlcv(EURUSD, default_timezone="UTC", timestamp_format=EURUSD_FORMAT)
    assert detect_calendar(fx)[0] == "fx_24h"
    stamps = pd.date_range("2024-01-02 09:30", periods=390, freq="1min", tz="America/New_York")
    equities = pd.DataFrame({"timestamp": stamps.tz_convert("UTC")})
    assert detect_calendar(equities)[0] == "us_equities"
    source = parse_config(
        DataSourceConfig,
        {
            "source": "file",
            "path": str(EURUSD),
            "default_timezone": "UTC",
            "timestamp_format": EURUSD_FORMAT,
            "calendar": "auto",
        },
    )
    assert len(load_market_data(source).sessions) > 250
