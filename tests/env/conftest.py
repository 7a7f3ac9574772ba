import datetime as dt

import pytest

from intraday_rl.data.config import SessionCalendar, SyntheticMarketConfig
from intraday_rl.data.sessions import split_sessions
from intraday_rl.data.synthetic import generate_market
from intraday_rl.env import EnvConfig, EpisodeBook

# One-hour sessions keep env tests fast while exercising every mechanism.
SHORT_CALENDAR = SessionCalendar(open_time=dt.time(9, 30), close_time=dt.time(10, 30))


@pytest.fixture(scope="session")
def market():
    return generate_market(SyntheticMarketConfig(n_sessions=8, seed=3, calendar=SHORT_CALENDAR))


@pytest.fixture(scope="session")
def sessions(market):
    return split_sessions(market.bars, SHORT_CALENDAR)


@pytest.fixture(scope="session")
def book(sessions):
    config = EnvConfig()
    return EpisodeBook(sessions, config.features, config.window)
