"""A lean MQTT 3.1.1 QoS 0 load generator for benchmarks.

In production the devices publish from their own hardware; in a benchmark the load generator
shares this 2-core box with the system it measures. paho-mqtt costs ~50 us of Python per
publish (0.25 core at 5,000 messages/s), which the edge agent and Kafka then lack. This client
pre-encodes PUBLISH packets and writes a tick's worth in one ``sendall``: the broker and the
subscriber see the same packets as from any client.
"""

from __future__ import annotations

import socket
import struct


def _remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        digit, n = n % 128, n // 128
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _utf8(text: str) -> bytes:
    data = text.encode()
    return struct.pack("!H", len(data)) + data


def publish_packet(topic: str, payload: bytes) -> bytes:
    """One QoS 0 PUBLISH packet (no packet id at QoS 0)."""
    body = _utf8(topic) + payload
    return b"\x30" + _remaining_length(len(body)) + body


class RawPublisher:
    """Connects with user/password, then writes batches of QoS 0 PUBLISH packets."""

    def __init__(self, host: str, port: int, client_id: str, username: str, password: str,
                 timeout: float = 10.0) -> None:
        self._sock = socket.create_connection((host, port), timeout=timeout)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        flags = 0x80 | 0x40 | 0x02  # username, password, clean session
        variable = _utf8("MQTT") + bytes([4, flags]) + struct.pack("!H", 60)
        payload = _utf8(client_id) + _utf8(username) + _utf8(password)
        body = variable + payload
        self._sock.sendall(b"\x10" + _remaining_length(len(body)) + body)
        connack = self._read(4)
        if connack[0] != 0x20 or connack[3] != 0:
            raise ConnectionError(f"MQTT broker refused the connection (CONNACK {connack.hex()})")

    def _read(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self._sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("MQTT broker closed the connection")
            data += chunk
        return data

    def publish_many(self, messages: list[tuple[str, bytes]]) -> None:
        if messages:
            self._sock.sendall(b"".join(publish_packet(t, p) for t, p in messages))

    def close(self) -> None:
        try:
            self._sock.sendall(b"\xe0\x00")  # DISCONNECT
        finally:
            self._sock.close()
