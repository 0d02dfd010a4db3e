"""The console's web application (Starlette): pages, the JSON API and the live stream.

Authentication: a server-side session in the ``rs_session`` cookie (httpOnly,
SameSite=Strict), or ``Authorization: Bearer <token>`` for integrators. Every state-changing
request made with a session carries its CSRF token (``X-CSRF-Token`` header or ``csrf`` form
field); the login form uses a double-submit token. District scoping is checked here on every
read and action: an alert outside the user's scope answers 404, exactly like one that does
not exist, and the attempt is audited.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from riskstream.alarms import roles
from riskstream.alarms.priority import colour
from riskstream.center.accounts import Accounts, User
from riskstream.center.audit import AuditLog
from riskstream.center.board import Board, Filters
from riskstream.center.evidence import EvidenceStore
from riskstream.center.i18n import TIMEZONE, words
from riskstream.center.throttle import LoginThrottle
from riskstream.config.schema import CenterSettings
from riskstream.events import ActionKind, Alert, AlertAction, EventError, new_event_id

HERE = Path(__file__).parent
SESSION_COOKIE = "rs_session"
LOGIN_COOKIE = "rs_login"
LANG_COOKIE = "rs_lang"
ALERT_ACTIONS = [k for k in ActionKind if not k.on_target]
TARGET_ACTIONS = [k for k in ActionKind if k.on_target]
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; worker-src 'self'; frame-ancestors 'none'; form-action 'self'; "
       "base-uri 'none'")


@dataclass
class Center:
    """What the application needs, passed in (the tests build it on a real stack)."""

    settings: CenterSettings
    accounts: Accounts
    board: Board
    audit: AuditLog
    send: Callable[[AlertAction], None]  # to rs.alert-actions
    readings: Callable[[Alert], dict[str, Any]] | None = None  # chart data from ClickHouse
    events: Callable[[Alert], list[dict[str, Any]]] | None = None
    kpis: Callable[[User], dict[str, Any]] | None = None
    site_districts: dict[str, str] | None = None  # site id -> district (targets, evidence)
    throttle: LoginThrottle | None = None
    evidence: EvidenceStore | None = None  # snapshots received on rs.evidence
    devices: Callable[[], list[dict[str, Any]]] | None = None  # device health rows, all sites
    sites: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None  # overview

    def __post_init__(self) -> None:
        if self.throttle is None:
            self.throttle = LoginThrottle(self.settings.login_attempts, self.settings.login_window_s)


@dataclass(frozen=True)
class Caller:
    user: User
    csrf: str | None  # None: a bearer token (no cookie, so no CSRF to check)
    session: str


class _SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request,
                       call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        if request.url.path.startswith("/api/") or request.url.path in ("/", "/login"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def create_app(center: Center) -> Starlette:
    templates = Environment(loader=FileSystemLoader(HERE / "templates"),
                            autoescape=select_autoescape(["html"]))
    board, accounts, audit = center.board, center.accounts, center.audit

    def address(request: Request) -> str:
        return request.client.host if request.client else ""

    def lang(request: Request) -> str:
        return request.cookies.get(LANG_COOKIE, "zh")

    def caller(request: Request) -> Caller | None:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            user = accounts.token_user(auth[7:].strip())
            return Caller(user, None, "token") if user else None
        session = accounts.session(request.cookies.get(SESSION_COOKIE, ""))
        return Caller(session.user, session.csrf, session.session_id) if session else None

    def deny(request: Request, who: Caller | None, action: str, status: int, detail: str,
             **where: str) -> JSONResponse:
        user = who.user if who else None
        audit.record(user.name if user else "", action, "denied", status,
                     role=user.role.value if user else "", district=user.district if user else "",
                     detail=detail, address=address(request),
                     session=who.session if who else "", **where)
        return JSONResponse({"error": detail}, status_code=status)

    def csrf_ok(request: Request, who: Caller, form_value: str | None = None) -> bool:
        if who.csrf is None:
            return True
        sent = request.headers.get("x-csrf-token") or form_value or ""
        return hmac.compare_digest(sent, who.csrf)

    def page(name: str, request: Request, status: int = 200, **context: Any) -> HTMLResponse:
        text = words(lang(request))
        body = templates.get_template(name).render(
            t=text, lang=lang(request), i18n_json=script_json(text),
            timezone=TIMEZONE, **context)
        return HTMLResponse(body, status_code=status)

    # -- login / logout ---------------------------------------------------------------

    async def login_form(request: Request) -> Response:
        token = secrets.token_urlsafe(24)
        response = page("login.html", request, login_token=token, error="")
        response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", path="/login")
        return response

    async def login(request: Request) -> Response:
        form = await request.form()
        name, password = str(form.get("username", ""))[:64], str(form.get("password", ""))[:256]
        token = str(form.get("login_token", ""))
        where = address(request)
        keys = [f"user:{name}", f"addr:{where}"]
        text = words(lang(request))
        if not token or not hmac.compare_digest(token, request.cookies.get(LOGIN_COOKIE, "")):
            audit.record(name, "login", "denied", 403, detail="login form token missing or wrong",
                         address=where)
            return page("login.html", request, 403, login_token="", error=text["bad_login"])
        assert center.throttle is not None
        wait = center.throttle.blocked(keys, time.monotonic())
        if wait > 0:
            audit.record(name, "login", "throttled", 429, detail=f"retry in {wait:.0f} s",
                         address=where)
            response = page("login.html", request, 429, login_token=token, error=text["throttled"])
            response.headers["Retry-After"] = str(int(wait) + 1)
            return response
        user = await asyncio.to_thread(accounts.check_password, name, password)
        if user is None:
            center.throttle.failed(keys, time.monotonic())
            audit.record(name, "login", "failed", 401, detail="wrong user name or password",
                         address=where)
            return page("login.html", request, 401, login_token=token, error=text["bad_login"])
        center.throttle.succeeded(keys[0])
        cookie, session = accounts.open_session(user, where)
        audit.record(user.name, "login", "ok", 303, role=user.role.value, district=user.district,
                     address=where, session=session.session_id)
        done = RedirectResponse("/", status_code=303)
        done.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="strict", path="/")
        done.delete_cookie(LOGIN_COOKIE, path="/login")
        return done

    async def logout(request: Request) -> Response:
        who = caller(request)
        form = await request.form()
        if who is None or who.csrf is None:
            return RedirectResponse("/login", status_code=303)
        if not csrf_ok(request, who, str(form.get("csrf", ""))):
            return deny(request, who, "logout", 403, "CSRF token missing or wrong")
        accounts.revoke(request.cookies.get(SESSION_COOKIE, ""))
        audit.record(who.user.name, "logout", "ok", 303, role=who.user.role.value,
                     district=who.user.district, address=address(request), session=who.session)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    async def set_language(request: Request) -> Response:
        chosen = request.path_params["lang"]
        response = RedirectResponse(request.headers.get("referer") or "/", status_code=303)
        if chosen in ("zh", "en"):
            response.set_cookie(LANG_COOKIE, chosen, samesite="strict", path="/")
        return response

    # -- pages ------------------------------------------------------------------------

    def page_caller(request: Request) -> Caller | Response:
        who = caller(request)
        if who is None or who.csrf is None:
            return RedirectResponse("/login", status_code=303)
        return who

    async def board_page(request: Request) -> Response:
        who = page_caller(request)
        if isinstance(who, Response):
            return who
        return page("board.html", request, user=who.user, csrf=who.csrf,
                    may_act=sorted(k.value for k in roles.ALLOWED[who.user.role]))

    async def alert_page(request: Request) -> Response:
        who = page_caller(request)
        if isinstance(who, Response):
            return who
        alert = board.get(request.path_params["alert_id"])
        if alert is None or not who.user.sees(alert.district):
            if alert is not None:
                deny(request, who, "view", 404, "alert outside the user's districts",
                     alert_id=alert.alert_id, site_id=alert.site_id)
            return page("missing.html", request, 404, user=who.user, csrf=who.csrf)
        allowed = [k.value for k in ALERT_ACTIONS if roles.may(who.user.role, k)]
        return page("alert.html", request, user=who.user, csrf=who.csrf, alert=alert,
                    alert_json=script_json(alert_view(alert, board)),
                    allowed=allowed, colour=colour(alert))

    def simple_page(name: str) -> Callable[[Request], Awaitable[Response]]:
        async def handler(request: Request) -> Response:
            who = page_caller(request)
            if isinstance(who, Response):
                return who
            return page(name, request, user=who.user, csrf=who.csrf)
        return handler

    # -- API --------------------------------------------------------------------------

    def api_caller(request: Request) -> Caller | JSONResponse:
        who = caller(request)
        if who is None:
            audit.record("", "api", "denied", 401, detail="no valid session or token",
                         address=address(request))
            return JSONResponse({"error": "log in first (session expired or invalid)"},
                                status_code=401)
        return who

    async def me(request: Request) -> Response:
        who = api_caller(request)
        if isinstance(who, JSONResponse):
            return who
        u = who.user
        return JSONResponse({"name": u.name, "role": u.role.value, "district": u.district,
                             "may": sorted(k.value for k in roles.ALLOWED[u.role])})

    def filters_of(request: Request, user: User) -> Filters:
        q = request.query_params
        return Filters(district=q.get("district", "")[:64], site=q.get("site", "")[:64],
                       severity=q.get("severity", "")[:16], status=q.get("status", "")[:32],
                       kind=q.get("kind", "")[:128],
                       claimed_by=user.name if q.get("claimed") == "me" else "")

    async def list_alerts(request: Request) -> Response:
        who = api_caller(request)
        if isinstance(who, JSONResponse):
            return who
        alerts = board.view(who.user, filters_of(request, who.user))
        return JSONResponse({"event_id": board.event_id(), "counts": board.counts(alerts),
                             "alerts": [alert_view(a, board) for a in alerts]})

    def scoped(request: Request, who: Caller, action: str) -> Alert | JSONResponse:
        alert = board.get(request.path_params["alert_id"])
        if alert is None:
            return JSONResponse({"error": "no such alert"}, status_code=404)
        if not who.user.sees(alert.district):
            return deny(request, who, action, 404, "alert outside the user's districts",
                        alert_id=alert.alert_id, site_id=alert.site_id)
        return alert

    def alert_reader(action: str, produce: Callable[[Alert], Awaitable[Any]]
                     ) -> Callable[[Request], Awaitable[Response]]:
        """A GET handler for one alert's data, scoped to the caller's districts."""
        async def handler(request: Request) -> Response:
            who = api_caller(request)
            if isinstance(who, JSONResponse):
                return who
            alert = scoped(request, who, action)
            if isinstance(alert, JSONResponse):
                return alert
            return JSONResponse(await produce(alert))
        return handler

    async def view_of(alert: Alert) -> Any:
        return alert_view(alert, board)

    async def events_of(alert: Alert) -> Any:
        rows = await asyncio.to_thread(center.events, alert) if center.events else []
        held = center.evidence.known(r["event_id"] for r in rows) if center.evidence else {}

        def link(event_id: str, kind: str) -> str | None:
            if kind not in held.get(event_id, set()):
                return None
            return f"/evidence/{event_id}" + ("/clip" if kind == "clip" else "")

        return {"events": [{**r, "evidence": link(r["event_id"], "snapshot"),
                            "clip": link(r["event_id"], "clip")} for r in rows]}

    def evidence_of(kind: str) -> Callable[[Request], Awaitable[Response]]:
        async def handler(request: Request) -> Response:
            """A snapshot or clip, to a user who sees its site's district; 404 to anyone else."""
            who = api_caller(request)
            if isinstance(who, JSONResponse):
                return who
            event_id = request.path_params["event_id"][:64]
            stored = center.evidence.get(event_id, kind) if center.evidence else None
            if stored is None:
                return JSONResponse({"error": f"no such {kind}"}, status_code=404)
            district = center_site_district(stored.site_id)
            if district is None or not who.user.sees(district):
                return deny(request, who, "view-evidence", 404, f"{kind} outside the user's "
                            f"districts (event {event_id})", site_id=stored.site_id)
            assert center.evidence is not None
            data = await asyncio.to_thread(center.evidence.read, stored)
            if data is None:
                return JSONResponse({"error": f"the stored {kind} is missing or does not match "
                                     "its hash"}, status_code=410)
            return Response(data, media_type=stored.content_type, headers={
                "ETag": f'"{stored.sha256}"', "Cache-Control": "private, no-store",
                "X-Evidence-SHA256": stored.sha256})
        return handler

    def health_rows(user: User) -> list[dict[str, Any]]:
        rows = center.devices() if center.devices else []
        return [r for r in rows if user.sees(r["district"])]

    async def devices(request: Request) -> Response:
        who = api_caller(request)
        if isinstance(who, JSONResponse):
            return who
        return JSONResponse({"devices": await asyncio.to_thread(health_rows, who.user)})

    async def sites(request: Request) -> Response:
        who = api_caller(request)
        if isinstance(who, JSONResponse):
            return who
        rows = await asyncio.to_thread(health_rows, who.user)
        tree = center.sites(rows) if center.sites else []
        return JSONResponse({"sites": [s for s in tree if who.user.sees(s["district"])]})

    async def readings_of(alert: Alert) -> Any:
        return await asyncio.to_thread(center.readings, alert) if center.readings else {}

    async def kpis(request: Request) -> Response:
        who = api_caller(request)
        if isinstance(who, JSONResponse):
            return who
        data = await asyncio.to_thread(center.kpis, who.user) if center.kpis else {}
        return JSONResponse(data)

    async def body_of(request: Request) -> dict[str, Any] | None:
        try:
            data = json.loads(await request.body() or b"{}")
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    async def act_on_alert(request: Request) -> Response:
        who = api_caller(request)
        if isinstance(who, JSONResponse):
            return who
        if not csrf_ok(request, who):
            return deny(request, who, "action", 403, "CSRF token missing or wrong",
                        alert_id=request.path_params["alert_id"][:64])
        alert = scoped(request, who, "action")
        if isinstance(alert, JSONResponse):
            return alert
        data = await body_of(request)
        if data is None:
            return deny(request, who, "action", 400, "the body is not a JSON object",
                        alert_id=alert.alert_id, site_id=alert.site_id)
        return await submit(request, who, data, alert.site_id, alert_id=alert.alert_id)

    async def act_on_target(request: Request) -> Response:
        who = api_caller(request)
        if isinstance(who, JSONResponse):
            return who
        site = request.path_params["site_id"][:64]
        if not csrf_ok(request, who):
            return deny(request, who, "action", 403, "CSRF token missing or wrong", site_id=site)
        district = center_site_district(site)
        if district is None or not who.user.sees(district):
            return deny(request, who, "action", 404, "site outside the user's districts",
                        site_id=site)
        data = await body_of(request)
        if data is None:
            return deny(request, who, "action", 400, "the body is not a JSON object", site_id=site)
        return await submit(request, who, data, site, target=request.path_params["target"][:64])

    def center_site_district(site_id: str) -> str | None:
        return (center.site_districts or {}).get(site_id)

    async def submit(request: Request, who: Caller, data: dict[str, Any], site_id: str,
                     alert_id: str = "", target: str = "") -> Response:
        user = who.user
        kind_text = str(data.get("action", ""))
        try:
            kind = ActionKind(kind_text)
        except ValueError:
            return deny(request, who, kind_text[:32] or "action", 400,
                        f"unknown action {kind_text[:32]!r}", alert_id=alert_id, site_id=site_id)
        if kind.on_target != bool(target):
            return deny(request, who, kind.value, 400, f"{kind.value} does not act on "
                        f"{'a device or point' if target else 'an alert'}", alert_id=alert_id,
                        site_id=site_id)
        if not roles.may(user.role, kind):
            return deny(request, who, kind.value, 403, f"role {user.role.value} may not "
                        f"{kind.value}", alert_id=alert_id, site_id=site_id)
        try:
            duration = data.get("duration_s")
            action = AlertAction(
                alert_id=alert_id, site_id=site_id, action=kind, by=user.name,
                comment=str(data.get("comment", ""))[:2000], role=user.role.value,
                action_taken=str(data.get("action_taken", ""))[:2000],
                duration_s=float(duration) if duration not in (None, "") else None,
                assignee=str(data.get("assignee", ""))[:128], target=target,
                action_id=new_event_id())
        except (EventError, ValueError, TypeError) as exc:
            return deny(request, who, kind.value, 400, str(exc)[:300], alert_id=alert_id,
                        site_id=site_id)
        try:
            await asyncio.to_thread(center.send, action)
        except Exception as exc:
            audit.record(user.name, kind.value, "failed", 503, role=user.role.value,
                         district=user.district, alert_id=alert_id, site_id=site_id,
                         detail=f"not sent: {exc}"[:300], address=address(request),
                         session=who.session)
            return JSONResponse({"error": "the action could not be sent; try again"},
                                status_code=503)
        answer = await asyncio.to_thread(board.wait_answer, action.action_id,
                                         center.settings.action_wait_s, time.sleep)
        common = {"role": user.role.value, "district": user.district, "alert_id": alert_id,
                  "site_id": site_id, "address": address(request), "session": who.session}
        if isinstance(answer, Alert):
            audit.record(user.name, kind.value, "ok", 200,
                         detail=f"revision {answer.revision}, {answer.status.value}; "
                         f"{action.comment}"[:2000], **common)
            return JSONResponse({"action_id": action.action_id, "alert": alert_view(answer, board)})
        if isinstance(answer, str):
            audit.record(user.name, kind.value, "refused", 409, detail=answer, **common)
            return JSONResponse({"action_id": action.action_id, "error": answer}, status_code=409)
        audit.record(user.name, kind.value, "no-answer", 504, detail="no answer in time", **common)
        return JSONResponse({"action_id": action.action_id,
                             "error": "sent, but no answer from the correlator yet"},
                            status_code=504)

    async def stream(request: Request) -> Response:
        who = api_caller(request)
        if isinstance(who, JSONResponse):
            return who
        last = request.headers.get("last-event-id") or request.query_params.get("last", "")
        cookie = request.cookies.get(SESSION_COOKIE, "")
        bearer = who.csrf is None
        return EventSourceResponse(_events(who.user, last, cookie, bearer), ping=15,
                                   headers={"X-Accel-Buffering": "no", "Cache-Control": "no-store"})

    async def _events(user: User, last: str, cookie: str,
                      bearer: bool) -> AsyncIterator[dict[str, Any]]:
        for _ in range(300):  # a fresh console first catches up with the stream
            if board.ready:
                break
            await asyncio.sleep(0.1)
        seq = board.parse_event_id(last) if last else None
        changes = board.since(seq, user) if seq is not None else None
        yield {"retry": 1000, "event": "hello", "data": json.dumps({"boot": board.boot})}
        if changes is None:
            seq = board.seq
            yield {"id": board.event_id(seq), "event": "snapshot",
                   "data": json.dumps([alert_view(a, board) for a in board.view(user)], ensure_ascii=False)}
        checked = time.monotonic()
        while True:
            if changes:
                yield {"id": board.event_id(seq), "event": "changes",
                       "data": json.dumps([alert_view(a, board) for a in changes], ensure_ascii=False)}
            await asyncio.sleep(0.1)
            if not bearer and time.monotonic() - checked > 5:
                checked = time.monotonic()
                if not accounts.peek(cookie):
                    yield {"event": "logout", "data": "{}"}
                    return
            now = board.seq
            assert seq is not None
            changes = board.since(seq, user) if now > seq else []
            if changes is None:  # fell behind the log: start over from a snapshot
                changes = board.view(user)
            seq = now

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document())

    app = Starlette(
        routes=[
            Route("/", board_page), Route("/kpis", simple_page("kpis.html")),
            Route("/sites", simple_page("sites.html")),
            Route("/devices", simple_page("devices.html")),
            Route("/login", login_form, methods=["GET"]), Route("/login", login, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/lang/{lang}", set_language, methods=["POST"]),
            Route("/alerts/{alert_id}", alert_page),
            Route("/api/me", me), Route("/api/alerts", list_alerts),
            Route("/api/alerts/{alert_id}", alert_reader("view", view_of)),
            Route("/api/alerts/{alert_id}/events", alert_reader("view-events", events_of)),
            Route("/api/alerts/{alert_id}/readings", alert_reader("view-readings", readings_of)),
            Route("/api/alerts/{alert_id}/actions", act_on_alert, methods=["POST"]),
            Route("/api/sites/{site_id}/targets/{target}/actions", act_on_target,
                  methods=["POST"]),
            Route("/api/kpis", kpis), Route("/api/stream", stream),
            Route("/api/sites", sites), Route("/api/devices", devices),
            Route("/evidence/{event_id}", evidence_of("snapshot")),
            Route("/evidence/{event_id}/clip", evidence_of("clip")),
            Route("/api/openapi.json", openapi),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        middleware=[Middleware(_SecurityHeaders)],
    )
    return app


def script_json(value: Any) -> Markup:
    """JSON to embed in a ``<script type="application/json">``: ``<``, ``>`` and ``&`` are
    escaped so that no text (an operator's comment) can close the element."""
    text = json.dumps(value, ensure_ascii=False)
    return Markup(text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e"))


def alert_view(alert: Alert, board: Board) -> dict[str, Any]:
    """An alert as the page and the API show it: the wire form, its colour and its place in
    the board's order (``order``: compare as arrays)."""
    return {**alert.to_dict(), "colour": colour(alert), "order": board.order(alert)}


def openapi_document() -> dict[str, Any]:
    """The JSON API for integrators (bearer tokens: ``riskstream center token``)."""
    alert_id = {"name": "alert_id", "in": "path", "required": True, "schema": {"type": "string"}}
    ok = {"description": "OK", "content": {"application/json": {}}}
    errors = {"401": {"description": "no valid session or token"},
              "404": {"description": "no such alert, or outside the caller's districts"}}
    action_body = {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["action"], "properties": {
            "action": {"enum": [k.value for k in ActionKind]}, "comment": {"type": "string"},
            "action_taken": {"type": "string"}, "duration_s": {"type": "number"},
            "assignee": {"type": "string"}}}}}}
    acted = {"200": {"description": "applied: the alert's new revision"},
             "400": {"description": "malformed"}, "403": {"description": "role or CSRF"},
             "409": {"description": "refused by the correlator (reason)"},
             "504": {"description": "sent, no answer in time"}, **errors}
    return {
        "openapi": "3.1.0",
        "info": {"title": "riskstream command center", "version": "1"},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": {
            "/api/me": {"get": {"summary": "who the token belongs to", "responses": {"200": ok}}},
            "/api/alerts": {"get": {"summary": "the board: alerts in the caller's districts, in "
                                    "alarm order (GB/T 50493)", "parameters": [
                {"name": n, "in": "query", "schema": {"type": "string"}} for n in
                ("district", "site", "severity", "status", "kind", "claimed")],
                "responses": {"200": ok, **errors}}},
            "/api/alerts/{alert_id}": {"get": {"parameters": [alert_id],
                                               "responses": {"200": ok, **errors}}},
            "/api/alerts/{alert_id}/events": {"get": {"parameters": [alert_id],
                                                      "responses": {"200": ok, **errors}}},
            "/api/alerts/{alert_id}/readings": {"get": {"parameters": [alert_id],
                                                        "responses": {"200": ok, **errors}}},
            "/api/alerts/{alert_id}/actions": {"post": {"parameters": [alert_id],
                                                        "requestBody": action_body,
                                                        "responses": acted}},
            "/api/sites/{site_id}/targets/{target}/actions": {"post": {
                "summary": "out_of_service / return_to_service a device, suppress / unsuppress "
                "a risk point (supervisor)", "parameters": [
                    {"name": "site_id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "target", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": action_body, "responses": acted}},
            "/api/kpis": {"get": {"summary": "alarm KPIs (EEMUA 191) per district and city-wide",
                                  "responses": {"200": ok, **errors}}},
            "/api/sites": {"get": {"summary": "site overview: site -> risk point -> devices, "
                                   "coloured by state", "responses": {"200": ok, **errors}}},
            "/api/devices": {"get": {"summary": "device health: last heartbeat, status, fault "
                                     "alerts", "responses": {"200": ok, **errors}}},
            "/evidence/{event_id}": {"get": {"summary": "an event's snapshot (image/jpeg; ETag "
                                             "and X-Evidence-SHA256 give its hash)", "parameters": [
                {"name": "event_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "the JPEG"}, "410": {
                    "description": "stored file missing or altered"}, **errors}}},
            "/evidence/{event_id}/clip": {"get": {"summary": "the clip around an incident's start "
                                                  "(video/webm)", "parameters": [
                {"name": "event_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "the WebM"}, "410": {
                    "description": "stored file missing or altered"}, **errors}}},
            "/api/stream": {"get": {"summary": "server-sent events: snapshot, then changes; "
                                    "Last-Event-ID replays", "responses": {"200": ok, **errors}}},
        },
    }
