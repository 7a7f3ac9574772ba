"""``intraday-rl bundle``: signing keys, bundle signatures and their verification.

Each command parses its arguments, calls one function of :mod:`intraday_rl.bundle.signing` and
prints plain text (never rich markup: paths and messages are user data). Exit codes: 0 success,
2 error (the message on stderr); typer's usage errors also exit 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from intraday_rl.shared.errors import IntradayRLError

bundle_app = typer.Typer(
    help="Policy bundles: Ed25519 signing keys, signing, signature verification.",
    no_args_is_help=True,
)

EXIT_ERROR = 2


def _say(text: str, *, stderr: bool = False) -> None:
    Console(stderr=stderr, soft_wrap=True, markup=False, highlight=False).print(
        text, markup=False, highlight=False
    )


def _fail(error: IntradayRLError) -> typer.Exit:
    _say(f"error: {error}", stderr=True)
    return typer.Exit(code=EXIT_ERROR)


@bundle_app.command("keygen")
def keygen(
    out: Annotated[Path, typer.Argument(help="Private key file to create (PEM, mode 0600).")],
    overwrite: Annotated[bool, typer.Option(help="Replace existing key files.")] = False,
) -> None:
    """Generate an Ed25519 signing key: OUT (private) and OUT.pub (public, to distribute)."""
    from intraday_rl.bundle.signing import generate_signing_key

    try:
        generated = generate_signing_key(out, overwrite=overwrite)
    except IntradayRLError as error:
        raise _fail(error) from None
    _say(f"private key: {generated.private_key_path} (keep it secret)")
    _say(f"public key:  {generated.public_key_path}")
    _say(f"key id:      {generated.key_id}")


@bundle_app.command("sign")
def sign(
    bundle: Annotated[Path, typer.Argument(help="Policy bundle folder.")],
    key: Annotated[
        Path | None,
        typer.Option(help="Private key file (default: $INTRADAY_RL_SIGNING_KEY)."),
    ] = None,
) -> None:
    """Verify a bundle, then sign it (writes BUNDLE/signature.json, touches nothing else)."""
    from intraday_rl.bundle.signing import sign_bundle

    try:
        path = sign_bundle(bundle, key)
    except IntradayRLError as error:
        raise _fail(error) from None
    _say(f"signed {bundle}: wrote {path}")


@bundle_app.command("verify")
def verify(
    bundle: Annotated[Path, typer.Argument(help="Policy bundle folder.")],
    trusted: Annotated[
        list[Path] | None,
        typer.Option(
            help="Trusted public key file; repeat for several "
            "(default: $INTRADAY_RL_TRUSTED_KEYS, comma-separated)."
        ),
    ] = None,
) -> None:
    """Check a bundle's files, metadata and signature against the trusted public keys."""
    from intraday_rl.bundle.signing import verify_bundle_signature

    try:
        verified = verify_bundle_signature(bundle, trusted or None)
    except IntradayRLError as error:
        raise _fail(error) from None
    metadata = verified.bundle.metadata
    _say(
        f"{bundle}: OK: {metadata.algorithm.name} bundle, files and metadata intact, "
        f"signed by key {verified.key_id}"
    )
