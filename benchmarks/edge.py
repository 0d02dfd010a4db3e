"""Edge sensor-path benchmark, side by side in one run (results: benchmarks/results/edge.json).

* raw: a bare paho-mqtt subscriber counting messages from real Mosquitto (no processing);
* ours: the same stream through the edge agent's handler: parse + validate + thresholds +
  durable outbox commit (Kafka forwarding is a separate thread and not part of this path);
* ours, in-process: the handler called directly, without MQTT, to show the per-reading cost.

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


def publish_all(info: ServiceInfo, msgs: list[tuple[str, bytes]]) -> None:
    from riskstream.testing import mqtt_publisher

    pub = mqtt_publisher(info.env(), f"eb-pub-{time.time_ns()}")
    for topic, body in msgs:
        pub.publish(topic, body, qos=0)
    time.sleep(0.5)
    pub.disconnect()


def receive_rate(info: ServiceInfo, topics: list[str], msgs: list[tuple[str, bytes]],
                 handler: Any) -> float:
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
    sub.username_pw_set(env["RS_MQTT_USERNAME"], env["RS_MQTT_PASSWORD"])
    sub.on_message = on_message
    sub.connect(env["RS_MQTT_HOST"], int(env["RS_MQTT_PORT"]))
    sub.subscribe([(t, 0) for t in topics])
    sub.loop_start()
    time.sleep(1.0)
    # A separate process publishes, so the subscriber has this process's core to itself.
    publisher = multiprocessing.get_context("fork").Process(target=publish_all, args=(info, msgs))
    publisher.start()
    done.wait(300)
    publisher.join(60)
    sub.loop_stop()
    sub.disconnect()
    return state["n"] / max(1e-9, state["last"] - state["first"])


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
        raw = receive_rate(info, topics, msgs, lambda _t, _p: None)
        agent = EdgeAgent(cfg, Path(tempfile.mkdtemp(prefix="eb-state-")))
        ours = receive_rate(info, topics, msgs, lambda t, p: agent.handle(t, p) or
                            (agent.commit() if len(agent._pending_acks) >= 500 else None))
        direct_agent = EdgeAgent(cfg, Path(tempfile.mkdtemp(prefix="eb-state-")))
        started = time.perf_counter()
        for i, (topic, body) in enumerate(msgs):
            direct_agent.handle(topic, body)
            if i % 500 == 499:
                direct_agent.commit()  # the committer thread's group commit, inline
        direct_agent.commit()
        direct = n / (time.perf_counter() - started)
        depth = agent.outbox.depth()
    figures = {"readings": n, "sensors": SENSORS,
               "raw_paho_receive_per_s": round(raw, 1), "edge_handler_via_mqtt_per_s": round(ours, 1),
               "edge_handler_in_process_per_s": round(direct, 1),
               "ratio_edge_to_raw": round(ours / raw, 3), "outbox_records": depth}
    out = save_part("edge", "sensor", figures)
    report("Edge sensor path (readings/s, one core)", [
        ("raw paho-mqtt receive", f"{raw:,.0f}"),
        ("edge: parse + detect + outbox, via MQTT", f"{ours:,.0f}"),
        ("edge handler in-process (no MQTT)", f"{direct:,.0f}"),
        ("ratio edge / raw", f"{ours / raw:.3f}"),
    ])
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()
