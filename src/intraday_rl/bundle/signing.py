"""Ed25519 signatures for bundles: who published a bundle, not only whether it is intact.

The ``integrity`` block and file hashes catch accidents, but anyone who can write the folder can
recompute them. A signature cannot be recomputed without the private key.
:func:`sign_bundle` writes a detached ``signature.json`` next to the other files (which it does
not touch). It signs ``metadata.json``'s canonical JSON (sorted keys, no whitespace) prefixed by
:data:`SIGNING_CONTEXT`. That JSON holds the sha256 of every other file, and loading checks every
file against it, so the signature covers the whole bundle. Reformatting ``metadata.json`` keeps
the signature valid; changing any value or any file does not.

``signature.json``::

    {"format": "intraday-rl/bundle-signature", "version": 1, "algorithm": "ed25519",
     "key_id": "<sha256 hex of the 32-byte raw public key>",
     "metadata_sha256": "<sha256 hex of the canonical metadata.json>",
     "signature": "<base64 of the 64-byte signature>"}

Keys are PEM files (PKCS#8 private, SubjectPublicKeyInfo public, as :func:`generate_signing_key`
writes them) or raw 32-byte files. When no key is passed, :data:`SIGNING_KEY_ENV` names the
private key file and :data:`TRUSTED_KEYS_ENV` the public key file(s), comma-separated. The
variables are read when a function is called, never at import. cryptography is imported lazily.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, TypeAlias

from intraday_rl.bundle.errors import (
    BundleSignatureInvalidError,
    BundleSigningKeyError,
    BundleUnsignedError,
    BundleUntrustedKeyError,
)
from intraday_rl.bundle.schema import METADATA_FILE, SIGNATURE_FILE
from intraday_rl.bundle.storage import (
    LoadedBundle,
    canonical_json_bytes,
    read_bundle,
    read_metadata_json,
    replace_durably,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

    TrustedKey: TypeAlias = Ed25519PublicKey | str | os.PathLike[str]
    TrustedKeys: TypeAlias = TrustedKey | Iterable[TrustedKey]

SIGNATURE_FORMAT: Final = "intraday-rl/bundle-signature"
SIGNATURE_VERSION: Final = 1
SIGNATURE_ALGORITHM: Final = "ed25519"
SIGNING_CONTEXT: Final = b"intraday-rl/policy-bundle-signature/v1\n"
"""Prefix of the signed bytes, so a bundle signature is never valid for anything else."""

SIGNING_KEY_ENV: Final = "INTRADAY_RL_SIGNING_KEY"
"""Environment variable: path of the private key file ``sign_bundle`` uses by default."""

TRUSTED_KEYS_ENV: Final = "INTRADAY_RL_TRUSTED_KEYS"
"""Environment variable: path of a public key file, or comma-separated paths, trusted by default."""

PUBLIC_KEY_SUFFIX: Final = ".pub"
_RAW_KEY_BYTES: Final = 32
_SIGNATURE_BYTES: Final = 64


@dataclass(frozen=True, slots=True)
class GeneratedKey:
    """Files written by :func:`generate_signing_key`."""

    private_key_path: Path
    public_key_path: Path
    key_id: str


@dataclass(frozen=True, slots=True)
class VerifiedBundle:
    """A bundle that passed every check of ``read_bundle`` and carries a trusted signature."""

    bundle: LoadedBundle
    key_id: str
    signature_path: Path


def public_key_id(public_key: Ed25519PublicKey) -> str:
    """Return a public key's id: the sha256 hex digest of its 32 raw bytes."""
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def generate_signing_key(path: str | os.PathLike[str], *, overwrite: bool = False) -> GeneratedKey:
    """Write a new Ed25519 private key (PEM, mode 0600) and its public key (``PATH.pub``).

    Args:
        path: The private key file to create.
        overwrite: Replace existing files instead of refusing.

    Returns:
        Both paths and the key id.

    Raises:
        BundleSigningKeyError: A file exists (and ``overwrite`` is off) or cannot be written.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private_path = Path(path)
    public_path = Path(f"{private_path}{PUBLIC_KEY_SUFFIX}")
    existing = [str(item) for item in (private_path, public_path) if item.exists()]
    if existing and not overwrite:
        raise BundleSigningKeyError(
            f"{', '.join(existing)}: already exists; pass overwrite=True (--overwrite) to "
            "replace it"
        )
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write_new(private_path, private_pem, 0o600, overwrite=overwrite)
    _write_new(public_path, public_pem, 0o644, overwrite=overwrite)
    return GeneratedKey(private_path, public_path, public_key_id(key.public_key()))


def _write_new(path: Path, data: bytes, mode: int, *, overwrite: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        descriptor = os.open(path, flags, mode)
    except FileExistsError:
        raise BundleSigningKeyError(
            f"{path}: already exists; pass overwrite=True (--overwrite) to replace it"
        ) from None
    except OSError as error:
        raise BundleSigningKeyError(f"{path}: cannot write the key ({error.strerror})") from None
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(data)
    os.chmod(path, mode)  # O_CREAT's mode is masked by the umask and ignored for existing files


def load_signing_key(path: str | os.PathLike[str] | None = None) -> Ed25519PrivateKey:
    """Read an Ed25519 private key (PEM PKCS#8 or 32 raw bytes) from ``path``.

    Args:
        path: The key file; default: the file named by ``INTRADAY_RL_SIGNING_KEY``.

    Raises:
        BundleSigningKeyError: No path and no variable, or the file is unreadable or not an
            unencrypted Ed25519 private key.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if path is None:
        path = os.environ.get(SIGNING_KEY_ENV, "").strip()
        if not path:
            raise BundleSigningKeyError(
                f"no signing key: pass a private key file (--key) or set {SIGNING_KEY_ENV} to one"
            )
    key_path = Path(path)
    data = _read_key_file(key_path)
    if len(data) == _RAW_KEY_BYTES and not data.startswith(b"-----"):
        return Ed25519PrivateKey.from_private_bytes(data)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as error:  # not PEM, another format, or encrypted
        raise BundleSigningKeyError(
            f"{key_path}: expected an unencrypted Ed25519 private key (PEM or 32 raw bytes), "
            f"was unreadable as one ({error})"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise BundleSigningKeyError(
            f"{key_path}: expected an Ed25519 private key, was {type(key).__name__}"
        )
    return key


def load_trusted_keys(keys: TrustedKeys | None = None) -> dict[str, Ed25519PublicKey]:
    """Return trusted public keys by key id.

    Args:
        keys: An ``Ed25519PublicKey``, a key file path, or an iterable of them; default: the
            comma-separated file paths in ``INTRADAY_RL_TRUSTED_KEYS``.

    Raises:
        BundleSigningKeyError: No keys given or configured, or a file is unreadable or not an
            Ed25519 public key.
    """
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    items: Iterable[TrustedKey]
    if keys is None:
        names = [item.strip() for item in os.environ.get(TRUSTED_KEYS_ENV, "").split(",")]
        items = [name for name in names if name]
    elif isinstance(keys, (str, os.PathLike, Ed25519PublicKey)):
        items = [keys]
    else:
        items = keys
    trusted: dict[str, Ed25519PublicKey] = {}
    for item in items:
        key = item if isinstance(item, Ed25519PublicKey) else _read_public_key(Path(item))
        trusted[public_key_id(key)] = key
    if not trusted:
        raise BundleSigningKeyError(
            f"no trusted public keys: pass them (trusted_keys=, --trusted) or set "
            f"{TRUSTED_KEYS_ENV} to a public key file or comma-separated files"
        )
    return trusted


def _read_public_key(path: Path) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    data = _read_key_file(path)
    if b"PRIVATE KEY" in data:
        raise BundleSigningKeyError(
            f"{path}: expected a public key, was a private key (trust the {PUBLIC_KEY_SUFFIX} file)"
        )
    if len(data) == _RAW_KEY_BYTES and not data.startswith(b"-----"):
        return Ed25519PublicKey.from_public_bytes(data)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as error:
        raise BundleSigningKeyError(
            f"{path}: expected an Ed25519 public key (PEM or 32 raw bytes), was unreadable as "
            f"one ({error})"
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise BundleSigningKeyError(
            f"{path}: expected an Ed25519 public key, was {type(key).__name__}"
        )
    return key


def _read_key_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise BundleSigningKeyError(f"{path}: cannot read the key ({error.strerror})") from None


def sign_bundle(
    path: str | os.PathLike[str],
    private_key: Ed25519PrivateKey | str | os.PathLike[str] | None = None,
) -> Path:
    """Verify a bundle, then sign it: write ``signature.json``, leave the other files untouched.

    Args:
        path: The bundle folder (it must pass every check of ``read_bundle``).
        private_key: The key, or its file; default: the file named by ``INTRADAY_RL_SIGNING_KEY``.

    Returns:
        The path of ``signature.json`` (written atomically; an older one is replaced).

    Raises:
        BundleError: The bundle does not pass ``read_bundle`` (nothing is signed).
        BundleSigningKeyError: The key cannot be found or read.
        BundleSignatureInvalidError: ``metadata.json`` changed while signing.
    """
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = (
        private_key if isinstance(private_key, Ed25519PrivateKey) else load_signing_key(private_key)
    )
    bundle = read_bundle(Path(path))
    payload = canonical_json_bytes(read_metadata_json(bundle.path))
    digest = hashlib.sha256(payload).hexdigest()
    if digest != bundle.canonical_sha256:
        raise BundleSignatureInvalidError(
            f"{bundle.path / METADATA_FILE}: changed while signing; nothing was signed"
        )
    record = {
        "format": SIGNATURE_FORMAT,
        "version": SIGNATURE_VERSION,
        "algorithm": SIGNATURE_ALGORITHM,
        "key_id": public_key_id(key.public_key()),
        "metadata_sha256": digest,
        "signature": base64.b64encode(key.sign(SIGNING_CONTEXT + payload)).decode("ascii"),
    }
    target = bundle.path / SIGNATURE_FILE
    replace_durably(target, (json.dumps(record, indent=2) + "\n").encode())
    return target


def verify_bundle_signature(
    path: str | os.PathLike[str], trusted_public_keys: TrustedKeys | None = None
) -> VerifiedBundle:
    """Check that a bundle is signed by a trusted key, then run every check of ``read_bundle``.

    Args:
        path: The bundle folder.
        trusted_public_keys: See :func:`load_trusted_keys` (default: ``INTRADAY_RL_TRUSTED_KEYS``).

    Returns:
        The verified bundle and the signer's key id.

    Raises:
        BundleSigningKeyError: No trusted keys, or a key file is unreadable.
        BundleNotFoundError, BundleMissingFileError: No bundle folder or ``metadata.json``.
        BundleUnsignedError: The bundle has no ``signature.json``.
        BundleUntrustedKeyError: It is signed by a key not among the trusted ones.
        BundleSignatureInvalidError: ``signature.json`` is malformed or does not verify (the
            metadata, hence a file, changed after signing).
        BundleError: Any check of ``read_bundle`` (hashes, schema, cross-field rules).
    """
    from cryptography.exceptions import InvalidSignature

    trusted = load_trusted_keys(trusted_public_keys)
    folder = Path(path)
    raw = read_metadata_json(folder)
    signature_path = folder / SIGNATURE_FILE
    if not signature_path.is_file():
        raise BundleUnsignedError(
            f"{folder}: not signed ({SIGNATURE_FILE} missing); a signature is required: sign it "
            "with 'intraday-rl bundle sign' or load it without require_signature"
        )
    key_id, signature = _read_signature(signature_path)
    if key_id not in trusted:
        raise BundleUntrustedKeyError(
            f"{signature_path}: key_id: expected one of the trusted keys "
            f"{', '.join(sorted(k[:16] for k in trusted))}, was {key_id[:16]} (untrusted signer)"
        )
    try:
        payload = canonical_json_bytes(raw)
        trusted[key_id].verify(signature, SIGNING_CONTEXT + payload)
    except (InvalidSignature, ValueError):
        raise BundleSignatureInvalidError(
            f"{signature_path}: the signature does not verify: {METADATA_FILE} (or a file it "
            "hashes) changed after signing, or the signature was forged"
        ) from None
    bundle = read_bundle(folder)
    if bundle.canonical_sha256 != hashlib.sha256(payload).hexdigest():
        raise BundleSignatureInvalidError(f"{folder / METADATA_FILE}: changed while loading")
    return VerifiedBundle(bundle, key_id, signature_path)


def _read_signature(path: Path) -> tuple[str, bytes]:
    # Return (key_id, signature bytes) of a well-formed signature.json.
    try:
        record = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleSignatureInvalidError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(record, dict):
        raise BundleSignatureInvalidError(f"{path}: expected a JSON object")
    expected = {
        "format": SIGNATURE_FORMAT,
        "version": SIGNATURE_VERSION,
        "algorithm": SIGNATURE_ALGORITHM,
    }
    for field, value in expected.items():
        if record.get(field) != value:
            raise BundleSignatureInvalidError(
                f"{path}: {field}: expected {value!r}, was {record.get(field)!r}"
            )
    key_id = record.get("key_id")
    if not isinstance(key_id, str) or len(key_id) != 64:
        raise BundleSignatureInvalidError(
            f"{path}: key_id: expected a sha256 hex digest, was {key_id!r}"
        )
    try:
        signature = base64.b64decode(str(record.get("signature")), validate=True)
    except (binascii.Error, ValueError):
        signature = b""
    if len(signature) != _SIGNATURE_BYTES:
        raise BundleSignatureInvalidError(
            f"{path}: signature: expected base64 of {_SIGNATURE_BYTES} bytes, "
            f"was {len(signature)} bytes"
        )
    return key_id, signature


def read_verified_bundle(
    path: str | os.PathLike[str],
    *,
    require_signature: bool = False,
    trusted_keys: TrustedKeys | None = None,
) -> LoadedBundle:
    """Read a bundle with every check, its signature too when required or keys are given.

    Raises:
        BundleError: See :func:`verify_bundle_signature` and ``read_bundle``.
    """
    if require_signature or trusted_keys is not None:
        return verify_bundle_signature(path, trusted_keys).bundle
    return read_bundle(Path(path))
