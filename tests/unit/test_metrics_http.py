"""The edge's and worker's Prometheus endpoints: on by default, and closed to a scrape without
the token (they answered anyone on the box before: every listener authenticates)."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

import pytest

import riskstream.edge.metrics  # noqa: F401  (registers the edge's metrics)
from riskstream.config.schema import EdgeSettings, WorkerSettings
from riskstream.metrics_http import REFUSED, TOKEN_ENV, MetricsTokenMissing, serve_metrics
from riskstream.promscrape import ScrapeRefused, scrape

TOKEN = "a-token-for-the-test"


def _get(port: int, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture(scope="module")
def port() -> int:
    used = serve_metrics(_free(), "edge", token=TOKEN)
    assert used
    return used


def _free() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_metrics_are_on_by_default_and_off_at_port_zero_without_a_token(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert (EdgeSettings().metrics_port, WorkerSettings().metrics_port) == (9108, 9109)
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert serve_metrics(0, "edge") is None


def test_without_a_token_the_endpoint_is_not_served_open(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with pytest.raises(MetricsTokenMissing, match=TOKEN_ENV):
        serve_metrics(_free(), "edge")
    monkeypatch.setenv(TOKEN_ENV, "   ")
    with pytest.raises(MetricsTokenMissing):
        serve_metrics(_free(), "worker")


def test_only_a_scrape_with_the_token_is_answered(port: int) -> None:
    before = {r: REFUSED.labels(reason=r)._value.get() for r in ("no token", "wrong token")}
    code, headers, body = _get(port, {})
    assert code == 401 and headers["WWW-Authenticate"].startswith("Bearer")
    assert b"riskstream_" not in body
    for wrong in (f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", TOKEN, f"Basic {TOKEN}"):
        assert _get(port, {"Authorization": wrong})[0] == 401
    code, _, body = _get(port, {"Authorization": f"Bearer {TOKEN}"})
    assert code == 200 and b"riskstream_edge_outbox_writable" in body
    assert REFUSED.labels(reason="no token")._value.get() == before["no token"] + 1
    assert REFUSED.labels(reason="wrong token")._value.get() == before["wrong token"] + 4


def test_scrape_sends_the_token_and_says_when_it_is_refused(port: int) -> None:
    samples = scrape(port, TOKEN)
    assert samples is not None and "riskstream_edge_outbox_writable" in samples
    with pytest.raises(ScrapeRefused, match=str(port)):
        scrape(port, "guess")
    assert scrape(_free(), TOKEN) is None  # nothing listens: down, not refused


def test_a_taken_port_is_not_fatal() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        used = serve_metrics(busy, "edge", token=TOKEN)
    assert used and used != busy
    assert _get(used, {"Authorization": f"Bearer {TOKEN}"})[0] == 200
