"""The camera path on real streams: a GStreamer RTSP server and an MJPEG-over-HTTP server play
clips to the real edge agent, next to a dead camera URL and a hazard sensor on real Mosquitto;
events and heartbeats are read back from real Kafka.

The RTSP clip ends after a few seconds (a stream that dies mid-way; the server plays it again
to the next connection), one URL has nothing behind it. The agent must say what is wrong, retry
with backoff, and keep serving the other cameras and the sensor. The ``generated`` variant
always runs; the ``shared`` variant plays the real UCSD Ped2 clips when ../shared/data exists.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path

import pytest

from riskstream.config import load
from riskstream.config.loader import with_env_overrides
from riskstream.demo.clips import walker_clip
from riskstream.evaluation.datapath import DataMissing, dataset_dir
from riskstream.events import Event, Heartbeat, decode_event_record
from riskstream.launch import start_process
from riskstream.services import ServiceInfo
from riskstream.services.mjpeg import MjpegServer
from riskstream.services.process import free_port
from riskstream.services.rtsp import start_rtsp
from riskstream.testing import config_publisher, read_topic
from riskstream.topics import ensure_topics

pytestmark = pytest.mark.integration
RUN_S = 22.0


def _clips(variant: str, workdir: Path) -> tuple[Path, Path, str]:
    """(RTSP clip, MJPEG clip, detectors YAML) for the variant."""
    if variant == "generated":
        rtsp = walker_clip(workdir / "rtsp.mp4", seconds=6.0, seed=0)
        mjpeg = walker_clip(workdir / "mjpeg.mp4", seconds=6.0, seed=1)
        return rtsp, mjpeg, "[{type: zone_motion}, {type: tamper}]"
    try:
        root = dataset_dir("video/ucsd_ped2") / "derived_mp4"
    except DataMissing as exc:
        pytest.skip(f"needs the shared evaluation data: {exc}")
    detectors = "[{type: zone_motion}, {type: tamper}, {type: scene_model, model: scene-ped2@3}]"
    return root / "ped2_testing_04.mp4", root / "ped2_testing_01.mp4", detectors


def _config(u: str, rtsp_url: str, mjpeg_url: str, dead_url: str, detectors: str) -> str:
    zone = "zones: [{name: walkway, polygon: [[0, 0.25], [1, 0.25], [1, 1], [0, 1]], restricted: true}]"
    cams = "\n".join(
        f"  - {{id: {cid}, site: plant, url: '{url}', fps: 5, open_timeout_s: 5, read_timeout_s: 3, "
        f"{zone}, detectors: {detectors}}}"
        for cid, url in (("cam-rtsp", rtsp_url), ("cam-mjpeg", mjpeg_url), ("cam-dead", dead_url))
    )
    return f"""sites:
  - {{id: plant, name: Plant, district: d, kind: chemical_plant,
     risk_points: [{{id: tank-farm, name: Tanks}}]}}
sensors:
  - {{id: gas-1, site: plant, point: tank-farm, metric: combustible_gas, unit: '%LEL', topic: c{u}/gas-1,
     thresholds: {{warning: 25, alarm: 50}}}}
cameras:
{cams}
kafka:
  partitions: 2
  topics: {{events: c-{u}.events, dlq: c-{u}.dlq, readings: c-{u}.readings, health: c-{u}.health,
           alerts: c-{u}.alerts, alert_actions: c-{u}.actions}}
mqtt:
  username: riskstream-edge
  client_id: cameras-{u}
  subscriptions: ['c{u}/+']
edge:
  heartbeat_s: 2
  camera_backoff_s: [0.5, 2]
  incident_update_s: 2
  incident_end_s: 1
"""


@pytest.mark.parametrize("variant", ["generated", "shared"])
def test_cameras_dead_and_dying_streams_do_not_stop_the_rest(
    variant: str, services: ServiceInfo, unique: str, workdir: Path
) -> None:
    rtsp_clip, mjpeg_clip, detectors = _clips(variant, workdir)
    rtsp = start_rtsp({"cam": rtsp_clip}, workdir / "rtsp.log")
    mjpeg = MjpegServer(mjpeg_clip, free_port(), loop=True).start()
    dead_url = f"rtsp://127.0.0.1:{free_port()}/nothing"
    path = workdir / "edge.yaml"
    path.write_text(_config(unique, rtsp.url("cam"), mjpeg.url, dead_url, detectors))
    cfg = with_env_overrides(load(path, environ={}), services.env())
    ensure_topics(cfg)
    pub = config_publisher(services.state_dir, cfg, services.env(), f"pub-{unique}",
                           also=(f"c{unique}/gas-9",))  # a topic no sensor is configured for
    edge = start_process("edge", path, workdir, services.env(), workdir / "logs")
    readings = 0
    try:
        started = time.monotonic()
        while time.monotonic() - started < RUN_S:
            value = 30.0 if readings % 2 == 0 else 10.0  # each reading changes level: one event
            # JSON and the compact vendor form, alternately, through a wildcard subscription.
            body = json.dumps({"value": value}) if readings % 4 < 2 else f"{value},%LEL,,g"
            pub.publish(f"c{unique}/gas-1", body.encode(), qos=1).wait_for_publish(5)
            readings += 1
            time.sleep(0.5)
        pub.publish(f"c{unique}/gas-9", b"12.5", qos=1).wait_for_publish(5)  # nobody configured it
        time.sleep(1.0)
        assert edge.alive(), edge.log.read_text()[-3000:]
    finally:
        pub.disconnect()
        edge.stop()
        rtsp.stop()
        mjpeg.stop()

    events = [
        e
        for _, v in read_topic(cfg.kafka, cfg.kafka.topics.events, expect=readings, timeout=30, settle=3)
        for _, e in decode_event_record(v)
    ]
    assert all(isinstance(e, Event) for e in events)
    unique_events = {e.event_id: e for e in events if isinstance(e, Event)}.values()

    # The sensor was served throughout: one threshold event per reading, none lost.
    assert sum(1 for e in unique_events if e.source_id == "gas-1") == readings

    incidents: dict[str, dict[str, list[Event]]] = defaultdict(lambda: defaultdict(list))
    for e in unique_events:
        if e.kind.startswith("video."):
            incidents[e.source_id][str(e.attrs["incident_id"])].append(e)
    for cam in ("cam-rtsp", "cam-mjpeg"):
        intrusions = [evs for evs in incidents[cam].values() if evs[0].kind == "video.intrusion"]
        assert intrusions, f"{cam}: no intrusion incident"
        for evs in intrusions:
            phases = [e.attrs["phase"] for e in sorted(evs, key=lambda e: e.ts)]
            assert phases[0] == "start" and phases.count("start") == 1 and phases.count("end") <= 1
            start = evs[[e.attrs["phase"] for e in evs].index("start")]
            assert start.snapshot and Path(start.snapshot).read_bytes()[:2] == b"\xff\xd8"  # a JPEG
    assert not incidents["cam-dead"]
    # The 6 s RTSP clip ended and was picked up again: walkers from more than one playback.
    # (The real Ped2 clips last 18 s, about the whole run, so only the generated one dies here.)
    if variant == "generated":
        assert len([1 for evs in incidents["cam-rtsp"].values() if evs[0].kind == "video.intrusion"]) >= 2
    if variant == "shared":
        assert any(
            evs[0].kind == "video.anomaly"
            for cam in ("cam-rtsp", "cam-mjpeg")
            for evs in incidents[cam].values()
        ), "the scene model saw nothing on real Ped2 clips"

    dead_letters = [
        json.loads(v) for _, v in read_topic(cfg.kafka, cfg.kafka.topics.dlq, expect=1, timeout=20)
    ]
    assert [d["error_type"] for d in dead_letters] == ["unknown_topic"]
    assert f"c{unique}/gas-9" in dead_letters[0]["reason"]

    beats: dict[str, list[Heartbeat]] = defaultdict(list)
    for _, v in read_topic(cfg.kafka, cfg.kafka.topics.health, expect=6, timeout=20, settle=2):
        hb = Heartbeat.from_json(v)
        beats[hb.source_id].append(hb)
    dead = beats["cam-dead"][-1].attrs
    assert dead["state"] == "lost" and dead["reconnects"] >= 3 and "cannot open" in dead["last_error"]
    if variant == "generated":
        rtsp_last = max(beats["cam-rtsp"], key=lambda b: b.attrs["reconnects"]).attrs
        assert rtsp_last["reconnects"] >= 1 and "ended" in rtsp_last["last_error"]
    assert max(b.attrs["fps_analysed"] for b in beats["cam-mjpeg"]) >= 3.0
    log = edge.log.read_text()
    assert "camera cam-dead: cannot open" in log and "reconnect" in log
