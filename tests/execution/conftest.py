"""Fixtures for the execution tests: one-hour sessions of the built-in market."""

import datetime as dt

import pytest

from intraday_rl.data.config import SessionCalendar, SyntheticMarketConfig
from intraday_rl.data.sessions import split_sessions
from intraday_rl.data.synthetic import generate_market

SHORT_CALENDAR = SessionCalendar(open_time=dt.time(9, 30), close_time=dt.time(10, 30))


@pytest.fixture(scope="session")
def sessions():
    market = generate_market(SyntheticMarketConfig(n_sessions=6, seed=3, calendar=SHORT_CALENDAR))
    return split_sessions(market.bars, SHORT_CALENDAR)
