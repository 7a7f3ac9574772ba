"""Bad input files: every error names the file, the row and the column."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from intraday_rl.data import load_ohlcv, validate_ohlcv
from intraday_rl.shared.errors import DataError

BarsFactory = Callable[..., pd.DataFrame]


def _write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def test_high_below_low_names_file_and_row(tmp_path: Path, make_bars: BarsFactory) -> None:
    bars = make_bars(n_bars=1_300)
    bars.loc[1_203, ["high", "low"]] = [101.2, 101.5]
    bars.loc[1_250, ["high", "low"]] = [101.2, 101.5]
    path = _write(bars, tmp_path / "market.csv")
    with pytest.raises(
        DataError, match=r"market\.csv row 1,204: high 101\.2 < low 101\.5 \(2 rows"
    ):
        load_ohlcv(path)


def test_missing_column_lists_found_columns(tmp_path: Path, make_bars: BarsFactory) -> None:
    path = _write(make_bars().drop(columns=["close"]), tmp_path / "market.csv")
    with pytest.raises(
        DataError, match=r"market\.csv: missing column 'close' \(found: timestamp, symbol, open"
    ):
        load_ohlcv(path)


@pytest.mark.parametrize("column", ["open", "high", "low", "close"])
def test_nan_price_names_row_and_column(
    tmp_path: Path, make_bars: BarsFactory, column: str
) -> None:
    bars = make_bars(n_bars=10)
    bars.loc[6, column] = np.nan
    path = _write(bars, tmp_path / "market.csv")
    with pytest.raises(DataError, match=rf"market\.csv row 7, column '{column}': NaN \(1 row"):
        load_ohlcv(path)


def test_nan_volume_is_rejected(tmp_path: Path, make_bars: BarsFactory) -> None:
    bars = make_bars(n_bars=10)
    bars.loc[[2, 4], "volume"] = np.nan
    path = _write(bars, tmp_path / "market.csv")
    with pytest.raises(DataError, match=r"row 3, column 'volume': NaN \(2 rows fail"):
        load_ohlcv(path)


def test_negative_volume_is_rejected(tmp_path: Path, make_bars: BarsFactory) -> None:
    bars = make_bars(n_bars=10)
    bars.loc[4, "volume"] = -5.0
    path = _write(bars, tmp_path / "market.csv")
    with pytest.raises(DataError, match=r"market\.csv row 5, column 'volume': volume -5 is neg"):
        load_ohlcv(path)


def test_non_positive_price_is_rejected(tmp_path: Path, make_bars: BarsFactory) -> None:
    bars = make_bars(n_bars=10)
    bars.loc[3, ["open", "low"]] = [0.0, 0.0]
    path = _write(bars, tmp_path / "market.csv")
    with pytest.raises(DataError, match=r"market\.csv row 4, column 'open': price 0 is not pos"):
        load_ohlcv(path)


@pytest.mark.parametrize("column", ["open", "close"])
def test_price_outside_range_names_row(tmp_path: Path, make_bars: BarsFactory, column: str) -> None:
    bars = make_bars(n_bars=10)
    bars.loc[8, column] = 150.0
    path = _write(bars, tmp_path / "market.csv")
    with pytest.raises(DataError, match=rf"market\.csv row 9: {column} 150 is outside \[low"):
        load_ohlcv(path)


def test_duplicate_timestamp_names_both_rows_and_symbol(
    tmp_path: Path, make_bars: BarsFactory
) -> None:
    bars = make_bars(n_bars=10)
    bars.loc[8, "timestamp"] = bars.loc[7, "timestamp"]
    path = _write(bars, tmp_path / "market.csv")
    with pytest.raises(
        DataError,
        match=r"market\.csv row 9: timestamp 2024-01-02 14:37:00\+00:00 is not after row 8 "
        r"\(2024-01-02 14:37:00\+00:00\) for symbol 'SYN'",
    ):
        load_ohlcv(path)


def test_decreasing_timestamp_is_checked_per_symbol_in_file_order(
    tmp_path: Path, make_bars: BarsFactory
) -> None:
    bars = make_bars(n_bars=4, symbols=("AAA", "BBB"))
    interleaved = bars.iloc[[0, 4, 1, 5, 2, 6, 3, 7]].reset_index(drop=True)
    _write(interleaved, tmp_path / "ok.csv")
    assert len(load_ohlcv(tmp_path / "ok.csv")) == 8
    swapped = interleaved.iloc[[0, 1, 2, 3, 6, 5, 4, 7]]
    path = _write(swapped, tmp_path / "market.csv")
    with pytest.raises(DataError, match=r"row 7: timestamp .* is not after row 5 .* 'AAA'"):
        load_ohlcv(path)


def test_unparseable_timestamp_names_value(tmp_path: Path, make_bars: BarsFactory) -> None:
    bars = make_bars(n_bars=5).astype({"timestamp": "str"})
    bars.loc[2, "timestamp"] = "2024-13-45"
    path = _write(bars, tmp_path / "market.csv")
    with pytest.raises(
        DataError, match=r"market\.csv row 3, column 'timestamp': cannot parse '2024-13-45'"
    ):
        load_ohlcv(path)


def test_missing_timestamp_names_row(tmp_path: Path, make_bars: BarsFactory) -> None:
    bars = make_bars(n_bars=5).astype({"timestamp": "str"})
    bars.loc[1, "timestamp"] = None
    path = _write(bars, tmp_path / "market.csv")
    with pytest.raises(DataError, match=r"row 2, column 'timestamp': missing value"):
        load_ohlcv(path)


def test_text_in_price_column_names_value(tmp_path: Path, make_bars: BarsFactory) -> None:
    bars = make_bars(n_bars=5).astype({"high": "str"})
    bars.loc[3, "high"] = "abc"
    path = _write(bars, tmp_path / "market.csv")
    with pytest.raises(DataError, match=r"row 4, column 'high': cannot parse 'abc'"):
        load_ohlcv(path)


def test_header_only_file_has_no_data_rows(tmp_path: Path, make_bars: BarsFactory) -> None:
    path = _write(make_bars().iloc[:0], tmp_path / "market.csv")
    with pytest.raises(DataError, match=r"market\.csv: no data rows"):
        load_ohlcv(path)


def test_empty_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "market.csv"
    path.write_text("")
    with pytest.raises(DataError, match=r"market\.csv: file is empty"):
        load_ohlcv(path)


def test_missing_file_names_path(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nowhere\.csv: file not found"):
        load_ohlcv(tmp_path / "nowhere.csv")


def test_unknown_suffix_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "market.xlsx"
    path.write_text("x")
    with pytest.raises(DataError, match=r"market\.xlsx: unsupported file type"):
        load_ohlcv(path)


def test_columns_equal_up_to_case_are_rejected(tmp_path: Path, make_bars: BarsFactory) -> None:
    bars = make_bars()
    bars["Close "] = bars["close"]
    path = _write(bars, tmp_path / "market.csv")
    with pytest.raises(DataError, match=r"columns 'close' and 'Close ' are the same column"):
        load_ohlcv(path)


def test_validate_rejects_naive_timestamps(make_bars: BarsFactory) -> None:
    bars = make_bars()
    bars["timestamp"] = bars["timestamp"].dt.tz_localize(None)
    with pytest.raises(DataError, match=r"frame: column 'timestamp' must hold timezone-aware"):
        validate_ohlcv(bars, "frame")


def test_validate_accepts_valid_bars(make_bars: BarsFactory) -> None:
    validate_ohlcv(make_bars(n_bars=50, symbols=("AAA", "BBB")), "frame")


def test_missing_symbol_names_row(tmp_path: Path, make_bars: BarsFactory) -> None:
    bars = make_bars(n_bars=3, symbols=("AAA", "BBB"))
    bars.loc[4, "symbol"] = None
    path = _write(bars, tmp_path / "market.csv")
    with pytest.raises(DataError, match=r"market\.csv row 5, column 'symbol': missing value"):
        load_ohlcv(path)
