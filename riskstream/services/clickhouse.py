"""The embedded ClickHouse engine as a local service: ``riskstream clickhouse serve``."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from riskstream.services.process import port_open, spawn, wait_until

WRITER = "riskstream"
READER = "analyst"


@dataclass(frozen=True)
class ClickHouseProcess:
    pid: int
    port: int
    log: Path

    @property
    def dsn(self) -> str:
        return f"http://{WRITER}@127.0.0.1:{self.port}"


def start_clickhouse(
    workdir: Path, port: int, writer_password: str, reader_password: str, timeout: float = 60.0
) -> ClickHouseProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "clickhouse.log"
    env = {"RS_CLICKHOUSE_PASSWORD": writer_password,
           "RS_CLICKHOUSE_READER_PASSWORD": reader_password, "PYTHONUNBUFFERED": "1"}
    import os

    pid = spawn([sys.executable, "-m", "riskstream", "clickhouse", "serve",
                 "--data", str(workdir / "data"), "--port", str(port)], log,
                env={**os.environ, **env})
    wait_until(lambda: port_open("127.0.0.1", port), pid=pid, what="ClickHouse (chdb over HTTP)",
               log_path=log, timeout=timeout)
    return ClickHouseProcess(pid=pid, port=port, log=log)
