import pytest

from intraday_rl.data import SessionCalendar, SyntheticMarketConfig, generate_market, split_sessions
from intraday_rl.env import EnvConfig, IntradayTradingEnv


@pytest.fixture(scope="package")
def market_env():
    # 20 two-hour sessions of the built-in market, played in order.
    calendar = SessionCalendar(open_time="09:30", close_time="11:30")
    market = generate_market(SyntheticMarketConfig(n_sessions=20, seed=11, calendar=calendar))
    env = IntradayTradingEnv(
        split_sessions(market.bars, calendar), EnvConfig(session_order="sequential")
    )
    return market, env
