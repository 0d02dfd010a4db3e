"""The Prometheus endpoint of a riskstream process, on loopback, behind a bearer token.

On by default (``edge.metrics_port`` 9108, ``worker.metrics_port`` 9109); when that port is
taken (a second worker on the box) the process takes a free one and logs which, rather than
failing or going dark. Every listener authenticates: a scrape must send
``Authorization: Bearer $RS_METRICS_TOKEN`` (``riskstream services env`` exports one; Prometheus
sends it with ``authorization: {credentials_file: ...}``). A process asked to serve metrics
without a token stops with that message rather than serve them open.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import Counter, make_wsgi_app

log = logging.getLogger(__name__)

TOKEN_ENV = "RS_METRICS_TOKEN"

REFUSED = Counter("riskstream_metrics_scrapes_refused", "Scrapes of /metrics refused for a "
                  "missing or wrong bearer token", ["reason"])

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class MetricsTokenMissing(ValueError):
    """Metrics were asked for but no token says who may read them."""


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Refusals are counted in a metric; one log line per scrape would drown the log."""


def metrics_token(environ: dict[str, str] | None = None) -> str:
    """The token from ``RS_METRICS_TOKEN``; :class:`MetricsTokenMissing` when unset or blank."""
    token = (os.environ if environ is None else environ).get(TOKEN_ENV, "").strip()
    if not token:
        raise MetricsTokenMissing(
            f"{TOKEN_ENV} is not set: the metrics endpoint serves only scrapes that send it as "
            f"a bearer token ('riskstream services env' exports one); set the metrics port to 0 "
            f"(RS_EDGE_METRICS_PORT, RS_WORKER_METRICS_PORT) to run without metrics")
    return token


def require_token(app: Wsgi, token: str) -> Wsgi:
    """Wrap ``app`` so that only ``Authorization: Bearer <token>`` reaches it (else 401)."""
    expected = f"Bearer {token}".encode()

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        sent = environ.get("HTTP_AUTHORIZATION", "")
        if hmac.compare_digest(sent.encode(errors="replace"), expected):
            return app(environ, start_response)
        REFUSED.labels(reason="wrong token" if sent else "no token").inc()
        start_response("401 Unauthorized", [("Content-Type", "text/plain"),
                                            ("WWW-Authenticate", 'Bearer realm="metrics"')])
        return [b"metrics need Authorization: Bearer <RS_METRICS_TOKEN>\n"]

    return guarded


def _listen(port: int, app: Wsgi) -> _Server:
    server = make_server("127.0.0.1", port, app, _Server, _QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    return server


def serve_metrics(port: int, what: str, token: str | None = None) -> int | None:
    """Serve /metrics on 127.0.0.1:``port`` (0 in the config: off); returns the port used.

    ``token``: the bearer token scrapes must send; from ``RS_METRICS_TOKEN`` when not given.
    Raises :class:`MetricsTokenMissing` when metrics are on and there is none.
    """
    if not port:
        return None
    app = require_token(make_wsgi_app(), token or metrics_token())
    try:
        server = _listen(port, app)
    except OSError as exc:
        server = _listen(0, app)
        log.warning("%s metrics: port %d is taken (%s); serving on %d instead", what, port,
                    exc.strerror, server.server_port)
    used = int(server.server_port)
    log.info("%s metrics on http://127.0.0.1:%d/metrics (bearer token from %s)", what, used,
             TOKEN_ENV)
    return used
