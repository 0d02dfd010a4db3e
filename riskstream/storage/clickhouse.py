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


READER_USER = "analyst"
READER_PASSWORD_ENV = "RS_CLICKHOUSE_READER_PASSWORD"


def connect(settings: ClickHouseSettings, analyst: bool = False) -> Any:
    """A clickhouse-connect client for ``settings.dsn``; passwords come from the environment.

    ``analyst=True`` connects as the read-only user of riskstream's ClickHouse endpoint.
    """
    dsn = normalise_dsn(settings.dsn)
    kwargs: dict[str, Any] = {"dsn": dsn}
    if not dsn.startswith("chdb://"):
        # No server-side session: one client may serve several threads' independent queries.
        kwargs["autogenerate_session_id"] = False
        if analyst:
            kwargs["username"] = READER_USER
            kwargs["password"] = env_secret(READER_PASSWORD_ENV) or ""
        else:
            kwargs["password"] = env_secret(settings.password_env) or ""
    return clickhouse_connect.get_client(**kwargs)
