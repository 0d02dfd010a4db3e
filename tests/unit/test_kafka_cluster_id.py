"""The local broker's KRaft cluster id never looks like an option to Kafka's storage tool."""

from __future__ import annotations

import base64
import uuid

import pytest

from riskstream.services import kafka


def test_a_cluster_id_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    dashed = uuid.UUID(bytes=base64.urlsafe_b64decode("-" + "A" * 21 + "=="))
    plain = uuid.UUID(int=1)
    draws = iter([dashed, plain])
    monkeypatch.setattr(kafka.uuid, "uuid4", lambda: next(draws))
    cluster_id = kafka.new_cluster_id()
    assert not cluster_id.startswith("-") and len(cluster_id) == 22
    assert cluster_id == base64.urlsafe_b64encode(plain.bytes).decode().rstrip("=")


def test_random_ids_are_valid_base64_uuids() -> None:
    for _ in range(500):
        cid = kafka.new_cluster_id()
        assert not cid.startswith("-")
        assert len(base64.urlsafe_b64decode(cid + "==")) == 16
