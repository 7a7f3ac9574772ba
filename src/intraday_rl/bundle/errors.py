"""Signature errors: the bundle errors that only signing raises.

The other bundle errors live in :mod:`intraday_rl.shared.errors` (``BundleError`` and its
subclasses). A signature error is a :class:`~intraday_rl.shared.errors.BundleIntegrityError`, so
code that catches tampering catches these too; the three subclasses tell an unsigned bundle, an
unknown signer and a bad signature apart.
"""

from __future__ import annotations

from intraday_rl.shared.errors import BundleError, BundleIntegrityError


class BundleSignatureError(BundleIntegrityError):
    """A signature was required and the bundle does not carry a valid one from a trusted key."""


class BundleUnsignedError(BundleSignatureError):
    """The bundle has no ``signature.json``."""


class BundleUntrustedKeyError(BundleSignatureError):
    """The bundle is signed by a key that is not among the trusted public keys."""


class BundleSignatureInvalidError(BundleSignatureError):
    """``signature.json`` is malformed, or does not verify: a file changed after signing."""


class BundleSigningKeyError(BundleError):
    """A signing or trusted key cannot be found or read (file, format or environment variable)."""


__all__ = [
    "BundleSignatureError",
    "BundleSignatureInvalidError",
    "BundleSigningKeyError",
    "BundleUnsignedError",
    "BundleUntrustedKeyError",
]
