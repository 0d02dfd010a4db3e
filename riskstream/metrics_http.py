"""The Prometheus endpoint of a riskstream process, on loopback.

On by default (``edge.metrics_port`` 9108, ``worker.metrics_port`` 9109); when that port is
taken (a second worker on the box) the process takes a free one and logs which, rather than
failing or going dark.
"""

from __future__ import annotations

import logging

from prometheus_client import start_http_server

log = logging.getLogger(__name__)


def serve_metrics(port: int, what: str) -> int | None:
    """Serve /metrics on 127.0.0.1:``port`` (0 in the config: off); returns the port used."""
    if not port:
        return None
    try:
        server, _ = start_http_server(port, addr="127.0.0.1")
    except OSError as exc:
        server, _ = start_http_server(0, addr="127.0.0.1")
        log.warning("%s metrics: port %d is taken (%s); serving on %d instead", what, port,
                    exc.strerror, server.server_port)
    used = int(server.server_port)
    log.info("%s metrics on http://127.0.0.1:%d/metrics", what, used)
    return used
