"""Real public data end to end: hourly EURUSD trains with the FX calendar and FX costs."""

from pathlib import Path

import gym_anytrading

from intraday_rl.training import create_trainer_agent

EURUSD = Path(gym_anytrading.__file__).parent / "datasets" / "data" / "FOREX_EURUSD_1H_ASK.csv"


def test_hourly_fx_file_trains_into_an_agent_that_trades(make_config):
    config = make_config(
        env={
            "data": {
                "source": "file",
                "path": str(EURUSD),
                "default_timezone": "UTC",
                "timestamp_format": "%d.%m.%Y %H:%M:%S.%f",
                "calendar": "fx_24h",
            },
            "costs": "fx",
        },
        training_params={"total_timesteps": 2000, "eval_freq": 1000},
        run={"export_bundle": False},
    )
    trainer = create_trainer_agent(config)
    result = trainer.train()
    assert len(trainer.market.sessions) > 250
    assert {session.n_bars for session in trainer.market.sessions} >= {24}
    assert result.validation.n_trades > 0  # FX costs and the FX calendar: it trades
    assert not any("never traded" in warning for warning in result.warnings)
