"""load_ohlcv and write_ohlcv: formats, column names, symbols and time zones."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intraday_rl.data import CANONICAL_COLUMNS, load_ohlcv, write_ohlcv
from intraday_rl.shared.errors import DataError

BarsFactory = Callable[..., pd.DataFrame]


def _utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC")


def _write_csv_text(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(["timestamp,open,high,low,close,volume", *rows]) + "\n")
    return path


def test_loaded_frame_has_canonical_columns_and_dtypes(
    tmp_path: Path, make_bars: BarsFactory
) -> None:
    path = write_ohlcv(make_bars(n_bars=5), tmp_path / "market.csv")
    frame = load_ohlcv(path)
    assert tuple(frame.columns) == CANONICAL_COLUMNS
    assert str(frame["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert pd.api.types.is_string_dtype(frame["symbol"].dtype)
    for column in ("open", "high", "low", "close", "volume"):
        assert frame[column].dtype == np.float64
    assert isinstance(frame.index, pd.RangeIndex)


def test_csv_parquet_and_partitioned_folder_give_identical_frames(
    tmp_path: Path, make_bars: BarsFactory
) -> None:
    bars = make_bars(n_bars=30, symbols=("AAA", "BBB", "CCC"))
    from_csv = load_ohlcv(write_ohlcv(bars, tmp_path / "market.csv"))
    from_gzip = load_ohlcv(write_ohlcv(bars, tmp_path / "market.csv.gz"))
    from_parquet = load_ohlcv(write_ohlcv(bars, tmp_path / "market.parquet"))
    bars.to_parquet(tmp_path / "dataset", partition_cols=["symbol"])
    from_folder = load_ohlcv(tmp_path / "dataset")
    pd.testing.assert_frame_equal(from_csv, from_parquet)
    pd.testing.assert_frame_equal(from_csv, from_gzip)
    pd.testing.assert_frame_equal(from_csv, from_folder)
    pd.testing.assert_frame_equal(from_csv, bars)


def test_column_names_match_regardless_of_case_and_spaces(
    tmp_path: Path, make_bars: BarsFactory
) -> None:
    bars = make_bars(n_bars=5)
    renamed = bars.rename(columns={"timestamp": " TimeStamp", "close": "CLOSE ", "open": "Open"})
    renamed["Extra"] = 1
    frame = load_ohlcv(write_ohlcv(bars, tmp_path / "plain.csv"))
    renamed.to_csv(tmp_path / "market.csv", index=False)
    pd.testing.assert_frame_equal(load_ohlcv(tmp_path / "market.csv"), frame)


def test_multi_symbol_file_is_sorted_by_symbol_then_time(
    tmp_path: Path, make_bars: BarsFactory
) -> None:
    bars = make_bars(n_bars=4, symbols=("BBB", "AAA"))
    interleaved = bars.iloc[[0, 4, 1, 5, 2, 6, 3, 7]]
    interleaved.to_csv(tmp_path / "market.csv", index=False)
    frame = load_ohlcv(tmp_path / "market.csv")
    assert frame["symbol"].tolist() == ["AAA"] * 4 + ["BBB"] * 4
    for _, group in frame.groupby("symbol"):
        assert group["timestamp"].is_monotonic_increasing


def test_symbol_filter_on_csv_keeps_one_symbol(tmp_path: Path, make_bars: BarsFactory) -> None:
    path = write_ohlcv(make_bars(n_bars=4, symbols=("AAA", "BBB")), tmp_path / "market.csv")
    frame = load_ohlcv(path, symbol="BBB")
    assert set(frame["symbol"]) == {"BBB"}
    assert len(frame) == 4
    with pytest.raises(DataError, match=r"no rows for symbol 'ZZZ' \(found: AAA, BBB\)"):
        load_ohlcv(path, symbol="ZZZ")


def test_symbol_filter_on_folder_never_opens_other_partitions(
    tmp_path: Path, make_bars: BarsFactory
) -> None:
    bars = make_bars(n_bars=6, symbols=("AAA", "BBB"))
    bars.to_parquet(tmp_path / "dataset", partition_cols=["symbol"])
    broken = tmp_path / "dataset" / "symbol=ZZZ"
    broken.mkdir()
    (broken / "part-0.parquet").write_bytes(b"not parquet")
    frame = load_ohlcv(tmp_path / "dataset", symbol="BBB")
    expected = bars[bars["symbol"] == "BBB"].reset_index(drop=True)
    pd.testing.assert_frame_equal(frame, expected)


def test_folder_errors_name_the_partition_file(tmp_path: Path, make_bars: BarsFactory) -> None:
    bars = make_bars(n_bars=6, symbols=("AAA", "BBB"))
    bars.loc[9, ["high", "low"]] = [90.0, 95.0]
    bars.to_parquet(tmp_path / "dataset", partition_cols=["symbol"])
    with pytest.raises(DataError, match=r"symbol=BBB.*\.parquet row 4: high 90 < low 95"):
        load_ohlcv(tmp_path / "dataset")


def test_symbol_split_over_files_with_repeated_time_is_rejected(
    tmp_path: Path, make_bars: BarsFactory
) -> None:
    folder = tmp_path / "dataset"
    folder.mkdir()
    bars = make_bars(n_bars=3)
    bars.to_parquet(folder / "a.parquet")
    bars.to_parquet(folder / "b.parquet")
    with pytest.raises(DataError, match=r"symbol 'SYN' has timestamp .* more than one file"):
        load_ohlcv(folder)


def test_file_without_symbol_column_takes_argument_or_default(
    tmp_path: Path, make_bars: BarsFactory
) -> None:
    path = write_ohlcv(make_bars(n_bars=3), tmp_path / "market.csv")
    pd.read_csv(path).drop(columns=["symbol"]).to_csv(path, index=False)
    assert set(load_ohlcv(path)["symbol"]) == {"SYN"}
    assert set(load_ohlcv(path, symbol="SPY")["symbol"]) == {"SPY"}


def test_offsets_are_converted_to_utc(tmp_path: Path) -> None:
    path = _write_csv_text(
        tmp_path / "market.csv",
        [
            "2024-01-02T09:30:00-05:00,1,1,1,1,1",
            "2024-01-02T14:31:00Z,1,1,1,1,1",
            "2024-01-02 15:32:00+01:00,1,1,1,1,1",
        ],
    )
    stamps = load_ohlcv(path)["timestamp"].tolist()
    assert stamps == [_utc(f"2024-01-02T14:3{k}:00Z") for k in range(3)]


def test_naive_timestamps_without_default_timezone_say_how_to_fix(tmp_path: Path) -> None:
    path = _write_csv_text(tmp_path / "market.csv", ["2024-01-02 09:30:00,1,1,1,1,1"])
    with pytest.raises(
        DataError, match=r"market\.csv row 1, column 'timestamp'.*no time zone.*default_timezone="
    ):
        load_ohlcv(path)


def test_naive_timestamps_are_localized_with_dst(tmp_path: Path) -> None:
    path = _write_csv_text(
        tmp_path / "market.csv",
        ["2024-01-02 09:30:00,1,1,1,1,1", "2024-07-01 09:30:00,1,1,1,1,1"],
    )
    stamps = load_ohlcv(path, default_timezone="America/New_York")["timestamp"].tolist()
    assert stamps == [_utc("2024-01-02T14:30:00Z"), _utc("2024-07-01T13:30:00Z")]


def test_local_time_in_dst_gap_is_rejected(tmp_path: Path) -> None:
    path = _write_csv_text(tmp_path / "market.csv", ["2024-03-10 02:30:00,1,1,1,1,1"])
    with pytest.raises(DataError, match=r"row 1, column 'timestamp': local time .* does not exist"):
        load_ohlcv(path, default_timezone="America/New_York")


def test_unknown_default_timezone_is_rejected(tmp_path: Path) -> None:
    path = _write_csv_text(tmp_path / "market.csv", ["2024-01-02 09:30:00,1,1,1,1,1"])
    with pytest.raises(DataError, match=r"unknown default_timezone 'Mars/Olympus'"):
        load_ohlcv(path, default_timezone="Mars/Olympus")


@pytest.mark.parametrize(("unit", "value"), [("s", 1_704_205_800), ("ms", 1_704_205_800_000)])
def test_epoch_numbers_are_read_in_the_given_unit(tmp_path: Path, unit: str, value: int) -> None:
    path = _write_csv_text(tmp_path / "market.csv", [f"{value},1,1,1,1,1"])
    frame = load_ohlcv(path, timestamp_unit=unit)
    assert frame["timestamp"].tolist() == [_utc("2024-01-02T14:30:00Z")]


def test_epoch_numbers_without_unit_are_rejected(tmp_path: Path) -> None:
    path = _write_csv_text(tmp_path / "market.csv", ["1704205800,1,1,1,1,1"])
    with pytest.raises(DataError, match=r"market\.csv: column 'timestamp' holds numbers.*unit="):
        load_ohlcv(path)
    with pytest.raises(DataError, match=r"timestamp_unit must be one of s, ms, us, ns"):
        load_ohlcv(path, timestamp_unit="minutes")


def test_parquet_tz_aware_column_is_converted_to_utc(
    tmp_path: Path, make_bars: BarsFactory
) -> None:
    bars = make_bars(n_bars=3)
    local = bars.assign(timestamp=bars["timestamp"].dt.tz_convert("America/New_York"))
    local.to_parquet(tmp_path / "market.parquet")
    pd.testing.assert_frame_equal(load_ohlcv(tmp_path / "market.parquet"), bars)


def test_parquet_naive_column_needs_default_timezone(
    tmp_path: Path, make_bars: BarsFactory
) -> None:
    bars = make_bars(n_bars=3, start="2024-01-02T09:30:00")
    table = pa.Table.from_pandas(bars, preserve_index=False)
    pq.write_table(table, tmp_path / "market.parquet")
    with pytest.raises(DataError, match=r"market\.parquet row 1.*no time zone"):
        load_ohlcv(tmp_path / "market.parquet")
    frame = load_ohlcv(tmp_path / "market.parquet", default_timezone="America/New_York")
    assert frame["timestamp"].iloc[0] == _utc("2024-01-02T14:30:00Z")


def test_write_rejects_unknown_suffix(tmp_path: Path, make_bars: BarsFactory) -> None:
    with pytest.raises(DataError, match=r"market\.json: unsupported file type"):
        write_ohlcv(make_bars(), tmp_path / "market.json")


_prices = st.floats(min_value=0.01, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=25, deadline=None)
@given(prices=st.lists(st.tuples(_prices, _prices, _prices, _prices), min_size=1, max_size=20))
def test_csv_round_trip_is_exact(prices: list[tuple[float, float, float, float]]) -> None:
    values = np.sort(np.asarray(prices), axis=1)
    n_bars = values.shape[0]
    bars = pd.DataFrame(
        {
            "timestamp": pd.date_range("2024-01-02T14:30:00Z", periods=n_bars, freq="min"),
            "symbol": pd.Series(["SYN"] * n_bars, dtype="str"),
            "open": values[:, 1],
            "high": values[:, 3],
            "low": values[:, 0],
            "close": values[:, 2],
            "volume": values[:, 0] * 3.0,
        }
    ).astype({"timestamp": "datetime64[ns, UTC]"})
    with tempfile.TemporaryDirectory() as folder:
        frame = load_ohlcv(write_ohlcv(bars, Path(folder) / "market.csv"))
    pd.testing.assert_frame_equal(frame, bars)
