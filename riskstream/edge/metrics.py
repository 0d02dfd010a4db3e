"""Prometheus metrics of the edge agent."""

from functools import cache

from prometheus_client import Counter, Gauge

READINGS = Counter("riskstream_edge_readings_total", "Valid sensor readings processed",
                   ["sensor"])
EVENTS = Counter("riskstream_edge_events_total", "Events handed to Kafka", ["kind", "severity"])
DEAD_LETTERS = Counter("riskstream_edge_dead_letters_total", "Payloads sent to the DLQ",
                       ["error_type"])
DELIVERED = Counter("riskstream_edge_kafka_delivered_total", "Records acknowledged by Kafka",
                    ["topic"])
DELIVERY_ERRORS = Counter("riskstream_edge_kafka_delivery_errors_total",
                          "Records Kafka did not acknowledge", ["topic"])
OUTBOX_DEPTH = Gauge("riskstream_edge_outbox_depth", "Records waiting in the durable outbox")
OUTBOX_WRITABLE = Gauge("riskstream_edge_outbox_writable",
                        "1 while the outbox can be written; 0 (disk full, I/O error): MQTT "
                        "messages are not acknowledged until it can")
OUTBOX_WRITABLE.set(1)
KAFKA_REACHABLE = Gauge("riskstream_edge_kafka_reachable",
                        "1 once Kafka answered (metadata or a delivery); 0: it did not at start")
OUTBOX_WRITE_ERRORS = Counter("riskstream_edge_outbox_write_errors_total",
                              "Failed outbox commits (disk full, I/O error), each retried")
OUTBOX_DROPPED = Counter("riskstream_edge_outbox_dropped_total",
                         "Records dropped to keep the outbox within its disk budget")
MQTT_CONNECTED = Gauge("riskstream_edge_mqtt_connected", "1 while subscribed to the MQTT broker")
MQTT_SUBSCRIPTIONS_REFUSED = Gauge("riskstream_edge_mqtt_subscriptions_refused",
                                   "Subscriptions the broker refused at the last connect (ACL)")
MQTT_RECONNECTS = Counter("riskstream_edge_mqtt_connects_total", "MQTT (re)connections")
MQTT_REDELIVERED = Counter("riskstream_edge_mqtt_redelivered_total",
                           "Re-sent MQTT messages the outbox already held (acknowledged, not "
                           "processed again)")
EVIDENCE = Counter("riskstream_edge_evidence_total",
                   "Event snapshots queued for the center (queued) or not (missing, invalid)",
                   ["outcome"])
CAMERA_FRAMES = Counter("riskstream_camera_frames_total", "Frames received from each camera", ["camera"])
CAMERA_ANALYSED = Counter("riskstream_camera_frames_analysed_total", "Frames analysed", ["camera"])
CAMERA_DROPPED = Counter("riskstream_camera_frames_dropped_total",
                         "Sampled frames dropped because analysis was behind", ["camera"])
CAMERA_RECONNECTS = Counter("riskstream_camera_reconnects_total",
                            "Failed opens or lost streams, each followed by a retry", ["camera"])
CAMERA_STREAMING = Gauge("riskstream_camera_streaming", "1 while the camera delivers frames", ["camera"])
CAMERA_ANALYSIS_SECONDS = Counter("riskstream_camera_analysis_seconds_total",
                                  "Time spent analysing frames", ["camera"])


# labels() takes a lock and checks its arguments on every call; the per-message path reuses
# the child (label values are bounded by the config: sensors, event kinds, severities).
@cache
def readings_of(sensor: str) -> Counter:
    return READINGS.labels(sensor)


@cache
def events_of(kind: str, severity: str) -> Counter:
    return EVENTS.labels(kind, severity)
