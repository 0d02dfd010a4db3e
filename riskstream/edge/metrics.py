"""Prometheus metrics of the edge agent."""

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
OUTBOX_DROPPED = Counter("riskstream_edge_outbox_dropped_total",
                         "Records dropped to keep the outbox within its disk budget")
MQTT_CONNECTED = Gauge("riskstream_edge_mqtt_connected", "1 while subscribed to the MQTT broker")
MQTT_RECONNECTS = Counter("riskstream_edge_mqtt_connects_total", "MQTT (re)connections")
