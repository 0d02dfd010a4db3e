"""The benchmarks' raw MQTT publisher must write packets any broker reads (MQTT 3.1.1 §2, §3.3)."""

from __future__ import annotations

import pytest

from benchmarks.mqtt_load import _remaining_length, publish_packet


@pytest.mark.parametrize(("n", "encoded"), [
    (0, b"\x00"), (127, b"\x7f"), (128, b"\x80\x01"), (16_383, b"\xff\x7f"),
    (16_384, b"\x80\x80\x01"), (2_097_152, b"\x80\x80\x80\x01"),
])
def test_remaining_length_uses_the_spec_varint(n: int, encoded: bytes) -> None:
    assert _remaining_length(n) == encoded


def test_publish_packet_layout() -> None:
    payload = b"x" * 200  # long enough to need two remaining-length bytes
    packet = publish_packet("site/t1", payload)
    assert packet[0] == 0x30  # PUBLISH, QoS 0, no DUP/RETAIN
    body = packet[3:]
    assert _remaining_length(len(body)) == packet[1:3]
    assert body[:2] == (7).to_bytes(2, "big") and body[2:9] == b"site/t1"
    assert body[9:] == payload  # QoS 0 carries no packet id
