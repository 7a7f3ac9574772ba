"""Turn a file's timestamp column into UTC nanoseconds, refusing to guess a time zone.

Accepted: timezone-aware datetimes (converted to UTC); text in ISO 8601 with an offset
(``2024-01-02T09:30:00-05:00``, ``...Z``); naive datetimes or text, localized to
``default_timezone`` when given (DST-aware); numbers, read as epoch times in ``timestamp_unit``.
"""

from __future__ import annotations

import zoneinfo

import numpy as np
import pandas as pd

from intraday_rl.data.validation import fail_on_rows, format_row
from intraday_rl.shared.arrays import BoolArray, IntArray
from intraday_rl.shared.constants import TIMESTAMP
from intraday_rl.shared.errors import DataError

__all__ = ["TIMESTAMP_UNITS", "parse_timestamps"]

TIMESTAMP_UNITS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
"""Nanoseconds per unit of a numeric (epoch) timestamp."""

# A time of day followed by a zone designator: 'Z', 'UTC', '+05:00', '-0500', '+05'.
_OFFSET_PATTERN = r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"
_COLUMN = f"column {TIMESTAMP!r}"


def parse_timestamps(
    values: pd.Series,
    source: str,
    *,
    default_timezone: str | None = None,
    timestamp_unit: str | None = None,
    timestamp_format: str | None = None,
) -> IntArray:
    """Parse a timestamp column into int64 UTC nanoseconds, one per row.

    Args:
        values: The column as read from the file.
        source: File name for error messages.
        default_timezone: IANA zone for naive timestamps; without it they are an error.
        timestamp_unit: ``'s'``, ``'ms'``, ``'us'`` or ``'ns'`` for numeric timestamps.
        timestamp_format: A ``strftime`` format for text timestamps (e.g.
            ``"%d.%m.%Y %H:%M:%S.%f"``); without it ISO 8601 first, then pandas' guess per row.

    Raises:
        DataError: Missing or unparseable values (naming the row), naive timestamps without
            ``default_timezone``, numbers without ``timestamp_unit``, an unknown unit or zone, or
            local times that do not exist or are ambiguous in ``default_timezone``.
    """
    if timestamp_unit is not None and timestamp_unit not in TIMESTAMP_UNITS:
        raise DataError(
            f"{source}: timestamp_unit must be one of {', '.join(TIMESTAMP_UNITS)}, "
            f"was {timestamp_unit!r}"
        )
    if default_timezone is not None:
        _check_zone(default_timezone, source)
    missing = np.asarray(values.isna().to_numpy(), dtype=np.bool_)
    fail_on_rows(missing, source, lambda i: f"{format_row(i)}, {_COLUMN}: missing value")
    dtype = values.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        return _to_ns(pd.DatetimeIndex(values).tz_convert("UTC"), source)
    if pd.api.types.is_datetime64_dtype(dtype):
        return _localize(pd.DatetimeIndex(values), values, source, default_timezone)
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        return _from_epoch(values, source, timestamp_unit)
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        return _from_text(
            values.astype("str").str.strip(), source, default_timezone, timestamp_format
        )
    raise DataError(f"{source}: {_COLUMN} has type {dtype}; expected datetimes, text or numbers")


def _check_zone(name: str, source: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise DataError(
            f"{source}: unknown default_timezone {name!r}; use an IANA name such as "
            "'America/New_York'"
        ) from None


def _to_ns(index: pd.DatetimeIndex, source: str) -> IntArray:
    try:
        return np.asarray(index.as_unit("ns").asi8, dtype=np.int64)
    except (OverflowError, pd.errors.OutOfBoundsDatetime):
        raise DataError(f"{source}: {_COLUMN} has dates outside 1677-2262") from None


def _from_epoch(values: pd.Series, source: str, unit: str | None) -> IntArray:
    if unit is None:
        raise DataError(
            f"{source}: {_COLUMN} holds numbers (first: {values.iloc[0]!r}); pass "
            "timestamp_unit='s', 'ms', 'us' or 'ns' to read them as epoch times"
        )
    scale = TIMESTAMP_UNITS[unit]
    if pd.api.types.is_integer_dtype(values.dtype):
        numbers = np.asarray(values.to_numpy(dtype=np.int64), dtype=np.int64)
        too_big = np.abs(numbers) > np.iinfo(np.int64).max // scale
        fail_on_rows(too_big, source, lambda i: f"{format_row(i)}, {_COLUMN}: out of range")
        return numbers * scale
    floats = np.asarray(values.to_numpy(dtype=np.float64), dtype=np.float64)
    bad = ~np.isfinite(floats) | (np.abs(floats * scale) >= 2.0**63)
    fail_on_rows(bad, source, lambda i: f"{format_row(i)}, {_COLUMN}: out of range")
    return np.asarray(np.rint(floats * scale), dtype=np.int64)


def _from_text(
    text: pd.Series, source: str, default_timezone: str | None, text_format: str | None = None
) -> IntArray:
    has_zone = np.asarray(text.str.contains(_OFFSET_PATTERN, regex=True).to_numpy(), dtype=bool)
    aware = _parse_text(text[has_zone], source, utc=True, text_format=text_format)
    naive = _parse_text(text[~has_zone], source, utc=False, text_format=text_format)
    unparsed = np.zeros(len(text), dtype=np.bool_)
    unparsed[has_zone] = aware.isna()
    unparsed[~has_zone] = naive.isna()
    fail_on_rows(
        unparsed, source, lambda i: f"{format_row(i)}, {_COLUMN}: cannot parse {text.iloc[i]!r}"
    )
    result = np.empty(len(text), dtype=np.int64)
    result[has_zone] = aware.asi8
    if (~has_zone).any():
        result[~has_zone] = _localize(naive, text, source, default_timezone, rows=~has_zone)
    return result


def _parse_text(
    text: pd.Series, source: str, *, utc: bool, text_format: str | None = None
) -> pd.DatetimeIndex:
    if text_format is not None:  # the file's declared format, nothing guessed
        try:
            return _as_ns(
                pd.to_datetime(text, format=text_format, utc=utc, errors="coerce"), source
            )
        except ValueError as error:
            raise DataError(f"{source}: timestamp_format {text_format!r}: {error}") from None
    # Fast ISO 8601 first; only the rows it rejects go through the slow per-element parser.
    parsed = _as_ns(pd.to_datetime(text, format="ISO8601", utc=utc, errors="coerce"), source)
    retry = np.asarray(parsed.isna(), dtype=np.bool_)
    if not retry.any():
        return parsed
    try:
        again = _as_ns(
            pd.to_datetime(text[retry], format="mixed", utc=utc, errors="coerce"), source
        )
    except (ValueError, TypeError, OverflowError):
        return parsed
    if (again.tz is None) != (parsed.tz is None):
        return parsed  # a zone only the slow parser understood: those rows stay unparsed
    combined = parsed.asi8.copy()
    combined[retry] = again.asi8
    result = pd.DatetimeIndex(combined.view("datetime64[ns]"))
    return result.tz_localize("UTC") if utc else result


def _as_ns(values: pd.Series, source: str) -> pd.DatetimeIndex:
    try:
        return pd.DatetimeIndex(values).as_unit("ns")
    except (OverflowError, pd.errors.OutOfBoundsDatetime):
        raise DataError(f"{source}: {_COLUMN} has dates outside 1677-2262") from None


def _localize(
    naive: pd.DatetimeIndex,
    original: pd.Series,
    source: str,
    zone: str | None,
    rows: BoolArray | None = None,
) -> IntArray:
    # ``rows`` maps positions of ``naive`` back to file rows when only some rows were naive.
    positions = np.flatnonzero(rows) if rows is not None else np.arange(len(naive))
    if zone is None:
        first = int(positions[0])
        raise DataError(
            f"{source} {format_row(first)}, {_COLUMN}: {str(original.iloc[first])!r} has no time "
            f"zone ({len(positions):,} such rows); pass default_timezone='America/New_York' "
            "(the exchange's zone) or write timestamps with an offset, e.g. "
            "2024-01-02T09:30:00-05:00"
        )
    local = naive.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    invalid = np.zeros(len(original), dtype=np.bool_)
    invalid[positions] = np.asarray(local.isna(), dtype=np.bool_)
    fail_on_rows(
        invalid,
        source,
        lambda i: (
            f"{format_row(i)}, {_COLUMN}: local time {str(original.iloc[i])!r} does not exist "
            f"or is ambiguous in {zone} (a DST change); write it with an offset"
        ),
    )
    return _to_ns(local.tz_convert("UTC"), source)
