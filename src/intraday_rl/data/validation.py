"""Vectorized checks of OHLCV frames, with errors that name the file, the row and the column.

A row is the 1-based data row of the file (the header is not counted), i.e. the frame's position
plus one, so checks run before anything is sorted. Each check reports its first offending row and
how many rows fail it::

    market.csv row 1,204: high 101.2 < low 101.5 (3 rows fail this check)
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence

import numpy as np
import pandas as pd

from intraday_rl.shared.arrays import BoolArray, FloatArray, IntArray
from intraday_rl.shared.constants import (
    CLOSE,
    HIGH,
    LOW,
    MAX_PRICE,
    MAX_VOLUME,
    MIN_PRICE,
    OHLCV_COLUMNS,
    OPEN,
    PRICE_COLUMNS,
    SYMBOL,
    TIMESTAMP,
    VOLUME,
)
from intraday_rl.shared.errors import DataError

__all__ = [
    "coerce_numeric",
    "fail_on_rows",
    "format_row",
    "normalize_columns",
    "require_columns",
    "resolve_columns",
    "validate_ohlcv",
]


def format_row(position: int) -> str:
    """Return ``row N`` for a 0-based frame position (N is 1-based, with thousands separators)."""
    return f"row {position + 1:,}"


def fail_on_rows(mask: BoolArray, source: str, describe: Callable[[int], str]) -> None:
    """Raise DataError for the first True in ``mask``, if any.

    Args:
        mask: One flag per row; True marks a row that fails the check.
        source: The file (or other origin) named at the start of the message.
        describe: Maps the first failing 0-based position to the message after the source,
            e.g. ``lambda i: f"{format_row(i)}: high ... < low ..."``.

    Raises:
        DataError: ``"<source> <describe(first)> (<n> rows fail this check)"``.
    """
    bad = np.flatnonzero(mask)
    if bad.size == 0:
        return
    count = int(bad.size)
    total = "1 row fails" if count == 1 else f"{count:,} rows fail"
    raise DataError(f"{source} {describe(int(bad[0]))} ({total} this check)")


def normalize_columns(names: Sequence[Hashable], source: str) -> dict[str, str]:
    """Map each stripped, lower-cased column name to the original name.

    Raises:
        DataError: If two columns collide once case and surrounding spaces are ignored.
    """
    mapping: dict[str, str] = {}
    for name in names:
        original = str(name)
        key = original.strip().lower()
        if key in mapping:
            raise DataError(
                f"{source}: columns {mapping[key]!r} and {original!r} are the same column once "
                "case and spaces are ignored; keep one"
            )
        mapping[key] = original
    return mapping


TIMESTAMP_ALIASES = ("datetime", "date_time", "date", "time", "ts", "unnamed: 0", "")
"""Names taken as the timestamp column when there is no ``timestamp`` (in this order; the last
two are pandas' unnamed index column)."""
VOLUME_ALIASES = ("vol", "tick_volume", "tickvol")


def resolve_columns(
    mapping: dict[str, str], source: str, columns: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Return ``mapping`` with the canonical names resolved: declared first, then aliases.

    Args:
        mapping: :func:`normalize_columns` of the file.
        source: File name for messages.
        columns: Declared names, canonical -> the file's column (any case), e.g.
            ``{"timestamp": "Time", "volume": "Tick Volume"}``.

    Raises:
        DataError: A declared column that the file does not have, or an unknown canonical name.
    """
    resolved = dict(mapping)
    for canonical, name in (columns or {}).items():
        if canonical not in (*OHLCV_COLUMNS, SYMBOL):
            raise DataError(
                f"{source}: columns: unknown name {canonical!r}; expected one of "
                f"{', '.join((*OHLCV_COLUMNS, SYMBOL))}"
            )
        key = name.strip().lower()
        if key not in mapping:
            raise DataError(
                f"{source}: columns.{canonical}: no column {name!r} "
                f"(found: {', '.join(mapping.values())})"
            )
        resolved[canonical] = mapping[key]
    for canonical, aliases in ((TIMESTAMP, TIMESTAMP_ALIASES), (VOLUME, VOLUME_ALIASES)):
        if canonical not in resolved:
            found = next((alias for alias in aliases if alias in mapping), None)
            if found is not None:
                resolved[canonical] = mapping[found]
    return resolved


def require_columns(mapping: dict[str, str], source: str) -> None:
    """Raise DataError naming the first required OHLCV column missing from ``mapping``."""
    for column in OHLCV_COLUMNS:
        if column not in mapping:
            found = ", ".join(mapping.values()) or "no columns"
            raise DataError(f"{source}: missing column {column!r} (found: {found})")


def coerce_numeric(values: pd.Series, column: str, source: str) -> FloatArray:
    """Return ``values`` as float64, raising DataError on text that is not a number.

    Missing values become NaN (reported by :func:`validate_ohlcv`); ``'abc'`` is reported here as
    ``<source> row 3, column 'open': cannot parse 'abc'``.
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        raise DataError(f"{source}: column {column!r} holds booleans, expected numbers")
    if pd.api.types.is_numeric_dtype(values.dtype):
        return np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    numbers = pd.to_numeric(values, errors="coerce")
    unparsed = np.asarray(numbers.isna().to_numpy() & values.notna().to_numpy(), dtype=np.bool_)
    fail_on_rows(
        unparsed,
        source,
        lambda i: f"{format_row(i)}, column {column!r}: cannot parse {values.iloc[i]!r}",
    )
    return np.asarray(numbers.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def validate_ohlcv(df: pd.DataFrame, source: str = "data") -> None:
    """Check an OHLCV frame in file order; raise DataError on the first failing check.

    Column names are matched without regard to case or surrounding spaces. ``timestamp`` must
    be timezone-aware datetimes (``load_ohlcv`` parses text and numbers first); ``symbol`` is
    optional (one symbol if absent). Checks, in order: required columns, unparseable numbers,
    missing timestamps and symbols, NaN or infinite prices and volumes, non-positive prices,
    high < low, open or close outside [low, high], negative volume, and timestamps that do not
    strictly increase per symbol in file order.

    Args:
        df: The rows as read, before any sorting.
        source: Name of the file (or origin) for messages, e.g. ``"market.csv"``.

    Raises:
        DataError: Naming the source, the first offending row and column, and how many rows fail.
    """
    mapping = resolve_columns(normalize_columns(list(df.columns), source), source)
    require_columns(mapping, source)
    if len(df) == 0:
        raise DataError(f"{source}: no data rows")
    ts_ns = _timestamps_ns(df[mapping[TIMESTAMP]], source)
    symbols = _symbol_codes(df[mapping[SYMBOL]], source) if SYMBOL in mapping else None
    values = {
        column: coerce_numeric(df[mapping[column]], column, source)
        for column in (*PRICE_COLUMNS, VOLUME)
    }
    _check_values(values, source)
    _check_increasing(ts_ns, symbols, df[mapping[SYMBOL]] if symbols is not None else None, source)


def _timestamps_ns(values: pd.Series, source: str) -> IntArray:
    if not isinstance(values.dtype, pd.DatetimeTZDtype):
        raise DataError(
            f"{source}: column {TIMESTAMP!r} must hold timezone-aware datetimes, was "
            f"{values.dtype}; read files with load_ohlcv, which parses and localizes them"
        )
    missing = np.asarray(values.isna().to_numpy(), dtype=np.bool_)
    fail_on_rows(missing, source, lambda i: f"{format_row(i)}, column {TIMESTAMP!r}: missing value")
    return np.asarray(pd.DatetimeIndex(values).tz_convert("UTC").as_unit("ns").asi8)


def _symbol_codes(values: pd.Series, source: str) -> IntArray:
    missing = np.asarray(values.isna().to_numpy(), dtype=np.bool_)
    fail_on_rows(missing, source, lambda i: f"{format_row(i)}, column {SYMBOL!r}: missing value")
    codes, _ = pd.factorize(values)
    return np.asarray(codes, dtype=np.int64)


def _number(value: float) -> str:
    if np.isnan(value):
        return "NaN"
    return format(value, ".10g")


def _check_column(
    mask: BoolArray, source: str, column: str, values: FloatArray, template: str
) -> None:
    # ``template`` says what is wrong with the first bad value, e.g. "{value} is negative".
    def describe(i: int) -> str:
        what = template.format(value=_number(float(values[i])))
        return f"{format_row(i)}, column {column!r}: {what}"

    fail_on_rows(mask, source, describe)


def _check_within(
    source: str, column: str, values: FloatArray, low: FloatArray, high: FloatArray
) -> None:
    def describe(i: int) -> str:
        return (
            f"{format_row(i)}: {column} {_number(float(values[i]))} is outside "
            f"[low {_number(float(low[i]))}, high {_number(float(high[i]))}]"
        )

    fail_on_rows((values < low) | (values > high), source, describe)


def _check_values(values: dict[str, FloatArray], source: str) -> None:
    for column, array in values.items():
        _check_column(~np.isfinite(array), source, column, array, "{value}")
    for column in PRICE_COLUMNS:
        array = values[column]
        _check_column(array <= 0.0, source, column, array, "price {value} is not positive")
        _check_column(
            (array > 0.0) & ((array < MIN_PRICE) | (array > MAX_PRICE)),
            source,
            column,
            array,
            f"price {{value}} is outside [{MIN_PRICE:g}, {MAX_PRICE:g}] (what training accepts)",
        )
    high, low = values[HIGH], values[LOW]
    fail_on_rows(
        high < low,
        source,
        lambda i: f"{format_row(i)}: high {_number(float(high[i]))} < low {_number(float(low[i]))}",
    )
    for column in (OPEN, CLOSE):
        _check_within(source, column, values[column], low, high)
    volume = values[VOLUME]
    _check_column(volume < 0.0, source, VOLUME, volume, "volume {value} is negative")
    _check_column(
        volume > MAX_VOLUME, source, VOLUME, volume, f"volume {{value}} is above {MAX_VOLUME:g}"
    )


def _check_increasing(
    ts_ns: IntArray, codes: IntArray | None, symbols: pd.Series | None, source: str
) -> None:
    # Group rows by symbol keeping file order inside each group (stable sort), then compare each
    # row with the previous row of the same symbol.
    if codes is None:
        order = np.arange(ts_ns.shape[0])
        same = np.ones(max(ts_ns.shape[0] - 1, 0), dtype=np.bool_)
    else:
        order = np.argsort(codes, kind="stable")
        same = codes[order][1:] == codes[order][:-1]
    ordered_ts = ts_ns[order]
    bad_pairs = same & (ordered_ts[1:] <= ordered_ts[:-1])
    mask = np.zeros(ts_ns.shape[0], dtype=np.bool_)
    mask[order[1:][bad_pairs]] = True
    previous = np.full(ts_ns.shape[0], -1, dtype=np.int64)
    previous[order[1:]] = order[:-1]

    def describe(i: int) -> str:
        before = int(previous[i])
        name = str(symbols.iloc[i]) if symbols is not None else None
        owner = f" for symbol {name!r}" if name is not None else ""
        return (
            f"{format_row(i)}: timestamp {_stamp(ts_ns[i])} is not after "
            f"{format_row(before)} ({_stamp(ts_ns[before])}){owner}"
        )

    fail_on_rows(mask, source, describe)


def _stamp(ts_ns: np.int64) -> str:
    return str(pd.Timestamp(int(ts_ns), tz="UTC"))
