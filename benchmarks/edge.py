"""Edge sensor-path benchmark, side by side in one run (results: benchmarks/results/edge.json).

* raw: a bare paho-mqtt subscriber counting messages from real Mosquitto (no processing);
* ours: the same stream through the edge agent's handler: parse + validate + thresholds +
  durable outbox commit (Kafka forwarding is a separate thread and not part of this path);
* ours, in-process: the handler called directly, without MQTT, to show the per-reading cost;
  once as QoS 0 and once as QoS 1, where each delivery is also remembered in the outbox (its
  packet id and digest) so a broker's re-send after a crash is not counted twice.

Run: .venv/bin/python -m benchmarks.edge [--readings N]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.common import local_services, report, save_part, write_config
from riskstream.edge.agent import EdgeAgent
from riskstream.services import ServiceInfo

SENSORS = 50


def config(tag: str) -> str:
    sensors = "\n".join(
        f"  - {{id: s{i:02d}, site: plant, point: area, metric: combustible_gas, unit: '%LEL', "
        f"topic: eb{tag}/s{i:02d}, thresholds: {{warning: 25, alarm: 50}}, "
        f"valid_range: {{min: 0, max: 100}}}}" for i in range(SENSORS))
    return f"""sites:
  - {{id: plant, name: Plant, district: d, kind: chemical_plant,
     risk_points: [{{id: area, name: Area}}]}}
sensors:
{sensors}
mqtt:
  username: riskstream-edge
  client_id: edge-bench-{tag}
  qos: 0
"""


def payloads(n: int, tag: str) -> list[tuple[str, bytes]]:
    """Mostly normal readings; every 20th crosses a level (so events are made too)."""
    out = []
    for i in range(n):
        value = 30.0 if (i // SENSORS) % 20 == 19 else 5.0 + (i % 7) * 0.1
        out.append((f"eb{tag}/s{i % SENSORS:02d}", json.dumps({"value": value}).encode()))
    return out


def bench_account(info: ServiceInfo, topics: list[str]) -> tuple[str, str]:
    """A broker account that may publish and read the benchmark's topics (the broker's
    ACLs are closed by default); returns its user and password."""
    from riskstream.services import LocalServices

    user = f"eb-{time.time_ns()}"
    accounts = LocalServices(Path(info.state_dir)).grant_mqtt_accounts({user: (topics, topics)})
    return user, accounts[user].password


def publish_all(info: ServiceInfo, msgs: list[tuple[str, bytes]],
                login: tuple[str, str]) -> None:
    from riskstream.testing import mqtt_publisher

    pub = mqtt_publisher(info.env(), f"eb-pub-{time.time_ns()}", *login)
    for topic, body in msgs:
        pub.publish(topic, body, qos=0)
    time.sleep(0.5)
    pub.disconnect()


def receive_rate(info: ServiceInfo, topics: list[str], msgs: list[tuple[str, bytes]],
                 handler: Any, login: tuple[str, str]) -> float:
    """Messages/s a paho subscriber takes in while ``handler`` runs for each."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    env = info.env()
    done = threading.Event()
    state = {"n": 0, "first": 0.0, "last": 0.0}

    def on_message(_c: Any, _u: Any, msg: Any) -> None:
        if state["n"] == 0:
            state["first"] = time.perf_counter()
        handler(msg.topic, msg.payload)
        state["n"] += 1
        state["last"] = time.perf_counter()
        if state["n"] >= len(msgs):
            done.set()

    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"eb-sub-{time.time_ns()}")
    sub.username_pw_set(*login)
    sub.on_message = on_message
    sub.connect(env["RS_MQTT_HOST"], int(env["RS_MQTT_PORT"]))
    sub.subscribe([(t, 0) for t in topics])
    sub.loop_start()
    time.sleep(1.0)
    # A separate process publishes, so the subscriber has this process's core to itself.
    publisher = multiprocessing.get_context("fork").Process(target=publish_all, args=(info, msgs, login))
    publisher.start()
    done.wait(300)
    publisher.join(60)
    sub.loop_stop()
    sub.disconnect()
    if state["n"] < len(msgs) or state["last"] <= state["first"]:
        raise SystemExit(f"error: the subscriber received {state['n']:,} of {len(msgs):,} "
                         "messages; no rate to report (check the broker's log and ACLs)")
    return state["n"] / (state["last"] - state["first"])


def in_process_rate(cfg: Any, msgs: list[tuple[str, bytes]], qos: int) -> float:
    """Readings/s through the handler called directly, committing every 500 as the
    committer thread does; QoS 1 deliveries get packet ids as a broker numbers them."""
    agent = EdgeAgent(cfg, Path(tempfile.mkdtemp(prefix="eb-state-")))
    agent.source.ack = lambda mid, qos: None  # type: ignore[method-assign]
    started = time.perf_counter()
    for i, (topic, body) in enumerate(msgs):
        agent.handle(topic, body, mid=i % 65535 + 1 if qos else 0, qos=qos)
        if i % 500 == 499:
            agent.commit()
    agent.commit()
    return len(msgs) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readings", type=int, default=100_000)
    args = parser.parse_args()
    n = args.readings
    with local_services() as (info, scratch):
        tag = str(time.time_ns() % 100000)
        _, cfg = write_config(scratch, config(tag), info)
        msgs = payloads(n, tag)
        topics = sorted({t for t, _ in msgs})
        login = bench_account(info, topics)
        raw = receive_rate(info, topics, msgs, lambda _t, _p: None, login)
        agent = EdgeAgent(cfg, Path(tempfile.mkdtemp(prefix="eb-state-")))

        def through_agent(topic: str, body: bytes) -> None:
            agent.handle(topic, body)
            if len(agent._pending_acks) >= 500:
                agent.commit()

        ours = receive_rate(info, topics, msgs, through_agent, login)
        direct = in_process_rate(cfg, msgs, qos=0)
        direct_qos1 = in_process_rate(cfg, msgs, qos=1)
        depth = agent.outbox.depth()
    figures = {"readings": n, "sensors": SENSORS,
               "raw_paho_receive_per_s": round(raw, 1), "edge_handler_via_mqtt_per_s": round(ours, 1),
               "edge_handler_in_process_per_s": round(direct, 1),
               "edge_handler_in_process_qos1_per_s": round(direct_qos1, 1),
               "ratio_edge_to_raw": round(ours / raw, 3), "outbox_records": depth}
    out = save_part("edge", "sensor", figures)
    report("Edge sensor path (readings/s, one core)", [
        ("raw paho-mqtt receive", f"{raw:,.0f}"),
        ("edge: parse + detect + outbox, via MQTT", f"{ours:,.0f}"),
        ("edge handler in-process (no MQTT)", f"{direct:,.0f}"),
        ("the same as QoS 1 (deliveries remembered)", f"{direct_qos1:,.0f}"),
        ("ratio edge / raw", f"{ours / raw:.3f}"),
    ])
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()
