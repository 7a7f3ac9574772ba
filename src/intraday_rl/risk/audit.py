"""Decision audit: every non-ALLOW decision and every limit change as one JSON line.

Each record carries the policy hash in force, so a line can be traced to the exact limits. The
writer appends and flushes after every line: a crash loses at most the line being written.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol, runtime_checkable

from intraday_rl.shared.types import RiskDecision, TradeRequest

AUDIT_SCHEMA_VERSION = 1


@runtime_checkable
class AuditSink(Protocol):
    """Where the engine sends audit records (a JSON-lines file, a list in tests)."""

    def write(self, record: dict[str, Any]) -> None:
        """Store one record."""


def _json_number(value: float) -> float | str:
    # JSON has no NaN or inf: write them as strings so every line stays valid JSON.
    return value if math.isfinite(value) else repr(value)


def _request_fields(request: object) -> dict[str, Any]:
    if not isinstance(request, TradeRequest):
        return {"request_type": type(request).__name__}
    fields: dict[str, Any] = {}
    for name in TradeRequest.__slots__:
        value = getattr(request, name)
        if isinstance(value, float):
            value = _json_number(value)
        elif not isinstance(value, str | int | None):
            value = repr(value)
        fields[name] = value
    return fields


def decision_record(
    request: object, decision: RiskDecision, now_ns: object, policy_hash: str, state: str
) -> dict[str, Any]:
    """Build the audit record of one decision (JSON-safe: NaN and inf become strings)."""
    return {
        "schema_version": AUDIT_SCHEMA_VERSION,
        "kind": "decision",
        "ts_ns": now_ns if isinstance(now_ns, int) else repr(now_ns),
        "policy_hash": policy_hash,
        "trading_state": state,
        "action": decision.action.name,
        "allowed_quantity": _json_number(decision.allowed_quantity),
        "reason_codes": list(decision.reason_codes),
        "evidence": list(decision.evidence),
        "request": _request_fields(request),
    }


def limit_change_record(
    now_ns: object,
    old_hash: str,
    new_hash: str,
    changes: dict[str, tuple[Any, Any]],
    operator: str,
) -> dict[str, Any]:
    """Build the audit record of a policy change: ``changes`` maps a dotted key to (old, new)."""
    return {
        "schema_version": AUDIT_SCHEMA_VERSION,
        "kind": "limit_change",
        "ts_ns": now_ns if isinstance(now_ns, int) else repr(now_ns),
        "policy_hash": new_hash,
        "previous_policy_hash": old_hash,
        "operator": operator,
        "changes": {key: {"old": old, "new": new} for key, (old, new) in changes.items()},
    }


def operator_record(
    now_ns: object, policy_hash: str, event: str, operator: str, reason: str
) -> dict[str, Any]:
    """Build the audit record of an operator action (kill switch, re-arm)."""
    return {
        "schema_version": AUDIT_SCHEMA_VERSION,
        "kind": "operator",
        "ts_ns": now_ns if isinstance(now_ns, int) else repr(now_ns),
        "policy_hash": policy_hash,
        "event": event,
        "operator": operator,
        "reason": reason,
    }


def flatten_changes(
    old: dict[str, Any], new: dict[str, Any], prefix: str = ""
) -> dict[str, tuple[Any, Any]]:
    """Return ``{dotted.key: (old, new)}`` for every leaf that differs between two dumps."""
    changes: dict[str, tuple[Any, Any]] = {}
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        name = f"{prefix}{key}"
        if isinstance(before, dict) and isinstance(after, dict):
            changes.update(flatten_changes(before, after, f"{name}."))
        elif before != after:
            changes[name] = (before, after)
    return changes


class JsonlAuditWriter:
    """Append audit records to a JSON-lines file, flushing after each line.

    Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = self.path.open("a", encoding="utf-8")
        self.n_records = 0

    def write(self, record: dict[str, Any]) -> None:
        """Append ``record`` as one line and flush."""
        self._file.write(json.dumps(record, sort_keys=True, allow_nan=False) + "\n")
        self._file.flush()
        self.n_records += 1

    def close(self) -> None:
        """Close the file (idempotent)."""
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> JsonlAuditWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def read_audit_log(path: str | Path) -> list[dict[str, Any]]:
    """Read every record of a JSON-lines audit file."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
