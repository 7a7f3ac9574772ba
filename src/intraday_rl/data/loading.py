"""Read and write OHLCV files: CSV (``.csv``, ``.csv.gz``), Parquet, partitioned Parquet folders.

Every reader ends in the same canonical frame, checked by
:func:`~intraday_rl.data.validation.validate_ohlcv` in file order and then sorted::

    timestamp  datetime64[ns, UTC]   bar open time
    symbol     str
    open, high, low, close, volume   float64
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from intraday_rl.data.timestamps import parse_timestamps
from intraday_rl.data.validation import (
    coerce_numeric,
    normalize_columns,
    require_columns,
    resolve_columns,
    validate_ohlcv,
)
from intraday_rl.shared.constants import (
    DEFAULT_SYMBOL,
    OHLCV_COLUMNS,
    PRICE_COLUMNS,
    SYMBOL,
    TIMESTAMP,
    VOLUME,
)
from intraday_rl.shared.errors import DataError

__all__ = ["CANONICAL_COLUMNS", "load_ohlcv", "write_ohlcv"]

CANONICAL_COLUMNS = (TIMESTAMP, SYMBOL, *PRICE_COLUMNS, VOLUME)
"""Column order of every frame :func:`load_ohlcv` returns."""

_CSV_SUFFIXES = (".csv", ".csv.gz")
_PARQUET_SUFFIXES = (".parquet", ".pq")
# A pyarrow.dataset special field: the file each scanned row came from.
_FILENAME = "__filename"
_LOG = logging.getLogger(__name__)


def load_ohlcv(
    path: str | Path,
    *,
    symbol: str | None = None,
    default_timezone: str | None = None,
    timestamp_unit: str | None = None,
    timestamp_format: str | None = None,
    columns: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Read an OHLCV file or partitioned Parquet folder into the canonical frame.

    Column names are matched without regard to case or surrounding spaces; ``columns`` may
    declare the file's names (``{"timestamp": "Time"}``), and without it the usual layouts are
    recognized (a ``Date`` / ``Datetime`` / ``Time`` column or pandas' unnamed index column as
    the timestamp, ``Vol`` as volume; :data:`~intraday_rl.data.validation.TIMESTAMP_ALIASES`).
    Columns other than timestamp, symbol, open, high, low, close and volume are dropped. A
    Parquet folder (hive partitions such as ``symbol=XYZ/`` allowed) is scanned lazily: only the
    needed columns are read and the ``symbol`` filter is pushed down to the scan. Row numbers in
    errors count the rows read from each file, header excluded.

    Args:
        path: A ``.csv`` / ``.csv.gz`` / ``.parquet`` file or a folder of Parquet files.
        symbol: Keep only this symbol; also the symbol of a file without a symbol column.
        default_timezone: IANA zone used to localize naive timestamps (e.g.
            ``"America/New_York"``); without it naive timestamps are an error.
        timestamp_unit: Unit of numeric (epoch) timestamps: ``'s'``, ``'ms'``, ``'us'``, ``'ns'``.
        timestamp_format: ``strftime`` format of text timestamps (e.g. ``"%d.%m.%Y %H:%M"``).
        columns: The file's names of canonical columns, where they differ.

    Returns:
        Columns ``[timestamp, symbol, open, high, low, close, volume]``, timestamps
        ``datetime64[ns, UTC]``, sorted by (symbol, timestamp), with a fresh RangeIndex.

    Raises:
        DataError: Missing or unreadable file, missing columns, unparseable or naive timestamps,
            invalid prices or volumes, non-increasing timestamps, no rows for ``symbol``.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found")
    if path.is_dir():
        parts = _read_parquet(path, symbol, columns, partitioned=True)
    elif path.name.lower().endswith(_CSV_SUFFIXES):
        parts = [(str(path), _read_csv(path, columns))]
    elif path.name.lower().endswith(_PARQUET_SUFFIXES):
        parts = _read_parquet(path, symbol, columns, partitioned=False)
    else:
        raise DataError(
            f"{path}: unsupported file type; expected .csv, .csv.gz, .parquet or a folder of "
            "Parquet files"
        )
    frames = [
        _canonical(raw, source, symbol, default_timezone, timestamp_unit, timestamp_format, columns)
        for source, raw in parts
    ]
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if symbol is not None:
        frame = _keep_symbol(frame, symbol, path)
    frame = frame.sort_values([SYMBOL, TIMESTAMP], kind="stable", ignore_index=True)
    _check_unique_across_files(frame, path)
    _LOG.debug("loaded %d bars of %d symbols from %s", len(frame), frame[SYMBOL].nunique(), path)
    return frame


def write_ohlcv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a canonical OHLCV frame to ``.parquet`` or ``.csv`` / ``.csv.gz`` (by suffix).

    CSV timestamps are written in ISO 8601 with their UTC offset, so :func:`load_ohlcv` reads
    them back without a ``default_timezone``. Parent folders are created.

    Returns:
        The path written.

    Raises:
        DataError: If the suffix is not supported or a canonical column is missing.
    """
    path = Path(path)
    missing = [column for column in CANONICAL_COLUMNS if column not in df.columns]
    if missing:
        raise DataError(f"{path}: cannot write, missing columns {missing}")
    frame = df.loc[:, list(CANONICAL_COLUMNS)]
    name = path.name.lower()
    if name.endswith(_PARQUET_SUFFIXES):
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(path, index=False)
    elif name.endswith(_CSV_SUFFIXES):
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False)
    else:
        raise DataError(f"{path}: unsupported file type; expected .parquet, .csv or .csv.gz")
    return path


def _read_csv(path: Path, columns: Mapping[str, str] | None) -> pd.DataFrame:
    try:
        header = pd.read_csv(path, nrows=0)
        mapping = resolve_columns(
            normalize_columns(list(header.columns), str(path)), str(path), columns
        )
        # Symbols stay text even when they look like numbers ("007").
        dtype = {mapping[SYMBOL]: "str"} if SYMBOL in mapping else None
        return pd.read_csv(path, dtype=dtype)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: file is empty (expected a header and data rows)") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError) as error:
        raise DataError(f"{path}: cannot read CSV: {error}") from None


def _read_parquet(
    path: Path, symbol: str | None, columns: Mapping[str, str] | None, *, partitioned: bool
) -> list[tuple[str, pd.DataFrame]]:
    try:
        dataset = ds.dataset(path, format="parquet", partitioning="hive" if partitioned else None)
    except (pa.ArrowException, OSError) as error:
        raise DataError(f"{path}: cannot read Parquet: {error}") from None
    if not dataset.files:
        raise DataError(f"{path}: no Parquet files found")
    mapping = resolve_columns(
        normalize_columns(dataset.schema.names, str(path)), str(path), columns
    )
    require_columns(mapping, str(path))
    wanted = [mapping[column] for column in (*OHLCV_COLUMNS, SYMBOL) if column in mapping]
    # Push the symbol filter into the scan: partitions of other symbols are never opened.
    condition = (
        ds.field(mapping[SYMBOL]) == symbol if symbol is not None and SYMBOL in mapping else None
    )
    try:
        table = dataset.to_table(columns=[*wanted, _FILENAME], filter=condition)
    except (pa.ArrowException, OSError) as error:
        raise DataError(f"{path}: cannot read Parquet: {error}") from None
    if table.num_rows == 0:
        source = f"{path}: no rows for symbol {symbol!r}" if condition is not None else None
        raise DataError(source or f"{path}: no data rows")
    frame = table.to_pandas()
    if not partitioned:
        return [(str(path), frame.drop(columns=[_FILENAME]))]
    return _split_by_file(frame)


def _split_by_file(frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    files = frame[_FILENAME].to_numpy()
    _, first = np.unique(files, return_index=True)
    parts = []
    for start in np.sort(first):
        name = str(files[start])
        rows = frame.loc[frame[_FILENAME] == name].drop(columns=[_FILENAME])
        parts.append((name, rows.reset_index(drop=True)))
    return parts


def _canonical(
    raw: pd.DataFrame,
    source: str,
    symbol: str | None,
    default_timezone: str | None,
    timestamp_unit: str | None,
    timestamp_format: str | None,
    declared: Mapping[str, str] | None,
) -> pd.DataFrame:
    # Parse and type one file's rows, then validate them in file order.
    mapping = resolve_columns(normalize_columns(list(raw.columns), source), source, declared)
    require_columns(mapping, source)
    if len(raw) == 0:
        raise DataError(f"{source}: no data rows")
    ts_ns = parse_timestamps(
        raw[mapping[TIMESTAMP]],
        source,
        default_timezone=default_timezone,
        timestamp_unit=timestamp_unit,
        timestamp_format=timestamp_format,
    )
    columns: dict[str, object] = {
        TIMESTAMP: pd.DatetimeIndex(ts_ns.view("datetime64[ns]")).tz_localize("UTC"),
        SYMBOL: _symbols(raw, mapping, symbol),
    }
    for column in (*PRICE_COLUMNS, VOLUME):
        columns[column] = coerce_numeric(raw[mapping[column]], column, source)
    frame = pd.DataFrame(columns)
    validate_ohlcv(frame, source)
    frame[SYMBOL] = frame[SYMBOL].astype("str")
    return frame


def _symbols(raw: pd.DataFrame, mapping: dict[str, str], symbol: str | None) -> pd.Series:
    if SYMBOL in mapping:
        values = raw[mapping[SYMBOL]]
        # Keep missing values missing (validate_ohlcv names their row); make the rest text.
        return values.where(values.isna(), values.astype("str"))
    return pd.Series(symbol or DEFAULT_SYMBOL, index=raw.index, dtype="str")


def _keep_symbol(frame: pd.DataFrame, symbol: str, path: Path) -> pd.DataFrame:
    keep = frame[SYMBOL] == symbol
    if not bool(keep.any()):
        found = ", ".join(sorted(frame[SYMBOL].unique()))
        raise DataError(f"{path}: no rows for symbol {symbol!r} (found: {found})")
    return frame.loc[keep].reset_index(drop=True)


def _check_unique_across_files(frame: pd.DataFrame, path: Path) -> None:
    # Each file was checked on its own; a symbol split over files may still repeat a time.
    symbols = frame[SYMBOL].to_numpy()
    ts = frame[TIMESTAMP].to_numpy()
    repeated = np.flatnonzero((symbols[1:] == symbols[:-1]) & (ts[1:] == ts[:-1]))
    if repeated.size:
        first = int(repeated[0]) + 1
        raise DataError(
            f"{path}: symbol {symbols[first]!r} has timestamp {frame[TIMESTAMP].iloc[first]} in "
            f"more than one file ({repeated.size:,} duplicated rows)"
        )
