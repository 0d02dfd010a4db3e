"""`services down` then `services up`: the broker's data keeps the users it was formatted with,
so the stack must come back with their passwords (before, new ones were generated and every
client was refused with "invalid credentials")."""

from __future__ import annotations

import json
from pathlib import Path

from riskstream.kafka_settings import ROLES
from riskstream.services.kafka import KAFKA_CREDENTIALS, kafka_credentials


def _format(workdir: Path) -> None:
    (workdir / "data").mkdir(parents=True, exist_ok=True)
    (workdir / "data" / "meta.properties").write_text("cluster.id=x\n")


def test_a_formatted_broker_keeps_its_passwords(tmp_path: Path) -> None:
    first = kafka_credentials(tmp_path)
    assert set(first) == {*ROLES, "controller"} and len(set(first.values())) == len(first)
    assert oct((tmp_path / KAFKA_CREDENTIALS).stat().st_mode & 0o777) == "0o600"
    _format(tmp_path)  # what start_kafka does with them
    assert kafka_credentials(tmp_path) == first


def test_data_formatted_without_them_is_moved_aside_not_deleted(tmp_path: Path) -> None:
    _format(tmp_path)  # formatted by an older riskstream: no credentials kept
    fresh = kafka_credentials(tmp_path)
    assert not (tmp_path / "data").exists()
    (aside,) = tmp_path.glob("data.no-credentials-*")
    assert (aside / "meta.properties").read_text() == "cluster.id=x\n"
    assert json.loads((tmp_path / KAFKA_CREDENTIALS).read_text()) == fresh


def test_a_damaged_credentials_file_starts_afresh(tmp_path: Path) -> None:
    _format(tmp_path)
    (tmp_path / KAFKA_CREDENTIALS).write_text('{"admin": "x"}')  # a role missing
    assert set(kafka_credentials(tmp_path)) == {*ROLES, "controller"}
    assert len(list(tmp_path.glob("data.no-credentials-*"))) == 1
