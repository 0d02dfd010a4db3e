"""One code path for the embedded engine (``chdb:///abs/path``) and a server (``http(s)://``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import clickhouse_connect

from riskstream.config.schema import ClickHouseSettings, env_secret


def normalise_dsn(dsn: str) -> str:
    """Make a ``chdb://`` path absolute (``chdb://.riskstream/ch`` -> ``chdb:///cwd/.riskstream/ch``)."""
    if dsn.startswith("chdb://"):
        path = Path(dsn.removeprefix("chdb://")).expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        return f"chdb://{path}"
    if not dsn.startswith(("http://", "https://")):
        raise ValueError(f"clickhouse dsn must start with chdb://, http:// or https://, got {dsn!r}")
    return dsn


def connect(settings: ClickHouseSettings) -> Any:
    """A clickhouse-connect client for ``settings.dsn``; the password comes from the env."""
    dsn = normalise_dsn(settings.dsn)
    kwargs: dict[str, Any] = {"dsn": dsn}
    password = env_secret(settings.password_env)
    if password and not dsn.startswith("chdb://"):
        kwargs["password"] = password
    return clickhouse_connect.get_client(**kwargs)
