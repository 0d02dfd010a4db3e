"""Read a riskstream process's Prometheus endpoint (used by the demo and the tests)."""

from __future__ import annotations

import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


class ScrapeRefused(PermissionError):
    """The endpoint answered 401: the token sent is not the process's ``RS_METRICS_TOKEN``."""


def scrape(port: int, token: str, host: str = "127.0.0.1",
           timeout: float = 2.0) -> dict[str, float] | None:
    """Samples as ``{'name{label="v"}': value}`` (plain ``name`` without labels); None if down.

    ``token``: the bearer token the process was started with. A refusal raises
    :class:`ScrapeRefused` rather than look like a process that is down.
    """
    request = urllib.request.Request(f"http://{host}:{port}/metrics",
                                     headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            text = resp.read().decode()
    except urllib.error.HTTPError as exc:
        if exc.code == 401:
            raise ScrapeRefused(f"metrics on port {port} refused the token sent") from None
        return None
    except (urllib.error.URLError, OSError):
        return None
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            samples[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
    return samples


def total(samples: dict[str, float] | None, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels`` (0 when absent)."""
    if not samples:
        return 0.0
    wanted = [f'{k}="{v}"' for k, v in labels.items()]
    return sum(v for k, v in samples.items()
               if (k == name or k.startswith(name + "{")) and all(w in k for w in wanted))
