import json

from intraday_rl.risk import JsonlAuditWriter, ReasonCode, RiskAgentV2, read_audit_log


def test_non_allow_decisions_and_limit_changes_are_appended_as_json_lines(kit, tmp_path):
    path = tmp_path / "audit" / "risk.jsonl"
    with JsonlAuditWriter(path) as writer:
        engine = RiskAgentV2(kit.policy(), clock=kit.clock, audit=writer)
        engine.update(kit.bar())
        engine.evaluate_and_enforce(kit.request(10.0))  # ALLOW: not audited
        engine.evaluate_and_enforce(kit.request(float("nan")))
        engine.evaluate_and_enforce(kit.request(9_999.0))
        # Flushed line by line: readable while the writer is open.
        assert len(read_audit_log(path)) == 2
        tighter = kit.policy(limits={"max_position": 1_000.0})
        engine.set_policy(tighter, operator="alice")
        engine.engage_kill_switch("runaway suspected", operator="bob")
        engine.rearm(operator="carol", reason="fixed")
    records = read_audit_log(path)
    kinds = [record["kind"] for record in records]
    assert kinds == ["decision", "decision", "limit_change", "operator", "operator"]
    nan_record, big_record, change, kill, rearm = records
    assert nan_record["reason_codes"] == [ReasonCode.INVALID_QUANTITY]
    assert nan_record["request"]["quantity"] == "nan"  # valid JSON, no NaN literal
    assert big_record["action"] == "BLOCK"
    assert "MAX_ORDER_QUANTITY" in big_record["reason_codes"]
    assert all(line.startswith("{") for line in path.read_text().splitlines())
    assert nan_record["policy_hash"] == kit.policy().config_hash()
    assert change["previous_policy_hash"] == kit.policy().config_hash()
    assert change["policy_hash"] == tighter.config_hash()
    assert change["changes"] == {"limits.max_position": {"old": 5000.0, "new": 1000.0}}
    assert change["operator"] == "alice"
    assert (kill["event"], kill["operator"], kill["reason"]) == (
        "kill_switch",
        "bob",
        "runaway suspected",
    )
    assert rearm["policy_hash"] == tighter.config_hash()


def test_the_writer_appends_to_an_existing_file(tmp_path):
    path = tmp_path / "audit.jsonl"
    path.write_text(json.dumps({"kind": "earlier"}) + "\n")
    writer = JsonlAuditWriter(path)
    writer.write({"kind": "later"})
    writer.close()
    writer.close()
    assert [record["kind"] for record in read_audit_log(path)] == ["earlier", "later"]


def test_warn_and_reduce_decisions_are_audited_too(kit, tmp_path):
    path = tmp_path / "audit.jsonl"
    with JsonlAuditWriter(path) as writer:
        policy = kit.policy(limits={"max_position": 100.0})
        engine = RiskAgentV2(policy, clock=kit.clock, audit=writer)
        engine.update(kit.bar())
        decision = engine.evaluate_and_enforce(kit.request(150.0))
    assert decision.allowed_quantity == 100.0
    (record,) = read_audit_log(path)
    assert record["action"] == "REDUCE"
    assert record["allowed_quantity"] == 100.0
    assert record["evidence"][0].startswith("MAX_POSITION ")
