"""``riskstream edge`` and ``riskstream worker`` stop once, at start, with the reason, when a
secret they need is missing: never serve metrics open, never loop in the worker's supervisor."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from riskstream.cli import main
from riskstream.metrics_http import TOKEN_ENV

DEMO = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"


@pytest.mark.parametrize("role", ["edge", "worker"])
def test_the_cli_stops_before_starting_when_the_token_is_missing(
        role: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    monkeypatch.setenv("RS_KAFKA_BOOTSTRAP", "127.0.0.1:1")  # not the recorded local stack
    assert main([role, "--config", str(DEMO)]) == 2
    err = capsys.readouterr().err
    assert TOKEN_ENV in err and "services env" in err and "Traceback" not in err


def test_the_worker_stops_once_without_its_kafka_password(tmp_path: Path) -> None:
    """The supervised worker child stopped on the missing password, exit 2, and its supervisor
    started it again, and again: ``riskstream worker`` never ended. It is checked up front."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RS_")}
    env.update({TOKEN_ENV: "a-token", "RS_KAFKA_BOOTSTRAP": "127.0.0.1:1",
                "RS_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                "RS_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "RS_WORKER_METRICS_PORT": "0"})
    done = subprocess.run([sys.executable, "-m", "riskstream", "worker", "--config", str(DEMO),
                           "--state-dir", str(tmp_path)], capture_output=True, text=True,
                          timeout=60, env=env, check=False)
    assert done.returncode == 2
    assert "RS_KAFKA_WORKER_PASSWORD" in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.count("error:") == 1, done.stderr
