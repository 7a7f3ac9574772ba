"""Reading and writing bundle folders: hashes, ``metadata.json``, atomic publication.

Every read goes through :func:`read_bundle`, which checks, in this order and before anything
runs: the folder exists, ``metadata.json`` exists and is JSON, its ``schema_version`` is one this
code reads, none of its fields was edited since export (``integrity``), it follows the schema
(cross-field rules and bounds included), every file it lists exists with the recorded size and
sha256, and the numpy arrays have the shapes the metadata gives
(:mod:`intraday_rl.bundle.consistency`). Every write goes to a temporary
folder next to the target, which :func:`publish` renames into place, so a crash never leaves part
of a bundle under the target name.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from intraday_rl.bundle.consistency import check_bundle_files
from intraday_rl.bundle.schema import (
    METADATA_FILE,
    REQUIRED_FILES,
    SIGNATURE_FILE,
    SUPPORTED_SCHEMA_VERSIONS,
    BundleMetadata,
    FileRecord,
)
from intraday_rl.shared.config import format_validation_error
from intraday_rl.shared.errors import (
    BundleChecksumError,
    BundleExportError,
    BundleMetadataEditedError,
    BundleMissingFileError,
    BundleNotFoundError,
    BundleSchemaError,
    BundleSchemaVersionError,
)

INTEGRITY_FIELD: Final = "integrity"
INTEGRITY_ALGORITHM: Final = "sha256/canonical-json"
_CHUNK_BYTES: Final = 1 << 20


@dataclass(frozen=True, slots=True)
class LoadedBundle:
    """A bundle folder whose metadata and files passed every check of :func:`read_bundle`.

    Attributes:
        path: The bundle folder.
        metadata: The parsed, checked ``metadata.json``.
        canonical_sha256: sha256 of the canonical JSON of ``metadata.json`` as read (what a
            signature signs, see :func:`canonical_json_bytes`); empty when not read from a file.
    """

    path: Path
    metadata: BundleMetadata
    canonical_sha256: str = ""


def sha256_file(path: Path) -> str:
    """Return the sha256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def file_record(path: Path) -> FileRecord:
    """Return the :class:`FileRecord` (sha256, size) of a file."""
    return FileRecord(sha256=sha256_file(path), size_bytes=path.stat().st_size)


def canonical_json_bytes(value: Any) -> bytes:
    """Return a JSON value as canonical bytes: sorted keys, no whitespace, no NaN, UTF-8.

    >>> canonical_json_bytes({"b": 1, "a": [1.5, None]})
    b'{"a":[1.5,null],"b":1}'

    Raises:
        ValueError: The value holds NaN or inf.
    """
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return text.encode()


def _canonical_sha256(value: Any) -> str:
    return hashlib.sha256(canonical_json_bytes(value)).hexdigest()


def integrity_block(fields: dict[str, Any]) -> dict[str, Any]:
    """Return the ``integrity`` value for the other top-level metadata fields (JSON values)."""
    return {
        "algorithm": INTEGRITY_ALGORITHM,
        "fields": {name: _canonical_sha256(value) for name, value in sorted(fields.items())},
        "metadata_sha256": _canonical_sha256(fields),
    }


def write_metadata(folder: Path, metadata: BundleMetadata) -> Path:
    """Write ``metadata.json`` with a fresh ``integrity`` block; return its path."""
    fields = metadata.model_dump(mode="json", exclude={INTEGRITY_FIELD})
    fields[INTEGRITY_FIELD] = integrity_block(fields)
    path = folder / METADATA_FILE
    _write_durably(path, (json.dumps(fields, indent=2, allow_nan=False) + "\n").encode())
    return path


def read_bundle(path: str | Path) -> LoadedBundle:
    """Read and verify a bundle folder (see the module docstring for the checks and order).

    Raises:
        BundleNotFoundError: ``path`` does not exist or is not a folder.
        BundleMissingFileError: ``metadata.json`` or a file it lists is missing.
        BundleSchemaVersionError: ``schema_version`` is not one this code reads.
        BundleMetadataEditedError: a metadata field differs from what export recorded.
        BundleSchemaError: the metadata is not JSON or does not follow the schema.
        BundleChecksumError: a file's size or sha256 differs from the recorded one.
        BundleSchemaError: also when an array in ``policy.npz`` or ``verification.npz`` has
            another shape than the metadata gives.
    """
    folder = Path(path)
    if not folder.exists():
        raise BundleNotFoundError(f"{folder}: bundle folder not found")
    if not folder.is_dir():
        raise BundleNotFoundError(f"{folder}: expected a bundle folder, was a file")
    metadata_path = folder / METADATA_FILE
    if not metadata_path.is_file():
        raise BundleMissingFileError(
            f"{metadata_path}: missing; {folder} is not a complete bundle (re-export or re-copy it)"
        )
    raw = _read_json(metadata_path)
    _check_schema_version(raw, metadata_path)
    _check_integrity(raw, metadata_path)
    try:
        metadata = BundleMetadata.model_validate(raw)
    except ValidationError as error:
        raise BundleSchemaError(format_validation_error(error, str(metadata_path))) from None
    _check_files(folder, metadata)
    check_bundle_files(folder, metadata)
    return LoadedBundle(folder, metadata, _canonical_sha256(raw))


def read_metadata_json(folder: Path) -> dict[str, Any]:
    """Read a bundle's ``metadata.json`` as a JSON object, unchecked (for signing).

    Raises:
        BundleNotFoundError: ``folder`` does not exist or is not a folder.
        BundleMissingFileError: ``metadata.json`` is missing.
        BundleSchemaError: It is not a JSON object.
    """
    if not folder.is_dir():
        raise BundleNotFoundError(f"{folder}: bundle folder not found")
    metadata_path = folder / METADATA_FILE
    if not metadata_path.is_file():
        raise BundleMissingFileError(f"{metadata_path}: missing; {folder} is not a bundle")
    return _read_json(metadata_path)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleSchemaError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise BundleSchemaError(f"{path}: expected a JSON object, was {type(data).__name__}")
    return data


def _check_schema_version(raw: dict[str, Any], path: Path) -> None:
    version = raw.get("schema_version")
    if version not in SUPPORTED_SCHEMA_VERSIONS or isinstance(version, bool):
        supported = ", ".join(str(v) for v in SUPPORTED_SCHEMA_VERSIONS)
        raise BundleSchemaVersionError(
            f"{path}: schema_version: expected one of {supported}, was {version!r} "
            "(written by another intraday-rl version: load it with that version or re-export)"
        )


def _check_integrity(raw: dict[str, Any], path: Path) -> None:
    recorded = raw.get(INTEGRITY_FIELD)
    if not isinstance(recorded, dict) or not isinstance(recorded.get("fields"), dict):
        raise BundleSchemaError(f"{path}: integrity: missing or not an object")
    if recorded.get("algorithm") != INTEGRITY_ALGORITHM:
        raise BundleSchemaError(
            f"{path}: integrity.algorithm: expected {INTEGRITY_ALGORITHM!r}, "
            f"was {recorded.get('algorithm')!r}"
        )
    fields = {name: value for name, value in raw.items() if name != INTEGRITY_FIELD}
    try:
        actual = integrity_block(fields)
    except ValueError as error:  # NaN / inf written into the file
        raise BundleMetadataEditedError(f"{path}: not canonical JSON ({error})") from None
    expected_fields: dict[str, Any] = recorded["fields"]
    added = sorted(set(fields) - set(expected_fields))
    removed = sorted(set(expected_fields) - set(fields))
    edited = sorted(
        name
        for name in set(fields) & set(expected_fields)
        if actual["fields"][name] != expected_fields[name]
    )
    problems = [f"field {name!r} was edited" for name in edited]
    problems += [f"field {name!r} was added" for name in added]
    problems += [f"field {name!r} was removed" for name in removed]
    if not problems and actual["metadata_sha256"] != recorded.get("metadata_sha256"):
        problems.append("integrity.metadata_sha256 was edited")
    if problems:
        raise BundleMetadataEditedError(
            f"{path}: {'; '.join(problems)} after export (its sha256 differs from the one "
            "recorded in integrity); restore the original metadata.json or re-export the bundle"
        )


def _check_files(folder: Path, metadata: BundleMetadata) -> None:
    source = folder / METADATA_FILE
    for name in REQUIRED_FILES:
        if name not in metadata.files:
            raise BundleSchemaError(f"{source}: files: expected an entry for {name!r}, none found")
    for name, record in metadata.files.items():
        if Path(name).name != name or name in (".", "..", METADATA_FILE, SIGNATURE_FILE):
            raise BundleSchemaError(f"{source}: files: {name!r} is not a plain bundle file name")
        file_path = folder / name
        if not file_path.is_file():
            raise BundleMissingFileError(
                f"{file_path}: missing (listed in metadata.json); the bundle is incomplete: "
                "re-export it or copy the whole folder again"
            )
        size = file_path.stat().st_size
        digest = sha256_file(file_path)
        if digest != record.sha256 or size != record.size_bytes:
            raise BundleChecksumError(
                f"{file_path}: sha256 expected {record.sha256} ({record.size_bytes} bytes), "
                f"was {digest} ({size} bytes): the file changed after export"
            )


def check_target(target: Path, *, overwrite: bool) -> None:
    """Refuse a target that exists, unless it is a bundle and ``overwrite`` is set.

    Raises:
        BundleExportError: ``target`` exists and ``overwrite`` is off, or it is not a bundle.
    """
    if not target.exists():
        return
    if not overwrite:
        raise BundleExportError(f"{target}: already exists; pass overwrite=True to replace it")
    if not target.is_dir() or not (target / METADATA_FILE).is_file():
        raise BundleExportError(
            f"{target}: exists and is not a bundle (no {METADATA_FILE}); refusing to replace it"
        )


def make_temp_folder(target: Path) -> Path:
    """Create and return an empty hidden folder next to ``target`` (same filesystem)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))


def publish(temp: Path, target: Path, *, overwrite: bool) -> Path:
    """Rename the finished ``temp`` folder to ``target`` (replacing a bundle if ``overwrite``)."""
    check_target(target, overwrite=overwrite)
    _fsync_folder(temp)
    try:
        if target.exists():
            backup = target.parent / f".{target.name}.old-{uuid.uuid4().hex}"
            os.rename(target, backup)
            try:
                os.rename(temp, target)
            except OSError:
                os.rename(backup, target)
                raise
            shutil.rmtree(backup, ignore_errors=True)
        else:
            os.rename(temp, target)
    except OSError as error:
        raise BundleExportError(f"{target}: cannot move the bundle into place: {error}") from None
    _fsync_folder(target.parent)
    return target


def copy_bundle(bundle: LoadedBundle, target: str | Path, *, overwrite: bool = False) -> Path:
    """Copy a verified bundle to ``target`` through a temp folder; verify the copy; publish it.

    A ``signature.json`` is copied too: it stays valid, since ``metadata.json`` is unchanged.
    """
    target = Path(target)
    check_target(target, overwrite=overwrite)
    temp = make_temp_folder(target)
    signature = [SIGNATURE_FILE] if (bundle.path / SIGNATURE_FILE).is_file() else []
    try:
        for name in (*bundle.metadata.files, METADATA_FILE, *signature):
            shutil.copyfile(bundle.path / name, temp / name)
        read_bundle(temp)
        return publish(temp, target, overwrite=overwrite)
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def _write_durably(path: Path, data: bytes) -> None:
    with path.open("wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())


def replace_durably(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` through a synced temporary file and an atomic rename."""
    temp = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex}")
    try:
        _write_durably(temp, data)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def _fsync_folder(folder: Path) -> None:
    # Make the folder's entries (new files, a rename) durable; not supported on every platform.
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
