"""The benchmarks' raw-socket publisher against the real Mosquitto: a paho subscriber gets every
message in order, and a wrong password is refused with a clear error."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from benchmarks.mqtt_load import RawPublisher
from riskstream.services import LocalServices, ServiceInfo


def test_raw_publisher_messages_reach_a_paho_subscriber(services: ServiceInfo, unique: str) -> None:
    env = services.env()
    pub_user, sub_user = f"bench-pub-{unique}", f"bench-sub-{unique}"
    accounts = LocalServices(Path(services.state_dir)).grant_mqtt_accounts(
        {pub_user: ([], [f"{unique}/#"]), sub_user: ([f"{unique}/#"], [])})
    got: list[tuple[str, bytes]] = []
    done = threading.Event()

    def on_message(_c: Any, _u: Any, msg: Any) -> None:
        got.append((msg.topic, bytes(msg.payload)))
        if len(got) == 300:
            done.set()

    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"sub-{unique}")
    sub.username_pw_set(sub_user, accounts[sub_user].password)
    sub.on_message = on_message
    subscribed = threading.Event()
    sub.on_subscribe = lambda *_a: subscribed.set()
    sub.connect(env["RS_MQTT_HOST"], int(env["RS_MQTT_PORT"]))
    sub.loop_start()
    try:
        sub.subscribe(f"{unique}/#", 0)
        assert subscribed.wait(10)
        sent = [(f"{unique}/s{i % 7}", (b"p%d-" % i) * (i % 90)) for i in range(300)]
        pub = RawPublisher(env["RS_MQTT_HOST"], int(env["RS_MQTT_PORT"]), f"pub-{unique}",
                           pub_user, accounts[pub_user].password)
        pub.publish_many(sent[:100])
        pub.publish_many(sent[100:])
        assert done.wait(10), f"received {len(got)} of 300"
        pub.close()
        assert got == sent
    finally:
        sub.loop_stop()
        sub.disconnect()


def test_raw_publisher_wrong_password_is_refused(services: ServiceInfo, unique: str) -> None:
    env = services.env()
    with pytest.raises(ConnectionError, match="refused"):
        RawPublisher(env["RS_MQTT_HOST"], int(env["RS_MQTT_PORT"]), f"pub-{unique}",
                     env["RS_MQTT_USERNAME"], "not-the-password")


def test_the_edge_benchmark_receives_its_stream_under_the_brokers_closed_acls(
        services: ServiceInfo, unique: str) -> None:
    """benchmarks.edge published and read as the services' default account, which the broker's
    ACLs give no topic: every message was dropped and the run ended in a ZeroDivisionError."""
    from benchmarks.edge import bench_account, payloads, receive_rate

    msgs = payloads(500, unique)
    topics = sorted({t for t, _ in msgs})
    seen: list[str] = []
    rate = receive_rate(services, topics, msgs, lambda t, _p: seen.append(t),
                        bench_account(services, topics))
    assert len(seen) == len(msgs) and rate > 0
