"""Who may do what, generated from the config: MQTT accounts and ACLs, Kafka ACLs (pure)."""

from __future__ import annotations

from pathlib import Path

from riskstream.config import load
from riskstream.config.schema import TopicNames
from riskstream.kafka_acls import grants
from riskstream.services.mqtt_accounts import EDGE_USER, acl_text, merge, wanted

DEMO = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"


def test_each_gateway_writes_only_its_sites_topics_and_the_edge_only_reads() -> None:
    cfg = load(DEMO, environ={})
    grants_ = wanted(cfg)
    for user, (read, write) in grants_.items():
        if user == EDGE_USER:
            assert write == [] and sorted(read) == sorted(s.topic for s in cfg.sensors)
        else:
            site = user.removeprefix("gw-")
            assert read == [] and sorted(write) == sorted(s.topic for s in cfg.sensors
                                                          if s.site == site)
    text = acl_text(merge({}, grants_))
    assert "$SYS" not in text and "topic #" not in text and "topic readwrite" not in text
    assert "pattern" not in text  # no wildcard grants


def test_merging_keeps_passwords_and_adds_grants() -> None:
    first = merge({}, {"gw-a": ([], ["a/1"])})
    again = merge(first, {"gw-a": ([], ["a/2"]), "gw-b": ([], ["b/1"])})
    assert again["gw-a"].password == first["gw-a"].password
    assert again["gw-a"].write == ["a/1", "a/2"] and again["gw-b"].password != first["gw-a"].password
    assert first["gw-a"].write == ["a/1"]  # the input is not changed


def test_kafka_roles_get_the_least_they_need() -> None:
    t = TopicNames()
    allowed = {(g.role, g.name, g.operation) for g in grants(t, "riskstream")}
    assert ("center", t.alert_actions, "WRITE") in allowed
    assert ("edge", t.events, "WRITE") in allowed and ("worker", t.alerts, "WRITE") in allowed
    assert ("edge", t.evidence, "WRITE") in allowed and ("center", t.evidence, "READ") in allowed
    forbidden = [("edge", t.alert_actions, "WRITE"), ("edge", t.alerts, "WRITE"),
                 ("edge", t.evidence, "READ"), ("center", t.evidence, "WRITE"),
                 ("worker", t.evidence, "READ"),
                 ("edge", t.events, "READ"), ("center", t.events, "WRITE"),
                 ("center", t.events, "READ"), ("center", t.alerts, "WRITE")]
    assert not allowed & set(forbidden)
    assert all(g.principal.startswith("User:riskstream-") for g in grants(t, "riskstream"))
    assert not any(g.operation == "ALL" and g.pattern == "LITERAL" for g in grants(t, "x"))
