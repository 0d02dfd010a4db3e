"""The ``riskstream`` command: one entry point with subcommands that explain themselves."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from riskstream.alarms.roles import Role
from riskstream.config.schema import Config
from riskstream.logs import setup_logging

DEFAULT_STATE = Path(os.environ.get("RISKSTREAM_HOME", ".riskstream"))
DEFAULT_CONFIG = "config/demo.yaml"
CENTER_PASSWORD_ENV = "RS_CENTER_PASSWORD"
# `riskstream alerts` verbs -> rs.alert-actions action
ALERT_ACTIONS = {"ack": "acknowledge", "resolve": "resolve", "comment": "comment",
                 "claim": "claim", "shelve": "shelve", "unshelve": "unshelve",
                 "out-of-service": "out_of_service", "return-to-service": "return_to_service",
                 "suppress": "suppress", "unsuppress": "unsuppress"}

DESCRIPTION = """\
riskstream turns hazard-sensor readings (MQTT) and camera frames into events in Kafka,
correlates them per site in Faust workers, and keeps events and alerts in ClickHouse.

Typical session:
  riskstream services up            # start local Kafka + Mosquitto (logs under .riskstream/)
  eval "$(riskstream services env)" # point riskstream processes at them
  riskstream worker -c config/demo.yaml &
  riskstream edge -c config/demo.yaml
  riskstream demo                   # or: all of the above with simulated sensors, then stop
"""


def _add_config(p: argparse.ArgumentParser) -> None:
    p.add_argument("-c", "--config", default=DEFAULT_CONFIG,
                   help=f"deployment YAML (default: {DEFAULT_CONFIG})")


def _add_state(p: argparse.ArgumentParser) -> None:
    p.add_argument("--state-dir", type=Path, default=DEFAULT_STATE,
                   help="folder for service data, logs and pid records "
                        "(default: $RISKSTREAM_HOME or .riskstream)")


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _told(exc: Exception) -> int:
    """A ClickHouse or Kafka client's error, said in one line: exit 2 when the server refused
    (asking again gets the same answer), 1 when it did not answer. Anything else is a bug and
    keeps its traceback."""
    from clickhouse_connect.driver.exceptions import Error as ClickHouseDriverError
    from confluent_kafka import KafkaError, KafkaException

    if isinstance(exc, ClickHouseDriverError):
        from riskstream.storage.errors import describe, refused

        print(f"error: {describe(exc, password_env=CLICKHOUSE_PASSWORDS)}", file=sys.stderr)
        return 2 if refused(exc) else 1
    if isinstance(exc, KafkaException):
        err = exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None
        reason = err.str() if err is not None else str(exc)
        unanswered = {KafkaError._TRANSPORT, KafkaError._TIMED_OUT, KafkaError._ALL_BROKERS_DOWN,
                      KafkaError._MSG_TIMED_OUT}
        if err is None or err.code() in unanswered:
            print(f"error: Kafka did not answer ({reason}): is it running ('riskstream services "
                  "status'), and is RS_KAFKA_BOOTSTRAP its address?", file=sys.stderr)
            return 1
        print(f"error: Kafka refused: {reason}", file=sys.stderr)  # e.g. an ACL: not a retry's
        return 2
    raise exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="riskstream", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--log-level", default=os.environ.get("RS_LOG_LEVEL", "INFO").upper(),
                        type=str.upper, choices=LOG_LEVELS,
                        help="DEBUG, INFO, WARNING or ERROR (default INFO, or $RS_LOG_LEVEL)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    svc = sub.add_parser("services", help="start, check or stop the local Kafka and Mosquitto",
                         description="Manage the real local services on free loopback ports. "
                         "They run in the background until 'down'; their PIDs, ports, logs and "
                         "the generated MQTT password are recorded in STATE_DIR/services.json.")
    svc.add_argument("action", choices=["up", "down", "status", "env"],
                     help="up: start; down: stop by PID; status: report; "
                          "env: print export lines for the RS_* variables")
    _add_state(svc)

    edge = sub.add_parser("edge", help="run the edge agent (sensors and cameras -> events in Kafka)",
                          description="Subscribe to the configured sensor topics, validate each "
                          "reading and run its thresholds and detector chain; read each camera "
                          "(RTSP, MJPEG, file) with reconnects, analyse sampled frames (zone "
                          "motion, tamper, ONNX scene anomaly, person down) into incidents with "
                          "JPEG snapshots. Events (rs.events, keyed by site_id), 1 s / 1 min "
                          "reading summaries (rs.readings), device and camera heartbeats "
                          "(rs.health) and bad payloads with their reason (rs.dlq) go through a "
                          "durable outbox in STATE_DIR/edge: nothing is lost while Kafka is away "
                          "or across a crash. Stops on SIGTERM/Ctrl-C after flushing.")
    _add_config(edge)
    _add_state(edge)

    worker = sub.add_parser("worker", help="run a stream worker (correlation, ClickHouse)",
                            description="Run a Faust worker: correlate events per site into "
                            "alerts on rs.alerts, and/or store events, alerts and readings in "
                            "ClickHouse (tables are migrated at start). Several workers share "
                            "the partitions of their role.")
    worker.add_argument("--role", choices=["all", "correlate", "store"], default="all",
                        help="all (default): correlate and store in one process; correlate: "
                             "rs.events/actions/health -> rs.alerts; store: events, alerts and "
                             "readings -> ClickHouse")
    _add_config(worker)
    _add_state(worker)

    demo = sub.add_parser("demo", help="run the whole pipeline on simulated sensors, then stop",
                          description="Start the services, an edge agent and a worker, simulate "
                          "the demo plant's sensors (a gas leak, a reactor excursion, one "
                          "malformed payload), print events as they arrive and a ClickHouse "
                          "summary, then stop everything it started.")
    _add_config(demo)
    _add_state(demo)
    demo.add_argument("--duration", type=float, default=60.0,
                      help="seconds of simulated readings (default 60)")
    demo.add_argument("--rate", type=float, default=2.0,
                      help="readings per second per sensor (default 2)")

    cfg = sub.add_parser("config", help="validate a deployment YAML",
                         description="Validate a config file; errors name file, line and field.")
    cfg.add_argument("action", choices=["check"], help="check: validate and summarise")
    cfg.add_argument("path", nargs="?", help="YAML file to check (or -c FILE, as elsewhere)")
    _add_config(cfg)

    topics = sub.add_parser("topics", help="create riskstream's Kafka topics and their ACLs",
                            description="Create rs.events, rs.dlq, ... with the configured "
                            "partition count; existing topics are left alone. On a SASL cluster "
                            "(the local stack) also grant each principal (edge, worker, center) "
                            "the least it needs on them; runs as riskstream-admin.")
    topics.add_argument("action", choices=["create"])
    _add_config(topics)

    mqtt = sub.add_parser("mqtt", help="create the MQTT accounts and topic ACLs of a config",
                          description="accounts: on the local Mosquitto, give each site's "
                          "gateway an account (gw-SITE) that may publish only on that site's "
                          "sensor topics, and let the edge account read only the topics it "
                          "subscribes to; nobody else may publish, subscribe or read $SYS. "
                          "Passwords are generated once and kept in "
                          "STATE_DIR/mosquitto/accounts.json (mode 0600); the broker reloads "
                          "without a restart. Re-run after adding sensors or sites.")
    mqtt.add_argument("action", choices=["accounts"])
    _add_config(mqtt)
    _add_state(mqtt)

    al = sub.add_parser("alerts", help="follow the alert stream, or act on an alert",
                        description="tail: follow rs.alerts like the command center does. "
                        "Any other action: send it to rs.alert-actions and wait for the "
                        "correlator's answer (exit 0: applied, printing the new revision; 1: "
                        "refused, printing the reason, or no answer). resolve needs --comment "
                        "(the reason) and --action-taken; shelve needs --comment and --duration "
                        "and, like out-of-service and suppress, --role supervisor; "
                        "out-of-service/return-to-service take a device id, suppress/unsuppress "
                        "a risk point id, as --target instead of an ALERT_ID.")
    al.add_argument("action", choices=["tail", *ALERT_ACTIONS])
    al.add_argument("alert_id", nargs="?", help="alert to act on")
    al.add_argument("--site", help="the alert's (or target's) site_id")
    al.add_argument("--by", default=os.environ.get("USER", "operator"),
                    help="who acts (default: $USER)")
    al.add_argument("--comment", default="", help="free text recorded with the action "
                    "(the reason, for resolve, shelve, out-of-service and suppress)")
    al.add_argument("--role", default="", help="the actor's role: city_operator, "
                    "district_operator or supervisor (shelve, out-of-service, suppress)")
    al.add_argument("--action-taken", default="", help="resolve: what was done")
    al.add_argument("--duration", type=float, default=None, help="shelve: seconds")
    al.add_argument("--assignee", default="", help="claim: who takes it on (default: --by)")
    al.add_argument("--target", default="", help="out-of-service/return-to-service: device id; "
                    "suppress/unsuppress: risk point id")
    al.add_argument("--wait", type=float, default=30.0,
                    help="ack/resolve/comment: seconds to wait for the correlator's answer "
                         "(default 30); exit 1 when it refuses or does not answer")
    al.add_argument("--district", help="tail: only this district")
    al.add_argument("--min-severity", choices=["info", "warning", "major", "critical"],
                    default="info", help="tail: only alerts at least this severe")
    al.add_argument("--from-beginning", action="store_true", help="tail: replay the whole topic")
    al.add_argument("--format", choices=["text", "jsonl"], default="text", help="tail output")
    al.add_argument("--idle-exit", type=float, default=None,
                    help="tail: exit after this many seconds without a record")
    _add_config(al)

    from riskstream.storage.queries import QUERIES

    cc = sub.add_parser(
        "center", help="the command-center console: serve it, manage its users and tokens",
        description="serve: the web console (board, alert pages, KPIs, JSON API, live "
        "stream) on center.host:center.port; it needs the services (ClickHouse over HTTP). "
        "create-admin: the first admin (only while none exists). add-user: a user with a "
        "role (city_operator, district_operator with --district, supervisor, viewer, admin). "
        "disable-user: end a user's sessions and tokens. users: list them. token: a bearer "
        f"token for the JSON API. Passwords are read from ${CENTER_PASSWORD_ENV} or asked "
        "for, never taken from the command line.")
    cc.add_argument("action", choices=["serve", "create-admin", "add-user", "disable-user",
                                       "users", "token"])
    cc.add_argument("--username", help="the user to create, disable or make a token for")
    cc.add_argument("--role", choices=[r.value for r in Role], help="add-user: the role")
    cc.add_argument("--district", default="", help="add-user: a district operator's district")
    cc.add_argument("--label", default="api", help="token: what the token is for")
    cc.add_argument("--port", type=int, default=None, help="serve: port (default center.port)")
    _add_config(cc)
    _add_state(cc)

    q = sub.add_parser("query", help="run one of the analysts' example queries",
                       description="Run a named, documented query as the read-only analyst "
                       "user. Queries:\n" + "\n".join(f"  {x.name}: {x.question} "
                                                       f"(defaults: {x.defaults})" for x in QUERIES),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    q.add_argument("name", choices=[x.name for x in QUERIES])
    q.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                   help="query parameter, e.g. -p hours=48 or -p alert_id=AL...")
    _add_config(q)

    ch = sub.add_parser("clickhouse", help="serve the embedded ClickHouse engine over HTTP",
                        description="Own the embedded engine's data folder and serve the "
                        "ClickHouse HTTP interface on 127.0.0.1: user 'riskstream' (writer, "
                        "password from RS_CLICKHOUSE_PASSWORD) and 'analyst' (read-only, "
                        "RS_CLICKHOUSE_READER_PASSWORD). 'riskstream services up' starts it.")
    ch.add_argument("action", choices=["serve"])
    ch.add_argument("--data", type=Path, required=True, help="engine data folder")
    ch.add_argument("--port", type=int, default=8123, help="port (default 8123)")
    ch.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")

    sql = sub.add_parser("sql", help="run a SQL query against ClickHouse and print a table",
                         description="Query the configured ClickHouse (RS_CLICKHOUSE_DSN wins), "
                         "e.g. the one 'riskstream services up' serves. A chdb:// folder can "
                         "only be opened while no other process holds it.")
    sql.add_argument("query", help="SQL text, e.g. \"SELECT kind, count() FROM riskstream.events "
                                   "GROUP BY kind\"")
    sql.add_argument("--format", choices=["table", "jsonl"], default="table",
                     help="table (default) or one JSON object per row")
    sql.add_argument("--analyst", action="store_true",
                     help="connect as the read-only user 'analyst' (password from "
                          "RS_CLICKHOUSE_READER_PASSWORD)")
    _add_config(sql)

    cam = sub.add_parser("camera", help="check that a camera URL can be read, and how fast",
                         description="Open a camera URL (rtsp://, http(s):// MJPEG, or a file) the way "
                         "the edge agent does, read frames for a few seconds and print the resolution "
                         "and frame rate, or what went wrong. Exit 0 when frames arrived.")
    cam.add_argument("action", choices=["probe"])
    cam.add_argument("url", help="camera URL; a password may come from --password-env")
    cam.add_argument("--seconds", type=float, default=5.0, help="how long to read (default 5)")
    cam.add_argument("--password-env", default=None, help="env variable holding the stream password")

    models = sub.add_parser("models", help="train or list the ONNX detector artifacts",
                            description="Train a shipped detector from normal data only, writing "
                            "MODELS/<name>/<version>/model.onnx + card.json, or list the artifacts "
                            "with their cards. Recipes run on a 2-core CPU in seconds.")
    models.add_argument("action", choices=["train", "list"])
    models.add_argument("name", nargs="?", help="recipe: sensor-skab, sensor-tep, scene-ped2, scene "
                        "(a scene-anomaly model for one camera from --clip files of its normal "
                        "footage), or asset (a window model for --asset from its normal history "
                        "in ClickHouse, --since .. --until)")
    _add_config(models)
    models.add_argument("--asset", default=None, help="asset recipe: the asset's id in the config")
    models.add_argument("--since", type=_iso_time, default=None,
                        help="asset recipe: start of the normal period (ISO 8601, UTC if no zone)")
    models.add_argument("--until", type=_iso_time, default=None,
                        help="asset recipe: end of the normal period (ISO 8601, UTC if no zone)")
    models.add_argument("--version", default="1", help="asset recipe: artifact version (default 1)")
    models.add_argument("--clip", type=Path, action="append", default=[],
                        help="scene recipe: a video file or JPEG folder of normal footage (repeatable)")
    models.add_argument("--model-name", default=None, help="scene recipe: artifact name, e.g. scene-cam-gate")
    models.add_argument("--fps", type=float, default=5.0,
                        help="scene recipe: the camera's analysis fps (default 5)")
    models.add_argument("--data", type=Path, default=None,
                        help="evaluation data root (default: $RISKSTREAM_DATA or ../shared/data)")
    models.add_argument("--models", type=Path, default=Path("models"), help="artifact root (default models/)")

    ev = sub.add_parser("eval", help="measure detection quality on labelled data (NAB, SKAB, TEP, ...)",
                        description="Run riskstream's detectors next to a baseline on real labelled "
                        "data; write RESULTS/quality.json, RESULTS/quality.md and PNG plots under "
                        "RESULTS/quality/. Thresholds come from normal data, never from the labels.")
    ev.add_argument("dataset", choices=["nab", "skab", "tep", "ped2", "urfd", "tamper", "generated",
                                        "all"],
                    help="tamper: camera tampers applied to the Ped2 clips; generated: univariate "
                         "series made here, clean and with injected anomalies")
    ev.add_argument("--data", type=Path, default=None,
                    help="evaluation data root (default: $RISKSTREAM_DATA or ../shared/data)")
    ev.add_argument("--results", type=Path, default=Path("benchmarks/results"),
                    help="results folder (default benchmarks/results)")
    ev.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    return parser


def _iso_time(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r} (e.g. 2026-12-01T08:00)") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _train_asset(args: argparse.Namespace) -> int:
    from riskstream.config import load
    from riskstream.models.window_model import train_window_model
    from riskstream.storage import asset_history
    from riskstream.storage.clickhouse import connect

    cfg = load(args.config)
    asset = next((a for a in cfg.assets if a.id == args.asset), None)
    if asset is None:
        known = ", ".join(a.id for a in cfg.assets) or "none"
        print(f"error: --asset names one of the config's assets (known: {known})", file=sys.stderr)
        return 2
    if args.since is None or args.until is None or args.since >= args.until:
        print("error: the asset recipe needs --since and --until, since before until", file=sys.stderr)
        return 2
    client = connect(cfg.clickhouse, analyst=True)  # reading is all it needs
    history = asset_history.load(client, cfg.clickhouse.database, asset, args.since, args.until)
    print(f"{asset.id}: {len(history.rows)} complete rows of {history.buckets} buckets "
          f"({history.incomplete} left out: a channel had no reading)")
    name, _, _ = asset.detector.model.partition("@")
    card = train_window_model(
        history.rows, list(asset.sensors), args.models / name / args.version, name=name,
        version=args.version, min_consecutive=asset.detector.threshold.min_consecutive,
        training={"data": f"asset {asset.id} of site {asset.site}: ClickHouse readings "
                          f"{args.since.isoformat()} .. {args.until.isoformat()} "
                          f"(cadence {asset.cadence_s:g} s)",
                  "command": "riskstream models train asset --asset ID --since T --until T"})
    print(f"wrote {args.models / name / args.version} ({card.model_ref}); the asset's detector "
          f"uses it as {{type: window_model, model: {card.model_ref}}}")
    return 0


def _camera(args: argparse.Namespace) -> int:
    from riskstream.config.schema import env_secret
    from riskstream.edge.camera.capture import with_password
    from riskstream.edge.camera.probe import probe

    r = probe(with_password(args.url, env_secret(args.password_env)), args.seconds)
    if not r.opened:
        print(f"FAILED {r.url}: {r.error}")
        return 1
    print(f"{r.url}: opened in {r.open_s:.1f} s; {r.frames} frames of {r.width}x{r.height} in "
          f"{r.seconds:.1f} s = {r.measured_fps:.1f} fps (stream says {r.stream_fps:g})"
          + (f"; {r.error}" if r.error else ""))
    return 0 if r.frames else 1


def _models(args: argparse.Namespace) -> int:
    from riskstream.models.card import CardError, load_card
    from riskstream.training.recipes import RECIPES, train

    if args.action == "list":
        for directory in sorted(p.parent for p in args.models.glob("*/*/card.json")):
            try:
                card = load_card(directory)
                print(f"{card.model_ref:24} {card.task}  [{directory}]")
            except CardError as exc:
                print(f"{directory}: INVALID: {exc}")
        return 0
    if args.name == "scene":
        from riskstream.training.recipes import scene_from_clips

        if not args.model_name:
            print("error: the scene recipe needs --model-name (e.g. scene-cam-gate)", file=sys.stderr)
            return 2
        card = scene_from_clips(args.clip, args.model_name, args.fps, args.models)
        print(f"wrote {args.models / card.name / card.version} ({card.model_ref}); use it with "
              f"{{type: scene_model, model: {card.model_ref}}} in the camera's detectors")
        return 0
    if args.name == "asset":
        return _train_asset(args)
    if args.name not in RECIPES:
        print(f"error: name one recipe to train: {', '.join(sorted([*RECIPES, 'scene', 'asset']))}",
              file=sys.stderr)
        return 2
    card = train(args.name, args.data, args.models)
    print(f"wrote {args.models / card.name / card.version} ({card.model_ref}: {card.task})")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from riskstream.evaluation.report import markdown
    from riskstream.evaluation.run import DATASETS, run

    names = list(DATASETS) if args.dataset == "all" else [args.dataset]
    merged = run(names, args.data, args.results, make_plots=not args.no_plots)
    print(markdown({k: v for k, v in merged.items() if k in names}))
    print(f"results: {args.results / 'quality.json'}, {args.results / 'quality.md'}")
    return 0


def _services(args: argparse.Namespace) -> int:
    from riskstream.services import LocalServices

    services = LocalServices(args.state_dir)
    if args.action == "up":
        info = services.up()
        print(f"kafka      {info.kafka_bootstrap}  (pid {info.kafka_pid}, log {info.kafka_log})")
        print(f"mosquitto  127.0.0.1:{info.mqtt_port}  (pid {info.mqtt_pid}, log {info.mqtt_log})")
        print(f"clickhouse {info.clickhouse_dsn}  (pid {info.clickhouse_pid}, "
              f"log {info.clickhouse_log}; read-only user 'analyst')")
        print(f'next: eval "$(riskstream services env --state-dir {args.state_dir})"')
    elif args.action == "down":
        stopped = services.down()
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    elif args.action == "status":
        status = services.status()
        print(json.dumps(status, indent=2))
        return 0 if status["running"] else 1
    else:
        current = services.load()
        if current is None:
            print("services are not running: riskstream services up", file=sys.stderr)
            return 1
        for key, value in current.env().items():
            print(f"export {key}={value}")
    return 0


def _alerts(args: argparse.Namespace, cfg: Config) -> int:
    from riskstream.command_center import (
        AlertFilter,
        act,
        alert_json,
        follow_alerts,
        format_alert,
        make_action,
    )
    from riskstream.events import ActionKind, EventError, Severity
    from riskstream.kafka_preflight import require_accepted

    if args.action == "tail":
        flt = AlertFilter(args.district, Severity(args.min_severity))
        require_accepted(cfg.kafka, "center")  # a refused login: one line, not a silent tail
        try:
            for alert in follow_alerts(cfg.kafka, flt, from_beginning=args.from_beginning,
                                       idle_timeout=args.idle_exit):
                print(alert_json(alert) if args.format == "jsonl" else format_alert(alert),
                      flush=True)
        except KeyboardInterrupt:
            pass
        return 0
    kind = ALERT_ACTIONS[args.action]
    on_target = ActionKind(kind).on_target
    if not args.site or (args.alert_id is None if not on_target else not args.target):
        needs = "--target and --site" if on_target else "ALERT_ID and --site"
        print(f"error: {args.action} needs {needs}", file=sys.stderr)
        return 2
    sites = [s.id for s in cfg.sites]
    if args.site not in sites:  # the correlator would only dead-letter it
        print(f"error: --site {args.site!r} is not in {args.config} (its sites: "
              f"{', '.join(sites)})", file=sys.stderr)
        return 2
    try:
        action = make_action(kind, args.alert_id or "", args.site, args.by, args.comment,
                             role=args.role, action_taken=args.action_taken,
                             duration_s=args.duration, assignee=args.assignee, target=args.target)
    except EventError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    require_accepted(cfg.kafka, "center")
    outcome = act(cfg.kafka, action, timeout=args.wait)
    if outcome.applied is not None:
        alert = outcome.applied
        print(f"{kind} applied: {alert.alert_id} revision {alert.revision}, now "
              f"{alert.status.value} (action {action.action_id})")
        return 0
    if outcome.refused is not None:
        print(f"error: {kind} of {args.alert_id or args.target} refused: {outcome.refused}",
              file=sys.stderr)
        return 1
    print(f"error: no answer to {kind} of {args.alert_id or args.target} within {args.wait:g} s (action "
          f"{action.action_id} was sent; is a correlate worker running?)", file=sys.stderr)
    return 1


def _center(args: argparse.Namespace, cfg: Config) -> int:
    from riskstream.center.accounts import AccountError
    from riskstream.center.server import ConsoleError, accounts_for, serve

    state = args.state_dir.resolve()
    try:
        if args.action == "serve":
            with contextlib.suppress(KeyboardInterrupt):
                serve(cfg, state, args.port)
            return 0
        accounts = accounts_for(cfg, state)
        if args.action == "users":
            for user, disabled in accounts.users():
                print(f"{user.name:<20} {user.role.value:<18} {user.district or '-':<12}"
                      f"{' disabled' if disabled else ''}")
            return 0
        if not args.username:
            print(f"error: center {args.action} needs --username", file=sys.stderr)
            return 2
        if args.action == "disable-user":
            accounts.disable(args.username)
            print(f"disabled {args.username}: sessions and tokens revoked")
        elif args.action == "token":
            print(accounts.new_token(args.username, args.label))
        else:
            if args.action == "create-admin" and accounts.has_admin():
                print("error: an admin exists; admins add users with center add-user",
                      file=sys.stderr)
                return 2
            role = Role.ADMIN if args.action == "create-admin" else args.role
            if role is None:
                print("error: add-user needs --role", file=sys.stderr)
                return 2
            user = accounts.add_user(args.username, _new_password(), role, args.district)
            print(f"created {user.name} ({user.role.value}"
                  f"{', ' + user.district if user.district else ''})")
    except (AccountError, ConsoleError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _new_password() -> str:
    import getpass

    from riskstream.center.accounts import AccountError

    given = os.environ.get(CENTER_PASSWORD_ENV)
    if given:
        return given
    if not sys.stdin.isatty():
        raise AccountError(f"set {CENTER_PASSWORD_ENV} (no terminal to ask for a password)")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise AccountError("the passwords differ")
    return first


def _query(args: argparse.Namespace) -> int:
    from riskstream.config import load
    from riskstream.storage.clickhouse import connect
    from riskstream.storage.queries import BY_NAME, QueryParamError, run
    from riskstream.tables import format_table

    cfg = load(args.config)
    params: dict[str, str] = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep:
            print(f"error: parameter {item!r} is not KEY=VALUE", file=sys.stderr)
            return 2
        params[key] = value
    try:
        BY_NAME[args.name].bind(params)  # before connecting: a typo is not a server error
    except QueryParamError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    columns, rows = run(connect(cfg.clickhouse, analyst=True), args.name,
                        cfg.clickhouse.database, **params)
    print(format_table(columns, rows))
    return 0


def _require_secrets(cfg: Any, role: Literal["edge", "worker"]) -> None:
    """Stop once, before anything starts, when a secret ``role`` needs is missing: metrics are
    never served open, and the worker's supervisor would start a child that stopped on it
    again and again."""
    from riskstream.kafka_settings import credentials
    from riskstream.metrics_http import metrics_token

    if (cfg.edge if role == "edge" else cfg.worker).metrics_port:
        metrics_token()
    credentials(cfg.kafka, role)


def _discover_services(args: argparse.Namespace) -> None:
    """Without RS_* settings in the environment, use the local stack recorded in the state
    folder (``--state-dir``, ``$RISKSTREAM_HOME`` or ``.riskstream``) when it runs: forgetting
    ``eval "$(riskstream services env)"`` once made ``sql`` and ``worker`` open an empty
    embedded database and the edge retry a broker that was not there."""
    if any(name in os.environ for name in ("RS_KAFKA_BOOTSTRAP", "RS_CLICKHOUSE_DSN")):
        return
    from riskstream.services import LocalServices

    stack = LocalServices(getattr(args, "state_dir", DEFAULT_STATE))
    info = stack.load()
    if info is None or not stack.status()["running"]:
        return
    os.environ.update(info.env())
    logging.getLogger("riskstream").info("using the local services recorded in %s",
                                         stack.state_file)


def _mqtt_accounts(args: argparse.Namespace, cfg: Any) -> int:
    from riskstream.services import LocalServices

    services = LocalServices(args.state_dir)
    accounts = services.grant_mqtt(cfg)
    for user, account in sorted(accounts.items()):
        print(f"{user:<28} reads {len(account.read):>3} topics, writes {len(account.write):>3}")
    print(f"passwords: {services.state_dir / 'mosquitto' / 'accounts.json'} (mode 0600)")
    return 0


def _config_check(path: str) -> int:
    from riskstream.config import load

    cfg = load(path)
    print(f"{path}: ok — {len(cfg.sites)} sites, {len(cfg.sensors)} sensors, "
          f"{len(cfg.cameras)} cameras")
    return 0


def _sql(args: argparse.Namespace) -> int:
    from riskstream.config import load
    from riskstream.storage.clickhouse import connect
    from riskstream.tables import format_table

    result = connect(load(args.config).clickhouse, analyst=args.analyst).query(args.query)
    columns = list(result.column_names)
    if args.format == "jsonl":
        for row in result.result_rows:
            print(json.dumps(dict(zip(columns, row, strict=True)), default=str))
    else:
        print(format_table(columns, result.result_rows))
    return 0


CLICKHOUSE_PASSWORDS = "RS_CLICKHOUSE_PASSWORD (writer) or RS_CLICKHOUSE_READER_PASSWORD (analyst)"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.log_level)
    from riskstream.config import ConfigError
    from riskstream.evaluation.datapath import DataMissing, DataUnreadable
    from riskstream.kafka_settings import KafkaCredentialsError
    from riskstream.metrics_http import MetricsTokenMissing
    from riskstream.models.card import CardError
    from riskstream.services import ServiceError

    try:
        if args.command == "services":
            return _services(args)
        if args.command == "config":
            return _config_check(args.path or args.config)
        if args.command == "sql":
            _discover_services(args)
            return _sql(args)
        if args.command == "query":
            _discover_services(args)
            return _query(args)
        if args.command == "models":
            return _models(args)
        if args.command == "camera":
            return _camera(args)
        if args.command == "eval":
            return _eval(args)
        if args.command == "clickhouse":
            from riskstream.storage.http_server import serve

            serve(args.data.resolve(), args.host, args.port)
            return 0
        from riskstream.config import load

        _discover_services(args)
        cfg = load(args.config)
        if args.command == "alerts":
            return _alerts(args, cfg)
        if args.command == "center":
            return _center(args, cfg)
        if args.command == "edge":
            from riskstream.edge.agent import run_edge

            _require_secrets(cfg, "edge")
            run_edge(cfg, args.state_dir.resolve() / "edge")
        elif args.command == "worker":
            from riskstream.streams.worker import SUPERVISED_ENV, run_worker, supervise

            _require_secrets(cfg, "worker")
            if os.environ.get(SUPERVISED_ENV) or not cfg.worker.stall_timeout_s:
                run_worker(cfg, args.state_dir.resolve(), args.role, args.log_level)
            else:
                return supervise(sys.argv[1:] if argv is None else argv)
        elif args.command == "mqtt":
            return _mqtt_accounts(args, cfg)
        elif args.command == "topics":
            from riskstream.topics import ensure_topics

            created = ensure_topics(cfg)
            print("created: " + (", ".join(created) if created else "none (all exist)"))
        elif args.command == "demo":
            from riskstream.demo.runner import run_demo

            return run_demo(args.config, args.state_dir, args.duration, args.rate)
    except (ConfigError, ServiceError, DataMissing, DataUnreadable, CardError, KeyError,
            KafkaCredentialsError, MetricsTokenMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a client library's: one line, not its traceback
        return _told(exc)
    return 0
