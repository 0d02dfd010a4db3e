"""`riskstream topics create` against a broker that does not answer (down, or refusing the
admin's password) ended in a traceback (TimeoutError from the ACL grant); it is a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from riskstream.config.loader import load
from riskstream.services.process import ServiceError, free_port
from riskstream.topics import ensure_topics

CONFIG = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"


def test_a_broker_that_does_not_answer_is_a_clear_error(monkeypatch: pytest.MonkeyPatch,
                                                        capfd: pytest.CaptureFixture[str]) -> None:
    cfg = load(str(CONFIG))
    closed = f"127.0.0.1:{free_port()}"
    cfg = cfg.model_copy(update={"kafka": cfg.kafka.model_copy(update={"bootstrap": closed})})
    for role in ("ADMIN", "EDGE", "WORKER", "CENTER"):
        monkeypatch.setenv(f"RS_KAFKA_{role}_PASSWORD", "not-this-brokers")
    with pytest.raises(ServiceError, match="did not answer the admin within 1 s") as err:
        ensure_topics(cfg, timeout=1.0)
    assert closed in str(err.value) and "services env" in str(err.value)
    assert "not-this-brokers" not in str(err.value)
    # told once: librdkafka printed a FAIL line every 50 ms of the wait (600 in 30 s) to fd 2
    assert "FAIL|rdkafka" not in capfd.readouterr().err
