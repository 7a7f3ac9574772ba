"""The base of every pydantic config: frozen, unknown fields forbidden, self-hashing.

Also the one place that reads a YAML file into a config and turns pydantic's validation errors
into messages that name the file and the field.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from intraday_rl.shared.errors import ConfigError

ConfigT = TypeVar("ConfigT", bound="FrozenConfig")


class FrozenConfig(BaseModel):
    """A frozen config model that rejects unknown fields and hashes its canonical JSON."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    def canonical_json(self) -> str:
        """Return the config as JSON with sorted keys and no whitespace (stable across runs)."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def config_hash(self) -> str:
        """Return the sha256 hex digest of :meth:`canonical_json`."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()


def format_validation_error(error: ValidationError, source: str) -> str:
    """Turn a pydantic error into lines ``source: a.b.c: message, was <input>``."""
    lines = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field"
        quiet = not location or item["type"] in ("missing", "extra_forbidden")
        evidence = "" if quiet else f", was {item.get('input')!r}"
        where = f"{source}: {location}: " if location else f"{source}: "
        lines.append(f"{where}{message}{evidence}")
    return "\n".join(lines)


def parse_config(model: type[ConfigT], data: Any, source: str = "config") -> ConfigT:
    """Validate ``data`` (a mapping) into ``model``; raise ConfigError naming each bad field."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: expected a mapping at the top level, was {type(data).__name__}"
        )
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ConfigError(format_validation_error(error, source)) from None


def load_yaml_config(model: type[ConfigT], path: str | Path) -> ConfigT:
    """Read a YAML file into ``model``; errors name the file and the field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read config: {error.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: invalid YAML: {error}") from None
    return parse_config(model, data, source=str(path))
