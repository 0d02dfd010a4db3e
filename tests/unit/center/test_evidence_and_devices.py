"""Snapshots at the center (rs.evidence) and the device and site pages, on the in-memory
console: what the store refuses (damaged, altered, foreign, unsafe, over budget, replaced),
scoping of every snapshot URL, retention, and device faults shown apart from process alarms."""

from __future__ import annotations

import base64
import json
import os
import stat
from datetime import timedelta
from pathlib import Path

from riskstream.center.devices import fault_rules
from riskstream.center.evidence import EvidenceStore
from riskstream.config.loader import parse
from riskstream.events import Alert, Evidence, Heartbeat, utc_now
from tests.unit.center.conftest import Console
from tests.unit.test_rules import RULES_CONFIG

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4


def evidence(event_id: str = "E1", site: str = "plant-east", data: bytes = JPEG) -> Evidence:
    return Evidence.of(event_id, site, "cam-1", utc_now(), data)


def tampered(record: bytes, **changes: object) -> bytes:
    wire = json.loads(record)
    wire.update(changes)
    return json.dumps(wire).encode()


def test_store_keeps_a_good_snapshot_owner_only_and_once(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "ev", 30, 2**20, ["plant-east"])
    first = store.accept(evidence().to_json())
    assert first.result == "stored"
    again = store.accept(evidence().to_json())  # Kafka redelivery: the same bytes
    assert again.result == "duplicate"
    other = store.accept(evidence(data=JPEG + b"x").to_json())
    assert other.result == "refused" and "never replaced" in other.reason
    stored = store.get("E1")
    assert stored is not None and store.read(stored) == JPEG
    assert stat.S_IMODE(os.stat(stored.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "ev").st_mode) == 0o700
    assert store.counts == {"stored": 1, "duplicate": 1, "refused": 1}


def test_store_refuses_damaged_foreign_and_unsafe_records(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "ev", 30, 2**20, ["plant-east"])
    good = evidence().to_json()
    altered = base64.b64encode(JPEG[:-1] + b"\x00").decode()
    cases = {
        "sha256": tampered(good, data_b64=altered),
        "not a image/jpeg": tampered(good, data_b64=base64.b64encode(b"<svg onload=x>").decode(),
                                     sha256="0" * 64),
        "base64": tampered(good, data_b64="!!!"),
        "unknown site": evidence(site="elsewhere").to_json(),
        "names the file": evidence(event_id="../../etc/passwd").to_json(),
        "JSON": b"\xff\xfe not json",
    }
    for words, record in cases.items():
        outcome = store.accept(record)
        assert outcome.result == "refused", words
        assert words in outcome.reason, (words, outcome.reason)
    assert store.get("E1") is None and not list((tmp_path / "ev").glob("*/*/*.jpg"))


def test_store_budget_and_retention(tmp_path: Path) -> None:
    now = [utc_now().timestamp()]
    store = EvidenceStore(tmp_path / "ev", 30, len(JPEG) + 10, ["plant-east"], clock=lambda: now[0])
    assert store.accept(evidence("E1").to_json()).result == "stored"
    over = store.accept(evidence("E2").to_json())
    assert over.result == "refused" and "budget" in over.reason  # old evidence is not deleted early
    now[0] += 29 * 86400
    assert store.purge() == 0 and store.get("E1") is not None  # kept at least 30 days
    now[0] += 2 * 86400
    path = store.get("E1").path  # type: ignore[union-attr]
    assert store.purge() == 1 and store.get("E1") is None and not path.exists()
    old = Evidence.of("E3", "plant-east", "cam-1", utc_now() - timedelta(days=40), JPEG)
    assert "retention" in store.accept(old.to_json()).reason


def test_a_file_altered_at_the_center_is_not_served(console: Console) -> None:
    console.evidence.accept(evidence("E9").to_json())
    stored = console.evidence.get("E9")
    assert stored is not None
    stored.path.write_bytes(JPEG + b"changed")
    r = console.client_for("city").get("/evidence/E9")
    assert r.status_code == 410


def test_snapshot_urls_are_scoped_to_the_district(console: Console) -> None:
    console.evidence.accept(evidence("EAST1").to_json())
    console.evidence.accept(evidence("WEST1", site="school-1").to_json())
    binhai = console.client_for("binhai")
    r = binhai.get("/evidence/EAST1")
    assert r.status_code == 200 and r.content == JPEG
    assert r.headers["content-type"] == "image/jpeg" and "no-store" in r.headers["cache-control"]
    assert r.headers["x-evidence-sha256"] == evidence("EAST1").sha256
    assert binhai.get("/evidence/WEST1").status_code == 404  # exactly like a missing one
    assert binhai.get("/evidence/NOPE").status_code == 404
    assert console.client_for(None).get("/evidence/EAST1").status_code == 401
    assert console.client_for("city").get("/evidence/WEST1").status_code == 200
    denied = [r for r in console.audited() if r["action"] == "view-evidence"]
    assert len(denied) == 1 and denied[0]["actor"] == "binhai" and denied[0]["status"] == 404


def test_fault_rules_are_told_apart_from_process_rules() -> None:
    cfg = parse(RULES_CONFIG.replace("  rules:\n", """  rules:
    - {name: camera-tampered, type: count, threshold: 2, match: {kind: video.tamper}}
    - {name: sensors-silent, type: absence, silent_s: 60}
"""))
    assert fault_rules(cfg.correlation.rules) == {"camera-tampered": "camera",
                                                   "sensors-silent": "sensor"}


def test_device_health_and_overview_scoped_and_apart(console: Console) -> None:
    now = utc_now()
    console.beats.seen(Heartbeat("plant-east", "gas-1", now, {"readings": 12, "outbox_depth": 0}))
    console.beats.seen(Heartbeat("plant-east", "gas-2", now - timedelta(seconds=120), {}))
    console.beats.seen(Heartbeat("plant-east", "edge:edge-1", now,
                                 {"outbox_writable": False, "outbox_error": "disk full"}))
    oos = Alert(rule="out-of-service", site_id="plant-east", district="binhai", severity="info",
                first_ts=now, last_ts=now, event_ids=(), explanation="gas-2 under repair",
                status="out_of_service", attrs={"key": "gas-2", "target": "gas-2"})
    console.board.apply(oos)
    binhai = console.client_for("binhai")
    rows = {d["device_id"]: d for d in binhai.get("/api/devices").json()["devices"]}
    assert rows["gas-1"]["status"] == "ok" and rows["gas-1"]["figures"]["readings"] == 12
    assert rows["gas-2"]["status"] == "out_of_service"
    assert rows["edge:edge-1"]["status"] == "offline"
    assert {d["district"] for d in rows.values()} == {"binhai"}
    xicheng = console.client_for("xicheng").get("/api/devices").json()["devices"]
    assert all(d["district"] == "xicheng" for d in xicheng)
    sites = binhai.get("/api/sites").json()["sites"]
    assert [s["site_id"] for s in sites] == ["plant-east"]
    (tank,) = [p for p in sites[0]["points"] if p["point_id"] == "tank-farm"]
    # the correlated gas+motion alert is a process alarm (critical: red); the out-of-service
    # record is not one
    assert sites[0]["state"] == "red" and sites[0]["alerts"] == 1
    assert {d["device_id"]: d["status"] for d in tank["devices"]} == {"gas-1": "ok",
                                                                      "gas-2": "out_of_service"}
    for path in ("/sites", "/devices"):
        page = binhai.get(path)
        assert page.status_code == 200 and "/static/common.js" in page.text
        assert console.client_for(None).get(path, follow_redirects=False).status_code == 303


def test_alert_events_link_only_snapshots_the_center_holds(console: Console) -> None:
    east = console.alerts["east"]
    console.center.events = lambda alert: [{"event_id": e, "kind": "k", "source_id": "cam-1"}
                                           for e in alert.event_ids]
    with_shot = east.event_ids[-1]
    console.evidence.accept(evidence(with_shot).to_json())
    events = console.client_for("binhai").get(f"/api/alerts/{east.alert_id}/events").json()["events"]
    links = {e["event_id"]: e["evidence"] for e in events}
    assert links[with_shot] == f"/evidence/{with_shot}"
    assert all(v is None for k, v in links.items() if k != with_shot)


class Record:
    """A Kafka message as confluent-kafka hands it over (value, topic, partition, offset)."""

    def __init__(self, value: bytes) -> None:
        self._value = value

    def value(self) -> bytes:
        return self._value

    def topic(self) -> str:
        return "rs.evidence"

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return 7


def test_the_feed_never_passes_a_record_it_could_not_keep(tmp_path: Path) -> None:
    from riskstream.center.feed import EvidenceFeed
    from riskstream.config.schema import KafkaSettings
    from riskstream.deadletter import DeadLetter

    store = EvidenceStore(tmp_path / "ev", 30, 2**20, ["plant-east"])
    letters: list[DeadLetter] = []
    feed = EvidenceFeed(KafkaSettings(), store, letters.append)
    assert feed._keep(Record(evidence("E1").to_json()))
    bad = tampered(evidence("E2").to_json(), sha256="0" * 64)
    assert feed._keep(Record(bad))  # refused: dead-lettered with the reason, then passed
    assert letters[0].stage == "center.evidence" and "sha256" in letters[0].reason
    assert letters[0].source == "rs.evidence/0/7"

    def unreachable(letter: DeadLetter) -> None:
        raise RuntimeError("rs.dlq not reachable")

    feed.dead_letter = unreachable
    assert not feed._keep(Record(bad))  # not dead-lettered: not committed, retried later

    def full(value: bytes) -> None:
        raise OSError(28, "No space left on device")

    store.check_and_keep = full  # type: ignore[assignment,method-assign]
    assert not feed._keep(Record(evidence("E3").to_json())) and feed.failures == 2


def test_a_refusal_is_counted_once_however_often_its_dead_letter_is_retried(tmp_path: Path) -> None:
    """The feed retries a refused record until rs.dlq takes its dead letter; the store once
    counted the refusal at every try."""
    from riskstream.center.feed import EvidenceFeed
    from riskstream.config.schema import KafkaSettings
    from riskstream.deadletter import DeadLetter

    store = EvidenceStore(tmp_path / "ev", 30, 2**20, ["plant-east"])
    letters: list[DeadLetter] = []
    tries = iter([OSError("rs.dlq unreachable"), OSError("rs.dlq unreachable"), None])

    def dead_letter(letter: DeadLetter) -> None:
        failure = next(tries)
        if failure:
            raise failure
        letters.append(letter)

    feed = EvidenceFeed(KafkaSettings(), store, dead_letter)
    foreign = Record(evidence(site="elsewhere").to_json())
    assert [feed._keep(foreign) for _ in range(3)] == [False, False, True]
    assert len(letters) == 1 and store.counts["refused"] == 1
    assert feed._keep(Record(evidence().to_json())) and store.counts["stored"] == 1
