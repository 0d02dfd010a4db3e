"""ClickHouse and Kafka client errors reach a user as one line that says where, what and what
to check, and the worker's supervisor does not restart a child that stopped on its user's
mistake."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

from riskstream.cli import main
from riskstream.storage.errors import auth_failed, describe, redact, refused

AUTH = ("Received ClickHouse exception, code: 516, server response: Code: 516. DB::Exception: "
        "analyst: Authentication failed: password is incorrect, or there is no user with such "
        "name. (AUTHENTICATION_FAILED) (for url http://127.0.0.1:8123)")
DOWN = ("Error HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded (Caused by "
        "NewConnectionError(\"HTTPConnection(host='127.0.0.1', port=1): Failed to establish a "
        "new connection: [Errno 111] Connection refused\")) executing HTTP request attempt 1 "
        "(http://127.0.0.1:1)")


def test_a_refused_password_is_told_with_the_variable_to_check() -> None:
    exc = DatabaseError(AUTH, code=516, name="AUTHENTICATION_FAILED")
    line = describe(exc, password_env="RS_CLICKHOUSE_READER_PASSWORD")
    assert auth_failed(exc) and refused(exc)
    assert line == ("ClickHouse at http://127.0.0.1:8123 refused the credentials: Code: 516. "
                    "DB::Exception: analyst: Authentication failed: password is incorrect, or "
                    "there is no user with such name. (AUTHENTICATION_FAILED); check "
                    "RS_CLICKHOUSE_READER_PASSWORD")


def test_a_server_that_did_not_answer_is_told_apart_from_one_that_refused() -> None:
    exc = OperationalError(DOWN)
    assert not refused(exc) and not auth_failed(exc)
    assert describe(exc) == "ClickHouse at http://127.0.0.1:1 did not answer: [Errno 111] Connection refused"


def test_a_password_in_the_dsn_never_reaches_the_line() -> None:
    assert redact("http://writer:s3cret@db:8123/x") == "http://writer@db:8123/x"
    line = describe(OperationalError(DOWN), dsn="http://writer:s3cret@127.0.0.1:1")
    assert "s3cret" not in line and "writer@127.0.0.1:1" in line


def test_sql_against_a_server_that_is_down_ends_in_one_line_not_a_traceback(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RS_CLICKHOUSE_DSN", "http://127.0.0.1:1")
    assert main(["sql", "SELECT 1"]) == 1  # not refused: it may answer in a moment
    err = capsys.readouterr().err
    assert "error: ClickHouse at http://127.0.0.1:1 did not answer" in err
    assert "Traceback" not in err


def test_the_supervisor_does_not_restart_a_child_that_stopped_on_a_users_mistake(
        tmp_path: Path) -> None:
    """Its child exits 2 after saying why (here: no such config file); a fresh one would stop
    the same way. The old supervisor started one every few seconds, forever."""
    code = ("import sys; from riskstream.streams.worker import supervise; "
            f"sys.exit(supervise(['worker', '--config', {str(tmp_path / 'missing.yaml')!r}], "
            "backoff=(0.1, 0.1)))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RS_")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env=env, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("error: invalid configuration") == 1, done.stderr
    assert "not restarting" in done.stderr and "starting a fresh one" not in done.stderr


def test_an_alert_action_with_kafka_down_ends_in_one_line_not_a_traceback(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from riskstream.services.process import free_port

    for name in [n for n in os.environ if n.startswith("RS_KAFKA_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("RS_KAFKA_BOOTSTRAP", f"127.0.0.1:{free_port()}")
    code = main(["alerts", "ack", "a-1", "--site", "plant-east", "--by", "me", "--wait", "1",
                 "--config", str(Path(__file__).resolve().parents[2] / "config" / "demo.yaml")])
    err = capsys.readouterr().err
    assert code == 1 and "error: Kafka did not answer" in err and "Traceback" not in err


def test_a_kafka_refusal_is_not_told_as_a_broker_that_is_down(
        capsys: pytest.CaptureFixture[str]) -> None:
    from confluent_kafka import KafkaError, KafkaException

    from riskstream.cli import _told

    assert _told(KafkaException(KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED))) == 2
    assert capsys.readouterr().err.startswith("error: Kafka refused: ")
    assert _told(KafkaException(KafkaError(KafkaError._TRANSPORT))) == 1
    assert "error: Kafka did not answer" in capsys.readouterr().err
    with pytest.raises(ZeroDivisionError):  # not a client's error: a bug keeps its traceback
        _told(ZeroDivisionError())


def test_an_alert_tail_with_kafka_down_says_so_instead_of_looking_quiet(
        monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    """It printed librdkafka's FAIL line every 50 ms (234 in 12 s) to fd 2 and then ended 0 at
    its idle exit, as if there had been no alerts."""
    from riskstream.services.process import free_port

    for name in [n for n in os.environ if n.startswith("RS_KAFKA_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("RS_KAFKA_BOOTSTRAP", f"127.0.0.1:{free_port()}")
    code = main(["alerts", "tail", "--idle-exit", "2", "--config",
                 str(Path(__file__).resolve().parents[2] / "config" / "demo.yaml")])
    err = capfd.readouterr().err
    assert code == 1 and "error: Kafka did not answer" in err and "Traceback" not in err
    assert "FAIL|rdkafka" not in err and len(err.splitlines()) <= 10, err


def test_the_watchdogs_offset_probe_is_quiet_while_kafka_is_down(
        capfd: pytest.CaptureFixture[str]) -> None:
    """Never polled, its consumer wrote librdkafka's FAIL line to the worker's stderr every
    50 ms of an outage (880 lines in 40 s); the probe's failure is the watchdog's to handle."""
    from confluent_kafka import KafkaException

    from riskstream.config.schema import KafkaSettings
    from riskstream.kafka_offsets import GroupOffsets
    from riskstream.services.process import free_port

    probe = GroupOffsets(KafkaSettings(bootstrap=f"127.0.0.1:{free_port()}"), "g")
    try:
        with pytest.raises(KafkaException):
            probe.committed([("t", 0)], timeout=1.5)
    finally:
        probe.close()
    assert "FAIL|rdkafka" not in capfd.readouterr().err
