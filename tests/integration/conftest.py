"""Real components for integration tests: Kafka + Mosquitto started once per session on free
loopback ports, and the ClickHouse engine (chdb) in-process with a unique database per test.

Nothing is mocked. If Java, Maven or Mosquitto are missing the fixture fails with the install
command (``bash scripts/test.sh`` installs them on Debian/Ubuntu as root).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from riskstream.services import LocalServices, ServiceInfo


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceInfo]:
    stack = LocalServices(tmp_path_factory.mktemp("services"))
    info = stack.up()
    saved = dict(os.environ)
    os.environ.update(info.env())  # this test session is pointed at these services
    try:
        yield info
    finally:
        os.environ.clear()
        os.environ.update(saved)
        stack.down()


@pytest.fixture(scope="session")
def clickhouse(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The embedded engine for this test process (chdb allows one data path per process)."""
    import clickhouse_connect

    path = tmp_path_factory.mktemp("chdb")
    return clickhouse_connect.get_client(dsn=f"chdb://{path}")


@pytest.fixture
def database(clickhouse: Any) -> Iterator[str]:
    name = f"rs_test_{uuid.uuid4().hex[:10]}"
    yield name
    clickhouse.command(f"DROP DATABASE IF EXISTS {name}")


@pytest.fixture
def unique() -> str:
    """A short unique suffix for topic names and consumer groups of one test."""
    return uuid.uuid4().hex[:8]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path
