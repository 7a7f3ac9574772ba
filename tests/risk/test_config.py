import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from intraday_rl.risk import (
    RiskAgentV2,
    RiskPolicy,
    default_risk_policy_text,
    load_default_risk_policy,
    load_risk_policy,
    parse_risk_policy,
)
from intraday_rl.risk.codes import CONFIGURABLE_CODES, DEFAULT_ACTIONS, ReasonCode
from intraday_rl.risk.config import policy_to_yaml
from intraday_rl.shared.errors import ConfigError, RiskConfigError

REPO = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "risk_limits.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _default_data() -> dict:
    return yaml.safe_load(default_risk_policy_text())


def test_the_wheel_packages_config_risk_limits_as_the_default(tmp_path):
    # One copy in the repository; the wheel carries it as the package's default resource.
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("intraday_rl-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packaged = archive.read("intraday_rl/risk/default_risk_limits.yaml").decode("utf-8")
    shipped = (REPO / "config" / "risk_limits.yaml").read_text(encoding="utf-8")
    assert packaged == shipped == default_risk_policy_text()


def test_shipped_policy_loads_and_lists_every_configurable_code():
    policy = load_risk_policy(REPO / "config" / "risk_limits.yaml")
    assert set(policy.actions) == set(CONFIGURABLE_CODES)
    assert {code: policy.action_of(code) for code in CONFIGURABLE_CODES} == dict(DEFAULT_ACTIONS)
    assert policy == load_default_risk_policy()


def test_from_yaml_builds_an_engine_with_the_file_hash(tmp_path):
    path = _write(tmp_path, _default_data())
    engine = RiskAgentV2.from_yaml(path)
    assert engine.policy_hash == load_default_risk_policy().config_hash()


def test_policy_hash_changes_with_any_limit():
    data = _default_data()
    base = parse_risk_policy(data).config_hash()
    data["limits"]["max_position"] = 4999.0
    assert parse_risk_policy(data).config_hash() != base
    assert len(base) == 64


def test_yaml_round_trip_gives_an_equal_policy():
    policy = load_default_risk_policy()
    assert parse_risk_policy(yaml.safe_load(policy_to_yaml(policy))) == policy


def test_unknown_key_is_named(tmp_path):
    data = _default_data()
    data["limits"]["max_positon"] = 5.0
    with pytest.raises(
        RiskConfigError, match=r"risk_limits.yaml: limits.max_positon: unknown field"
    ):
        load_risk_policy(_write(tmp_path, data))


def test_unknown_top_level_key_is_named():
    with pytest.raises(RiskConfigError, match="colour: unknown field"):
        parse_risk_policy({"colour": "red"})


def test_negative_limit_is_named_with_its_value(tmp_path):
    data = _default_data()
    data["limits"]["max_position"] = -5
    with pytest.raises(RiskConfigError, match=r"limits\.max_position: .*greater than 0, was -5"):
        load_risk_policy(_write(tmp_path, data))


@pytest.mark.parametrize("key", ["max_order_notional", "max_daily_loss", "price_collar_bps"])
def test_zero_limit_is_rejected(key):
    data = _default_data()
    data["limits"][key] = 0
    with pytest.raises(RiskConfigError, match=f"limits.{key}"):
        parse_risk_policy(data)


def test_wrong_type_is_named():
    data = _default_data()
    data["limits"]["max_leverage"] = "high"
    with pytest.raises(RiskConfigError, match=r"limits\.max_leverage: .*number.*was 'high'"):
        parse_risk_policy(data)


def test_nan_and_inf_limits_are_rejected():
    data = _default_data()
    data["limits"]["max_gross_exposure"] = float("nan")
    data["limits"]["max_var"] = float("inf")
    with pytest.raises(RiskConfigError) as raised:
        parse_risk_policy(data)
    assert "limits.max_gross_exposure" in str(raised.value)
    assert "limits.max_var" in str(raised.value)


def test_unknown_action_is_named():
    data = _default_data()
    data["actions"]["DRAWDOWN"] = "PANIC"
    with pytest.raises(RiskConfigError, match=r"actions\.DRAWDOWN: .*'WARN'.*was 'PANIC'"):
        parse_risk_policy(data)


def test_unknown_reason_code_in_actions_is_named():
    data = _default_data()
    data["actions"]["MAX_FOO"] = "BLOCK"
    with pytest.raises(RiskConfigError, match=r"actions\.MAX_FOO"):
        parse_risk_policy(data)


def test_fail_closed_codes_cannot_be_configured():
    data = _default_data()
    data["actions"]["STALE_DATA"] = "WARN"
    with pytest.raises(
        RiskConfigError, match="STALE_DATA: expected BLOCK or more severe, was WARN"
    ):
        parse_risk_policy(data)
    data["actions"] = {"CLOCK_FAULT": "HALT"}
    with pytest.raises(RiskConfigError, match="CLOCK_FAULT: not configurable"):
        parse_risk_policy(data)


def test_repeated_execution_must_halt():
    with pytest.raises(RiskConfigError, match="REPEATED_EXECUTION: expected HALT"):
        parse_risk_policy({"actions": {"REPEATED_EXECUTION": "BLOCK"}})


def test_cvar_below_var_is_rejected():
    with pytest.raises(RiskConfigError, match=r"max_cvar: expected >= limits\.max_var"):
        parse_risk_policy({"limits": {"max_var": 0.05, "max_cvar": 0.04}})


def test_wrong_schema_version_is_rejected():
    with pytest.raises(RiskConfigError, match=r"schema_version: .*expected 1, was 2"):
        parse_risk_policy({"schema_version": 2})


def test_a_null_limit_switches_the_control_off():
    policy = parse_risk_policy({"limits": {"max_position": None, "order_rate": None}})
    assert policy.limits.max_position is None
    assert policy.limits.order_rate is None


def test_invalid_yaml_and_missing_file_are_config_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("limits: [unclosed", encoding="utf-8")
    with pytest.raises(RiskConfigError, match="invalid YAML"):
        load_risk_policy(bad)
    with pytest.raises(ConfigError, match="cannot read risk policy"):
        load_risk_policy(tmp_path / "missing.yaml")


def test_top_level_must_be_a_mapping():
    with pytest.raises(RiskConfigError, match="expected a mapping"):
        parse_risk_policy([1, 2])


def test_empty_file_gives_the_built_in_defaults():
    assert isinstance(parse_risk_policy(None), RiskPolicy)


def test_every_reason_code_has_a_stable_value():
    assert all(code.value == code.name for code in ReasonCode)
