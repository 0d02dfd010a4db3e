"""The edge agent: MQTT sensors in, detection on the spot, events out to Kafka."""
