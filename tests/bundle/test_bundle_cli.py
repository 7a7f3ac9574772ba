"""Smoke tests of ``intraday-rl bundle keygen / sign / verify`` (exit 0 ok, 2 error)."""

from __future__ import annotations

from typer.testing import CliRunner

from intraday_rl.bundle import SIGNING_KEY_ENV, TRUSTED_KEYS_ENV
from intraday_rl.bundle_cli import bundle_app

runner = CliRunner(env={"COLUMNS": "200"})


def test_keygen_sign_verify_round_trip(bundle_copy, tmp_path):
    key = tmp_path / "signer.pem"
    result = runner.invoke(bundle_app, ["keygen", str(key)])
    assert result.exit_code == 0, result.output
    assert "key id:" in result.output
    path = bundle_copy()
    result = runner.invoke(bundle_app, ["sign", str(path), "--key", str(key)])
    assert result.exit_code == 0, result.output
    assert (path / "signature.json").is_file()
    result = runner.invoke(bundle_app, ["verify", str(path), "--trusted", f"{key}.pub"])
    assert result.exit_code == 0, result.output
    assert "OK: DQN bundle" in result.output


def test_verify_reads_trusted_keys_from_the_environment(bundle_copy, tmp_path, monkeypatch):
    key = tmp_path / "signer.pem"
    assert runner.invoke(bundle_app, ["keygen", str(key)]).exit_code == 0
    monkeypatch.setenv(SIGNING_KEY_ENV, str(key))
    monkeypatch.setenv(TRUSTED_KEYS_ENV, f"{key}.pub")
    path = bundle_copy()
    assert runner.invoke(bundle_app, ["sign", str(path)]).exit_code == 0
    assert runner.invoke(bundle_app, ["verify", str(path)]).exit_code == 0


def test_verify_of_an_unsigned_bundle_exits_2_with_the_reason(bundle_copy, tmp_path):
    key = tmp_path / "signer.pem"
    runner.invoke(bundle_app, ["keygen", str(key)])
    result = runner.invoke(bundle_app, ["verify", str(bundle_copy()), "--trusted", f"{key}.pub"])
    assert result.exit_code == 2
    assert "error:" in result.output
    assert "not signed (signature.json missing)" in result.output


def test_sign_without_a_key_exits_2_naming_the_variable(bundle_copy, monkeypatch):
    monkeypatch.delenv(SIGNING_KEY_ENV, raising=False)
    result = runner.invoke(bundle_app, ["sign", str(bundle_copy())])
    assert result.exit_code == 2
    assert SIGNING_KEY_ENV in result.output


def test_keygen_over_an_existing_key_exits_2(tmp_path):
    key = tmp_path / "signer.pem"
    assert runner.invoke(bundle_app, ["keygen", str(key)]).exit_code == 0
    result = runner.invoke(bundle_app, ["keygen", str(key)])
    assert result.exit_code == 2
    assert "already exists" in result.output
    assert runner.invoke(bundle_app, ["keygen", str(key), "--overwrite"]).exit_code == 0


def test_messages_are_printed_as_plain_text_not_markup(tmp_path):
    key = tmp_path / "[bold red]k.pem"
    assert runner.invoke(bundle_app, ["keygen", str(key)]).exit_code == 0
    path = tmp_path / "[red]x"
    result = runner.invoke(bundle_app, ["verify", str(path), "--trusted", f"{key}.pub"])
    assert result.exit_code == 2
    assert "[red]x: bundle folder not found" in result.output
    result = runner.invoke(bundle_app, ["sign", str(path), "--key", str(tmp_path / "[i]k")])
    assert result.exit_code == 2
    assert "[i]k: cannot read the key" in result.output
