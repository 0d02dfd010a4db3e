"""Command-center console under load: open alerts, a steady stream of updates, many browsers.

``python -m benchmarks.center [--alerts 1000] [--rate 50] [--browsers 20] [--seconds 600]``

On the real stack (Kafka, ClickHouse; ``riskstream center serve`` as a subprocess) with
headless Chromium (Debian's package): the alerts are produced to ``rs.alerts`` as the
correlator would, then updates (next revisions) at ``--rate`` per second. Each browser is its
own context, logged in, showing the board. Measured, side by side in one run:

* time from producing a revision to the row showing it in each page (a MutationObserver on
  the board, same machine clock), p50 / p99 / max. The board draws only the rows in view, so
  this covers the alerts on screen; for every revision, the time until the page's board held
  it (a probe the board calls with each change it takes; a scroll then draws it), and
  revisions that never reached a page;
* the same for a plain Kafka consumer of ``rs.alerts`` (the floor the console cannot beat);
* the console server's CPU (``/proc``: user + system seconds per wall second), and Chromium's
  by process type (renderers: the pages; gpu-process: compositing);
* each page's JS heap at the start and the end (the observer's own map of what it saw is in
  it: a few MB at the end of a 10-minute run), each page's renderer process's resident memory
  (RSS, shared pages counted in each) at the start and the end, and its event-loop lag (a
  100 ms timer's lateness: how responsive the page stays).

Everything runs on this machine: the server, Kafka, ClickHouse and every browser share its
cores, so the pages' own rendering competes with the server it measures.

Results: ``benchmarks/results/center.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import local_services, report, save, wait_until, write_config

PASSWORD = "bench-password-2026"
CONFIG = """\
sites:
{sites}
kafka:
  partitions: 4
  topics: {{events: cb-{u}.events, dlq: cb-{u}.dlq, readings: cb-{u}.readings,
           health: cb-{u}.health, alerts: cb-{u}.alerts, alert_actions: cb-{u}.actions,
           evidence: cb-{u}.evidence}}
clickhouse: {{database: cb_{u}}}
center: {{resolved_kept: 100}}
"""
OBSERVER = """() => {
  window.__seen = new Map(); window.__lag = []; window.__took = new Map();
  window.__boardTook = (changes) => { const now = Date.now();
    for (const a of changes) { const k = a.alert_id + ':' + a.revision;
      if (!window.__took.has(k)) window.__took.set(k, now); } };
  const rows = document.getElementById('rows');
  const look = () => { const now = Date.now();
    for (const tr of rows.children) { const k = tr.dataset.alert + ':' + tr.dataset.revision;
      if (!window.__seen.has(k)) window.__seen.set(k, now); } };
  new MutationObserver(look).observe(rows, {childList: true}); look();
  let last = performance.now();
  setInterval(() => { const now = performance.now(); window.__lag.push(now - last - 100); last = now; }, 100);
}"""


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def shown_after(sent: dict[str, float], seen: dict[str, float]) -> list[float]:
    """For each revision sent, how long until the page showed it or a newer one of the same
    alert (the board sends an alert's latest revision: two updates of one alert within a
    100 ms tick show as the second); revisions never reached are left out."""
    shown: dict[str, list[tuple[int, float]]] = {}
    for key, t in seen.items():
        aid, _, rev = key.rpartition(":")
        shown.setdefault(aid, []).append((int(rev), t))
    out = []
    for key, t in sent.items():
        aid, _, rev = key.rpartition(":")
        later = [when for r, when in shown.get(aid, []) if r >= int(rev) and when >= t - 50]
        if later:
            out.append(min(later) - t)
    return out


def chromium_pids() -> dict[int, str]:
    """Every Chromium process started by this process, with its type (renderer, gpu-process,
    utility, or browser for the main one)."""
    mine, out = os.getpid(), {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes()
            if b"chrom" not in cmd.split(b"\0")[0]:
                continue
            pid = int(proc.name)
            while pid > 1 and pid != mine:
                pid = int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if pid == mine:
                kind = re.search(rb"--type=([a-z-]+)", cmd)
                out[int(proc.name)] = kind.group(1).decode() if kind else "browser"
        except (OSError, ValueError):
            continue
    return out


def cpu_by_kind(pids: dict[int, str]) -> dict[str, float]:
    total: dict[str, float] = {}
    for pid, kind in pids.items():
        try:
            total[kind] = total.get(kind, 0.0) + proc_cpu_seconds(pid)
        except (OSError, ValueError):
            continue
    return total


WORK = ("TaskDuration", "ScriptDuration", "RecalcStyleDuration", "LayoutDuration")


def page_work(cdp: Any) -> dict[str, float]:
    """Seconds of main-thread work of one page so far, by kind (Chrome DevTools Protocol)."""
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {k: float(metrics.get(k, 0.0)) for k in WORK}


def renderer_rss_mb() -> list[float]:
    """Resident memory of each Chromium renderer started by this process (the pages; not the
    browser's own UI renderers)."""
    mine, out = os.getpid(), []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes()
            if b"--type=renderer" not in cmd or b"top-chrome-webui" in cmd:
                continue
            pid = int(proc.name)
            while pid > 1 and pid != mine:
                pid = int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if pid == mine:
                rss = next(line for line in (proc / "status").read_text().splitlines()
                           if line.startswith("VmRSS:"))
                out.append(int(rss.split()[1]) / 1024)
        except (OSError, ValueError, StopIteration):
            continue
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--alerts", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=50.0, help="updates per second")
    ap.add_argument("--browsers", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=600.0, help="how long the updates run")
    ap.add_argument("--results", default="center", help="results file name (benchmarks/results/NAME.json)")
    args = ap.parse_args()
    with local_services() as (info, scratch):
        figures = run(info, scratch, args)
    out = save(args.results, figures)
    report("Command-center console", [(k, str(v)) for k, v in figures.items() if not isinstance(v, dict)])
    print(f"results: {out}")


def run(info: Any, scratch: Path, args: argparse.Namespace) -> dict[str, Any]:
    from confluent_kafka import Consumer, Producer
    from playwright.sync_api import sync_playwright

    from riskstream.center.accounts import Accounts
    from riskstream.events import Alert, Severity
    from riskstream.kafka_settings import librdkafka_config
    from riskstream.launch import start_center
    from riskstream.topics import ensure_topics

    u = os.urandom(3).hex()
    sites = "\n".join(f"  - {{id: site-{i}, name: Site {i}, district: d{i % 3}, kind: chemical_plant}}"
                      for i in range(10))
    path, cfg = write_config(scratch, CONFIG.format(sites=sites, u=u), info)
    ensure_topics(cfg)
    accounts = Accounts(scratch / "center" / "center.db")
    accounts.add_user("admin", PASSWORD, "admin")
    for i in range(args.browsers):
        accounts.add_user(f"op{i}", PASSWORD, "city_operator")
    (scratch / "logs").mkdir(exist_ok=True)
    center, url = start_center(path, scratch, info.env(), scratch / "logs")
    producer = Producer({**librdkafka_config(cfg.kafka, "worker"), "linger.ms": 5})
    now = datetime.now(UTC)
    alerts = [Alert(alert_id=f"ALB{i:06d}", rule="bench", site_id=f"site-{i % 10}",
                    district=f"d{i % 3}", severity=random.choice(list(Severity)), first_ts=now,
                    last_ts=now, event_ids=(f"e{i}",), explanation=f"benchmark alert {i}",
                    attrs={"key": f"k{i}"}) for i in range(args.alerts)]
    for a in alerts:
        producer.produce(cfg.kafka.topics.alerts, key=a.site_id.encode(), value=a.to_json())
    producer.flush(30)
    token = accounts.new_token("op0", "bench")

    def board_size() -> bool:
        import urllib.request
        req = urllib.request.Request(f"{url}/api/alerts", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=10) as reply:
            return len(json.load(reply)["alerts"]) >= args.alerts

    assert wait_until(board_size, 120, 0.5), "the console never held every alert"
    floor: dict[str, float] = {}
    stop = threading.Event()

    def raw_consumer() -> None:  # the same records, received by a plain Kafka consumer
        c = Consumer({**librdkafka_config(cfg.kafka, "center"), "group.id": f"riskstream-center-bench-{u}",
                      "auto.offset.reset": "latest", "enable.auto.commit": False})
        c.subscribe([cfg.kafka.topics.alerts])
        while not stop.is_set():
            msg = c.poll(0.05)
            if msg is not None and not msg.error():
                a = json.loads(msg.value())
                floor.setdefault(f"{a['alert_id']}:{a['revision']}", time.time() * 1000)
        c.close()

    consumer = threading.Thread(target=raw_consumer, daemon=True)
    consumer.start()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--enable-precise-memory-info"])
        pages, sessions = [], []
        for i in range(args.browsers):
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"{url}/login")
            page.fill("#username", f"op{i}")
            page.fill("#password", PASSWORD)
            page.click("#submit")
            page.wait_for_url(f"{url}/")
            full = f"() => document.getElementById('count-total')?.textContent === '{args.alerts}'"
            page.wait_for_function(full, timeout=120_000)
            page.evaluate(OBSERVER)
            cdp = context.new_cdp_session(page)
            cdp.send("Performance.enable")
            pages.append(page)
            sessions.append(cdp)
        heap_start = [page.evaluate("() => performance.memory.usedJSHeapSize") for page in pages]
        rss_start = renderer_rss_mb()
        time.sleep(3)  # the raw consumer is assigned before the first update
        sent: dict[str, float] = {}
        revision = {a.alert_id: 1 for a in alerts}
        by_id = {a.alert_id: a for a in alerts}
        browser_pids = chromium_pids()
        cpu0, wall0 = proc_cpu_seconds(center.pid), time.monotonic()
        browser_cpu0 = cpu_by_kind(browser_pids)
        work0 = [page_work(cdp) for cdp in sessions]
        interval, next_at, n = 1.0 / args.rate, time.monotonic(), 0
        while time.monotonic() - wall0 < args.seconds:
            aid = random.choice(alerts).alert_id
            revision[aid] += 1
            a = replace(by_id[aid], revision=revision[aid], updated_at=datetime.now(UTC))
            sent[f"{aid}:{a.revision}"] = time.time() * 1000
            producer.produce(cfg.kafka.topics.alerts, key=a.site_id.encode(), value=a.to_json())
            producer.poll(0)
            n += 1
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))
        producer.flush(30)
        time.sleep(5)
        wall = time.monotonic() - wall0
        cpu = (proc_cpu_seconds(center.pid) - cpu0) / wall
        browser_cpu = {k: round((v - browser_cpu0.get(k, 0.0)) / wall, 3)
                       for k, v in cpu_by_kind(browser_pids).items()}
        rss_end = renderer_rss_mb()
        work = {k: round(sum(page_work(cdp)[k] - w0[k] for cdp, w0 in zip(sessions, work0, strict=True))
                         / len(sessions) / wall * 1000, 1) for k in WORK}
        stop.set()
        latencies, lags, heap_end, redraws = [], [], [], []
        board_lat, board_missed = [], 0
        for page in pages:
            seen = dict(page.evaluate("() => [...window.__seen.entries()]"))
            took = dict(page.evaluate("() => [...window.__took.entries()]"))
            board_lat += shown_after(sent, took)
            board_missed += len(sent) - len(shown_after(sent, took))
            lags += page.evaluate("() => window.__lag")
            redraws += page.evaluate("() => window.__renderMs || []")
            heap_end.append(page.evaluate("() => performance.memory.usedJSHeapSize"))
            latencies += shown_after(sent, seen)
        browser.close()
    center.stop()
    floor_lat = [floor[k] - t for k, t in sent.items() if k in floor]
    if not latencies or min(latencies + board_lat) < -50 or min(floor_lat, default=0) < -50:
        raise SystemExit("impossible latencies (clock?): not saving")
    figures = {
        "alerts": args.alerts, "updates_per_s": args.rate, "browsers": args.browsers,
        "seconds": args.seconds, "updates_sent": len(sent),
        # Drawn: a row in view showed the revision (or a newer one of that alert); the board
        # draws the rows in view only, so these are the revisions of alerts that were on screen.
        "page_latency_ms": {"p50": round(percentile(latencies, 0.5), 1),
                            "p99": round(percentile(latencies, 0.99), 1),
                            "max": round(max(latencies), 1), "revisions_drawn": len(latencies)},
        # On the board: every revision, until the page's board held it (scrolling shows it).
        "board_latency_ms": {"p50": round(percentile(board_lat, 0.5), 1),
                             "p99": round(percentile(board_lat, 0.99), 1),
                             "max": round(max(board_lat), 1) if board_lat else None},
        "revisions_never_shown": board_missed,  # never reached the board, not even by a newer revision
        "revisions_expected": len(sent) * args.browsers,
        "kafka_consumer_latency_ms": {"p50": round(percentile(floor_lat, 0.5), 1),
                                      "p99": round(percentile(floor_lat, 0.99), 1)},
        "server_cpu_cores": round(cpu, 3),
        "browser_cpu_cores": browser_cpu,  # Chromium's processes by type, all pages together
        # Each page's main-thread work (Chrome's Performance metrics), ms per second, mean of pages
        "page_work_ms_per_s": work,
        "page_heap_mb": {"start_mean": round(sum(heap_start) / len(heap_start) / 2**20, 1),
                         "end_mean": round(sum(heap_end) / len(heap_end) / 2**20, 1),
                         "end_max": round(max(heap_end) / 2**20, 1)},
        "renderer_rss_mb": {"start_mean": round(sum(rss_start) / max(1, len(rss_start)), 1),
                            "end_mean": round(sum(rss_end) / max(1, len(rss_end)), 1),
                            "end_max": round(max(rss_end, default=0.0), 1),
                            "renderers": len(rss_end)},
        "page_redraw_ms": {"p50": round(percentile(redraws, 0.5), 1),
                           "p99": round(percentile(redraws, 0.99), 1), "redraws": len(redraws)},
        "page_event_loop_lag_ms": {"p50": round(percentile(lags, 0.5), 1),
                                   "p99": round(percentile(lags, 0.99), 1),
                                   "max": round(max(lags), 1) if lags else None},
        "goal": "p99 < 1000 ms from rs.alerts to the page",
        "setup": f"one machine, {os.cpu_count()} cores shared by the console server, Kafka, "
                 "ClickHouse and every browser",
    }
    figures["p99_under_1s"] = (figures["page_latency_ms"]["p99"] < 1000
                               and figures["board_latency_ms"]["p99"] < 1000)
    return figures


if __name__ == "__main__":
    main()
