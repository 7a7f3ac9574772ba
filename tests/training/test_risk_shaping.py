import numpy as np
import pytest
import yaml

from intraday_rl.data import SessionCalendar, SyntheticMarketConfig, generate_market, split_sessions
from intraday_rl.env import EnvConfig, IntradayTradingEnv, IntradayVecEnv
from intraday_rl.risk import ProductionRiskAdvisor
from intraday_rl.training.risk_shaping import (
    GROSS,
    PENALTY,
    SEVERITY,
    SHAPED,
    RiskShapingVecEnv,
    RiskShapingWrapper,
)

ROOT_POLICY = "config/risk_limits.yaml"


@pytest.fixture(scope="module")
def sessions():
    calendar = SessionCalendar(open_time="09:30", close_time="10:30")
    market = generate_market(SyntheticMarketConfig(n_sessions=6, seed=2, calendar=calendar))
    return split_sessions(market.bars, calendar)


@pytest.fixture
def tight_policy(tmp_path):
    """The shipped policy with a position limit a full-equity position exceeds."""
    with open(ROOT_POLICY) as handle:
        policy = yaml.safe_load(handle)
    policy["limits"]["max_position"] = 300.0
    path = tmp_path / "tight.yaml"
    path.write_text(yaml.safe_dump(policy))
    return path


def test_vec_shaped_reward_is_gross_minus_weighted_penalty(sessions, tight_policy):
    weight = 0.002
    venv = RiskShapingVecEnv(
        IntradayVecEnv(sessions, 3), lambda: ProductionRiskAdvisor(tight_policy), weight
    )
    venv.seed(0)
    venv.reset()
    penalties = []
    for _ in range(120):  # always long full equity: risky under the tight policy; crosses resets
        _, rewards, _, infos = venv.step(np.full(3, 2))
        for reward, info in zip(rewards, infos, strict=True):
            assert info[SHAPED] == info[GROSS] - weight * info[PENALTY]
            assert reward == np.float32(info[SHAPED])
            assert 0.0 <= info[PENALTY] <= 1.0
            penalties.append(info[PENALTY])
    assert max(penalties) > 0.0


def test_flat_policy_pays_no_penalty(sessions, tight_policy):
    venv = RiskShapingVecEnv(
        IntradayVecEnv(sessions, 2), lambda: ProductionRiskAdvisor(tight_policy), 0.01
    )
    venv.reset()
    for _ in range(30):
        _, _, _, infos = venv.step(np.full(2, 1))
        assert all(info[PENALTY] == 0.0 for info in infos)


def test_gym_wrapper_shapes_the_same_way(sessions, tight_policy):
    env = RiskShapingWrapper(
        IntradayTradingEnv(sessions, EnvConfig()), ProductionRiskAdvisor(tight_policy), 0.002
    )
    env.reset(seed=0)
    seen = []
    for _ in range(20):
        _, reward, _, _, info = env.step(2)
        assert reward == info[GROSS] - 0.002 * info[PENALTY]
        assert info[SEVERITY] >= 0.0
        seen.append(info[PENALTY])
    assert max(seen) > 0.0
