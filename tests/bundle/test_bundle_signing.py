"""Ed25519 signatures: what recomputed hashes cannot hide, a signature refuses.

Every test signs a copy of a real exported bundle with a freshly generated key.
"""

from __future__ import annotations

import base64
import json
import shutil
import stat

import numpy as np
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from intraday_rl.bundle import (
    SIGNING_KEY_ENV,
    TRUSTED_KEYS_ENV,
    BundleSignatureError,
    BundleSignatureInvalidError,
    BundleSigningKeyError,
    BundleUnsignedError,
    BundleUntrustedKeyError,
    NumpyPolicy,
    OnnxRuntimePolicy,
    TorchScriptPolicy,
    generate_signing_key,
    load_policy,
    load_trusted_keys,
    public_key_id,
    sign_bundle,
    verify_bundle_signature,
)
from intraday_rl.shared.errors import BundleChecksumError, BundleIntegrityError

FILES = ("policy.pt", "policy.onnx", "policy.npz", "verification.npz")
MODEL_FILES = FILES


@pytest.fixture
def key(tmp_path):
    (tmp_path / "keys").mkdir()
    return generate_signing_key(tmp_path / "keys" / "signer.pem")


@pytest.fixture
def other_key(tmp_path):
    (tmp_path / "other").mkdir()
    return generate_signing_key(tmp_path / "other" / "signer.pem")


@pytest.fixture
def signed(bundle_copy, key):
    path = bundle_copy()
    sign_bundle(path, key.private_key_path)
    return path


def _flipped(signature: str) -> str:
    data = bytearray(base64.b64decode(signature))
    data[0] ^= 0x01
    return base64.b64encode(bytes(data)).decode()


def _flip_a_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


# -- round trip ---------------------------------------------------------------------------------
def test_sign_verify_load_round_trip(signed, key, trained):
    verified = verify_bundle_signature(signed, [key.public_key_path])
    assert verified.key_id == key.key_id
    assert verified.signature_path == signed / "signature.json"
    policy = load_policy(signed, require_signature=True, trusted_keys=[key.public_key_path])
    action, info = policy.predict(trained["DQN"].observations[3])
    assert info["target_position"] == (-1.0, 0.0, 1.0)[action]


@pytest.mark.parametrize("cls", [TorchScriptPolicy, OnnxRuntimePolicy, NumpyPolicy])
def test_every_runtime_loads_a_signed_bundle_and_refuses_an_unsigned_one(
    signed, bundle_copy, key, cls
):
    trusted = key.public_key_path
    assert cls.load_bundle(signed, require_signature=True, trusted_keys=trusted)
    with pytest.raises(BundleUnsignedError):
        cls.load_bundle(bundle_copy("PPO"), require_signature=True, trusted_keys=trusted)


def test_signing_adds_signature_json_and_touches_nothing_else(bundle_copy, key):
    path = bundle_copy()
    before = {item.name: item.read_bytes() for item in path.iterdir()}
    sign_bundle(path, key.private_key_path)
    after = {item.name: item.read_bytes() for item in path.iterdir()}
    assert set(after) - set(before) == {"signature.json"}
    assert all(after[name] == data for name, data in before.items())
    record = json.loads(after["signature.json"])
    assert record["algorithm"] == "ed25519"
    assert record["key_id"] == key.key_id
    assert record["format"] == "intraday-rl/bundle-signature"


def test_a_copy_made_with_save_bundle_keeps_a_valid_signature(signed, key, tmp_path):
    policy = load_policy(signed, require_signature=True, trusted_keys=key.public_key_path)
    copy = policy.save_bundle(tmp_path / "saved")
    assert verify_bundle_signature(copy, key.public_key_path).key_id == key.key_id


def test_reformatting_metadata_json_keeps_the_signature_valid(signed, key):
    metadata_path = signed / "metadata.json"
    metadata_path.write_text(json.dumps(json.loads(metadata_path.read_text()), indent=7))
    assert verify_bundle_signature(signed, key.public_key_path).key_id == key.key_id


# -- refusals -----------------------------------------------------------------------------------
def test_an_unsigned_bundle_is_refused_only_when_a_signature_is_required(bundle_copy, key):
    path = bundle_copy()
    assert load_policy(path).metadata.algorithm.name == "DQN"
    with pytest.raises(BundleUnsignedError, match=r"not signed \(signature\.json missing\)"):
        load_policy(path, require_signature=True, trusted_keys=[key.public_key_path])


def test_passing_trusted_keys_requires_a_signature(bundle_copy, key):
    with pytest.raises(BundleUnsignedError):
        load_policy(bundle_copy(), trusted_keys=[key.public_key_path])


def test_a_signature_from_an_untrusted_key_is_refused(signed, other_key):
    with pytest.raises(BundleUntrustedKeyError, match=r"key_id: expected one of the trusted keys"):
        load_policy(signed, require_signature=True, trusted_keys=[other_key.public_key_path])


@pytest.mark.parametrize("name", FILES)
def test_a_file_changed_after_signing_is_refused_even_with_recomputed_hashes(
    signed, key, rehash, name
):
    _flip_a_byte(signed / name)
    with pytest.raises(BundleChecksumError):  # hashes not recomputed: integrity catches it
        load_policy(signed, require_signature=True, trusted_keys=[key.public_key_path])
    rehash(signed)
    with pytest.raises(BundleSignatureInvalidError, match="changed after signing"):
        load_policy(signed, require_signature=True, trusted_keys=[key.public_key_path])


def test_an_edited_metadata_value_with_recomputed_hashes_is_refused(signed, key, rehash):
    rehash(signed, lambda d: d["lineage"].update(seed=42))
    with pytest.raises(BundleSignatureInvalidError):
        verify_bundle_signature(signed, key.public_key_path)


def test_reversed_levels_with_recomputed_hashes_need_the_signature(signed, key, rehash, trained):
    # Long becomes short: every rule still holds, so only the signature refuses it.
    rehash(signed, lambda d: d["action"].update(position_levels=[1.0, 0.0, -1.0]))
    policy = load_policy(signed)
    action, info = policy.predict(trained["DQN"].observations[3])
    assert info["target_position"] == (1.0, 0.0, -1.0)[action]
    with pytest.raises(BundleSignatureInvalidError):
        load_policy(signed, require_signature=True, trusted_keys=[key.public_key_path])


def test_a_swapped_model_with_recomputed_hashes_needs_the_signature(signed, key, rehash, bundles):
    # QR-DQN has the DQN's shapes: its files pass every rule and verification.
    for name in MODEL_FILES:
        shutil.copyfile(bundles["QRDQN"] / name, signed / name)
    rehash(signed)
    with np.load(signed / "verification.npz") as data:
        observations = data["observations"]
    swapped = load_policy(signed).predict_with_scores(observations)[1]
    original = load_policy(bundles["DQN"]).predict_with_scores(observations)[1]
    assert not np.allclose(swapped, original, atol=1e-3)
    with pytest.raises(BundleSignatureInvalidError):
        load_policy(signed, require_signature=True, trusted_keys=[key.public_key_path])


def test_a_signature_copied_from_another_bundle_is_refused(signed, bundle_copy, key):
    other = bundle_copy("PPO")
    shutil.copyfile(signed / "signature.json", other / "signature.json")
    with pytest.raises(BundleSignatureInvalidError):
        load_policy(other, require_signature=True, trusted_keys=[key.public_key_path])


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda r: r.update(algorithm="rsa"), r"algorithm: expected 'ed25519', was 'rsa'"),
        (lambda r: r.update(signature="not base64!"), r"signature: expected base64 of 64 bytes"),
        (lambda r: r.update(key_id=7), r"key_id: expected a sha256 hex digest"),
        (lambda r: r.update(signature=_flipped(r["signature"])), "does not verify"),
    ],
    ids=["algorithm", "base64", "key_id", "forged"],
)
def test_a_tampered_signature_file_is_refused(signed, key, edit, match):
    path = signed / "signature.json"
    record = json.loads(path.read_text())
    edit(record)
    path.write_text(json.dumps(record))
    with pytest.raises(BundleSignatureInvalidError, match=match):
        verify_bundle_signature(signed, key.public_key_path)


def test_a_damaged_bundle_is_not_signed(bundle_copy, key):
    path = bundle_copy()
    _flip_a_byte(path / "policy.onnx")
    with pytest.raises(BundleChecksumError):
        sign_bundle(path, key.private_key_path)
    assert not (path / "signature.json").exists()


def test_signature_errors_are_integrity_errors():
    for error in (BundleUnsignedError, BundleUntrustedKeyError, BundleSignatureInvalidError):
        assert issubclass(error, BundleSignatureError)
        assert issubclass(error, BundleIntegrityError)


# -- keys ---------------------------------------------------------------------------------------
def test_keys_come_from_the_environment(bundle_copy, key, other_key, monkeypatch):
    path = bundle_copy()
    monkeypatch.setenv(SIGNING_KEY_ENV, str(key.private_key_path))
    monkeypatch.setenv(TRUSTED_KEYS_ENV, f"{other_key.public_key_path}, {key.public_key_path}")
    sign_bundle(path)
    assert load_policy(path, require_signature=True).metadata.algorithm.name == "DQN"


def test_missing_keys_name_the_environment_variable(bundle_copy, monkeypatch):
    monkeypatch.delenv(SIGNING_KEY_ENV, raising=False)
    monkeypatch.delenv(TRUSTED_KEYS_ENV, raising=False)
    path = bundle_copy()
    with pytest.raises(BundleSigningKeyError, match=SIGNING_KEY_ENV):
        sign_bundle(path)
    with pytest.raises(BundleSigningKeyError, match=TRUSTED_KEYS_ENV):
        load_policy(path, require_signature=True)


def test_raw_32_byte_key_files_work(bundle_copy, tmp_path):
    private = Ed25519PrivateKey.generate()
    raw = serialization.Encoding.Raw
    (tmp_path / "raw.key").write_bytes(
        private.private_bytes(raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    )
    (tmp_path / "raw.pub").write_bytes(
        private.public_key().public_bytes(raw, serialization.PublicFormat.Raw)
    )
    path = bundle_copy()
    sign_bundle(path, tmp_path / "raw.key")
    verified = verify_bundle_signature(path, tmp_path / "raw.pub")
    assert verified.key_id == public_key_id(private.public_key())


def test_key_objects_are_accepted(bundle_copy):
    private = Ed25519PrivateKey.generate()
    path = bundle_copy()
    sign_bundle(path, private)
    assert load_policy(path, trusted_keys=private.public_key()).metadata.algorithm.name == "DQN"


def test_a_private_key_or_garbage_is_not_a_trusted_key(key, tmp_path):
    with pytest.raises(BundleSigningKeyError, match="expected a public key, was a private key"):
        load_trusted_keys(key.private_key_path)
    (tmp_path / "junk.pub").write_text("hello")
    with pytest.raises(BundleSigningKeyError, match="expected an Ed25519 public key"):
        load_trusted_keys(tmp_path / "junk.pub")
    with pytest.raises(BundleSigningKeyError, match="cannot read the key"):
        load_trusted_keys(tmp_path / "missing.pub")


def test_keygen_writes_a_private_file_and_refuses_to_overwrite(key):
    assert stat.S_IMODE(key.private_key_path.stat().st_mode) == 0o600
    assert key.public_key_path.name == "signer.pem.pub"
    assert set(load_trusted_keys(key.public_key_path)) == {key.key_id}
    with pytest.raises(BundleSigningKeyError, match="already exists"):
        generate_signing_key(key.private_key_path)
    assert generate_signing_key(key.private_key_path, overwrite=True).key_id != key.key_id
