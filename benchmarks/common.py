"""Shared benchmark plumbing: services in a scratch folder, configs, results files."""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from riskstream.config import load
from riskstream.config.loader import with_env_overrides
from riskstream.config.schema import Config
from riskstream.services import LocalServices, ServiceInfo

RESULTS = Path(__file__).resolve().parent / "results"


@contextmanager
def local_services() -> Iterator[tuple[ServiceInfo, Path]]:
    """Kafka, Mosquitto and ClickHouse in a scratch folder, stopped afterwards."""
    scratch = Path(tempfile.mkdtemp(prefix="rs-bench-"))
    stack = LocalServices(scratch / "services")
    info = stack.up()
    saved = dict(os.environ)
    os.environ.update(info.env())
    finished = False
    try:
        yield info, scratch
        finished = True
    finally:
        os.environ.clear()
        os.environ.update(saved)
        stack.down()
        if finished:  # the Kafka logs of one run reach gigabytes
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            print(f"benchmark failed; its services' data and logs are kept in {scratch}")


def write_config(folder: Path, yaml_text: str, info: ServiceInfo) -> tuple[Path, Config]:
    path = folder / f"bench-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(yaml_text)
    return path, with_env_overrides(load(path, environ={}), info.env())


def save(name: str, figures: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{name}.json"
    payload = {
        "benchmark": name,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "figures": figures,
    }
    out.write_text(json.dumps(payload, indent=2) + "\n")
    return out


def wait_until(predicate: Any, timeout: float, interval: float = 0.1) -> bool:
    from riskstream.testing import wait_for

    return wait_for(predicate, timeout, interval)


def report(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n{title}")
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")


def save_part(name: str, part: str, figures: dict[str, Any]) -> Path:
    """Add or replace one part of a results file, keeping the other parts' figures."""
    out = RESULTS / f"{name}.json"
    current: dict[str, Any] = (json.loads(out.read_text()) if out.is_file()
                               else {"benchmark": name, "figures": {}})
    current["figures"][part] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"), **figures}
    current["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "platform": platform.platform()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(current, indent=2) + "\n")
    return out
