"""The built-in market: determinism, calendar, price continuity, shapes, regimes, a real signal."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from intraday_rl.data import (
    DEFAULT_ORACLE_THRESHOLD,
    GeneratedMarket,
    Regime,
    Session,
    SyntheticMarketConfig,
    generate_market,
    load_ohlcv,
    oracle_positions,
    split_sessions,
    validate_ohlcv,
    write_ohlcv,
)
from intraday_rl.shared.constants import NS_PER_MINUTE
from intraday_rl.shared.errors import DataError

COST_PER_SIDE = 1.5e-4


def _log_returns(session: Session) -> np.ndarray:
    return np.log(session.close / session.open)


def _small(seed: int = 7, symbols: tuple[str, ...] = ("SYN",)) -> GeneratedMarket:
    return generate_market(SyntheticMarketConfig(n_sessions=5, seed=seed, symbols=symbols))


def test_same_seed_gives_identical_market() -> None:
    first, second = _small(seed=11), _small(seed=11)
    pd.testing.assert_frame_equal(first.bars, second.bars)
    pd.testing.assert_frame_equal(first.regimes, second.regimes)
    np.testing.assert_array_equal(first.expected_return, second.expected_return)


def test_different_seed_gives_different_prices() -> None:
    assert not np.array_equal(_small(seed=1).bars["close"], _small(seed=2).bars["close"])


def test_symbols_are_independent_and_do_not_depend_on_each_other() -> None:
    pair = _small(symbols=("BBB", "AAA"))
    alone = _small(symbols=("AAA",))
    aaa = pair.bars[pair.bars["symbol"] == "AAA"].reset_index(drop=True)
    bbb = pair.bars[pair.bars["symbol"] == "BBB"].reset_index(drop=True)
    pd.testing.assert_frame_equal(aaa, alone.bars)
    assert not np.allclose(aaa["close"], bbb["close"])


def test_every_business_day_gives_one_390_bar_session_per_symbol(
    market: GeneratedMarket, two_symbol_market: GeneratedMarket
) -> None:
    sessions = split_sessions(market.bars, market.config.calendar)
    assert len(sessions) == 250
    assert {session.n_bars for session in sessions} == {390}
    assert all(session.date.weekday() < 5 for session in sessions)
    assert sessions[0].date == dt.date(2024, 1, 2)
    assert sessions[3].date == dt.date(2024, 1, 5)
    assert sessions[4].date == dt.date(2024, 1, 8)
    pair = two_symbol_market.sessions()
    assert len(pair) == 12
    assert {session.n_bars for session in pair} == {390}
    assert [session.symbol for session in pair[:2]] == ["AAA", "BBB"]


def test_timestamps_are_utc_bar_opens_across_dst(market: GeneratedMarket) -> None:
    sessions = market.sessions()
    january = sessions[0]
    july = next(session for session in sessions if session.date.month == 7)
    assert january.ts_ns[0] == pd.Timestamp("2024-01-02T14:30Z").value == january.open_ns
    assert july.ts_ns[0] == july.open_ns
    assert pd.Timestamp(july.open_ns, tz="UTC").hour == 13
    assert np.all(np.diff(july.ts_ns) == NS_PER_MINUTE)
    assert str(market.bars["timestamp"].dtype) == "datetime64[ns, UTC]"


def test_next_open_equals_close_inside_sessions_and_gaps_between(
    market: GeneratedMarket,
) -> None:
    sessions = market.sessions()
    assert sessions[0].open[0] == market.config.start_price
    for session in sessions:
        np.testing.assert_array_equal(session.open[1:], session.close[:-1])
    gaps = np.log(
        [later.open[0] / earlier.close[-1] for earlier, later in itertools.pairwise(sessions)]
    )
    assert np.std(gaps) == pytest.approx(market.config.gap_volatility, rel=0.25)


def test_high_and_low_bracket_open_and_close(market: GeneratedMarket) -> None:
    bars = market.bars
    assert (bars["high"] >= np.maximum(bars["open"], bars["close"])).all()
    assert (bars["low"] <= np.minimum(bars["open"], bars["close"])).all()
    assert (bars["low"] > 0).all()


def test_generated_bars_pass_validation_and_match_loaded_frames(
    tmp_path, two_symbol_market: GeneratedMarket
) -> None:
    validate_ohlcv(two_symbol_market.bars, "generated")
    path = write_ohlcv(two_symbol_market.bars, tmp_path / "market.parquet")
    pd.testing.assert_frame_equal(load_ohlcv(path), two_symbol_market.bars)


def test_volatility_and_volume_are_u_shaped(market: GeneratedMarket) -> None:
    sessions = market.sessions()
    returns = np.abs(np.stack([_log_returns(session) for session in sessions]))
    volume = np.stack([session.volume for session in sessions])
    for values in (returns, volume):
        by_minute = values.mean(axis=0)
        midday = by_minute[165:225].mean()
        assert by_minute[:30].mean() > 1.3 * midday
        assert by_minute[-30:].mean() > 1.3 * midday


def test_mid_day_volatility_is_about_five_bps(market: GeneratedMarket) -> None:
    calm = market.regimes["regime"].to_numpy() != Regime.VOLATILE
    sessions = [s for s, keep in zip(market.sessions(), calm, strict=True) if keep]
    midday = np.concatenate([_log_returns(session)[165:225] for session in sessions])
    assert np.std(midday) == pytest.approx(5e-4, rel=0.15)


def test_all_regimes_appear_and_persist(market: GeneratedMarket) -> None:
    regimes = market.regimes["regime"].to_numpy()
    assert set(regimes) == {regime.value for regime in Regime}
    assert np.mean(regimes[1:] == regimes[:-1]) > 0.7
    assert list(market.regimes.columns) == ["symbol", "date", "regime"]


def test_volatile_sessions_are_about_twice_as_volatile(market: GeneratedMarket) -> None:
    regimes = market.regimes["regime"].to_numpy()
    spread = np.array([np.std(_log_returns(session)) for session in market.sessions()])
    ratio = spread[regimes == Regime.VOLATILE].mean() / spread[regimes == Regime.TRENDING].mean()
    assert ratio == pytest.approx(2.0, rel=0.15)


def test_expected_return_is_the_exact_mean_reversion_pull(market: GeneratedMarket) -> None:
    kappa = market.config.mean_reversion_speed
    regimes = market.regimes["regime"].to_numpy()
    for session, regime in zip(market.sessions()[:40], regimes, strict=False):
        signal = market.oracle_signal(session)
        assert signal[-1] == 0.0
        if regime == Regime.MEAN_REVERTING:
            pull = -kappa * np.log(session.close / session.open[0])
            np.testing.assert_allclose(signal[:-1], pull[:-1], rtol=0, atol=1e-12)
        if regime == Regime.VOLATILE:
            assert not signal.any()


def test_expected_return_predicts_the_next_bar(market: GeneratedMarket) -> None:
    predicted, realized = [], []
    for session in market.sessions()[:100]:
        predicted.append(market.oracle_signal(session)[:-1])
        realized.append(_log_returns(session)[1:])
    corr = np.corrcoef(np.concatenate(predicted), np.concatenate(realized))[0, 1]
    n_pairs = sum(len(values) for values in predicted)
    t_stat = corr * np.sqrt((n_pairs - 2) / (1 - corr**2))
    assert 0.05 < corr < 0.2
    assert t_stat > 5.0


def test_oracle_after_costs_beats_flat_over_50_sessions(market: GeneratedMarket) -> None:
    net = []
    for session in market.sessions()[:50]:
        positions = oracle_positions(market.oracle_signal(session))  # 0 on the last bar
        gross = np.sum(positions[:-1] * _log_returns(session)[1:])  # filled at the next open
        turnover = np.abs(np.diff(positions, prepend=0.0)).sum()
        net.append(gross - COST_PER_SIDE * turnover)
    net_pnl = np.asarray(net)
    assert net_pnl.sum() > 0.0
    assert net_pnl.mean() / net_pnl.std() * np.sqrt(net_pnl.size) > 3.0


def test_oracle_signal_of_a_foreign_session_is_rejected(
    market: GeneratedMarket, two_symbol_market: GeneratedMarket
) -> None:
    foreign = two_symbol_market.sessions()[0]
    with pytest.raises(DataError, match=r"session \('AAA', 2024-01-02\) is not from this market"):
        market.oracle_signal(foreign)
    own = market.sessions()[0]
    shifted = Session(
        own.symbol,
        own.date,
        own.ts_ns + 1,
        own.open,
        own.high,
        own.low,
        own.close,
        own.volume,
        own.open_ns,
        own.close_ns,
        own.bar_ns,
    )
    with pytest.raises(DataError, match=r"not from this market"):
        market.oracle_signal(shifted)


def test_oracle_signal_matches_expected_return_rows(two_symbol_market: GeneratedMarket) -> None:
    sessions = two_symbol_market.sessions()
    bbb_day_2 = sessions[3]
    assert bbb_day_2.key == ("BBB", dt.date(2024, 1, 3))
    start = 6 * 390 + 390  # AAA's rows come first, then BBB's first session
    np.testing.assert_array_equal(
        two_symbol_market.oracle_signal(bbb_day_2),
        two_symbol_market.expected_return[start : start + 390],
    )


@given(
    signal=arrays(np.float64, st.integers(0, 50), elements=st.floats(-1e-3, 1e-3)),
    threshold=st.floats(0.0, 5e-4),
)
def test_oracle_positions_follow_the_sign_beyond_the_threshold(
    signal: np.ndarray, threshold: float
) -> None:
    positions = oracle_positions(signal, threshold)
    assert positions.shape == signal.shape
    np.testing.assert_array_equal(positions == 1.0, signal > threshold)
    np.testing.assert_array_equal(positions == -1.0, signal < -threshold)
    assert set(np.unique(positions)) <= {-1.0, 0.0, 1.0}


def test_default_oracle_threshold_is_one_basis_point() -> None:
    assert pytest.approx(1e-4) == DEFAULT_ORACLE_THRESHOLD
    assert oracle_positions([2e-4, 0.5e-4, -3e-4]).tolist() == [1.0, 0.0, -1.0]
