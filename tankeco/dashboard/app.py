"""The dashboard's small HTTP server: two pages, a JSON API and a server-sent-event stream.

``/tanks`` is the overview of every tank in the store; ``/?tank=NAME`` is one tank's page
(charts, forecast, alerts), and its API calls carry the same ``tank`` parameter.  ``/``
opens on the overview when the store holds several tanks and no ``--tank`` was given,
else on the one tank's page, as before there was an overview.

Security, because a tank monitor ends up on a home network:

* it binds 127.0.0.1 unless told otherwise, and then only answers requests whose Host is
  a loopback name (a web page elsewhere cannot reach it through DNS rebinding);
* on any other address a token is required; the page and every API call check it
  (``?token=`` once, then an HttpOnly same-site cookie; or ``Authorization: Bearer``),
  compared in constant time;
* the page is served with a Content-Security-Policy that allows scripts from this
  server only, and it never renders tank names, sensor names or payload text as HTML.

plotly.js comes from the installed ``plotly`` package: the page works offline and
makes no request to any other host.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import math
import threading
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from tankeco.dashboard.fleet import Fleet, UnknownTank
from tankeco.dashboard.monitor import Monitor

log = logging.getLogger("tankeco.dashboard")

LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
COOKIE = "tankeco_token"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
)
#: How often the live poller looks at the store, seconds.
POLL_S = 0.5


def static_dir() -> Path:
    return Path(str(resources.files("tankeco.dashboard") / "static"))


def plotly_js() -> Path:
    """plotly.min.js from the installed plotly wheel (no CDN)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def is_loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


class TokenMiddleware:
    """Every request needs the token (query, bearer header or cookie), when one is set."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.token:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        given = (
            request.query_params.get("token")
            or request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            or request.cookies.get(COOKIE)
            or ""
        )
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            response: Response = PlainTextResponse("token required", status_code=401)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class NoSniffMiddleware:
    """``X-Content-Type-Options: nosniff`` on every response: a browser never guesses a
    JSON or text response to be HTML or script."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: dict) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-content-type-options", b"nosniff"),
                ]
            await send(message)

        await self.app(scope, receive, send_with_header)


class Hub:
    """Fans each tank's new readings out to the open event streams of that tank."""

    def __init__(self) -> None:
        self.queues: dict[asyncio.Queue, str | None] = {}

    def subscribe(self, tank: str | None) -> asyncio.Queue:
        """A queue of ``tank``'s readings (None: whichever tank is the default one)."""
        q: asyncio.Queue = asyncio.Queue(maxsize=1000)
        self.queues[q] = tank
        return q

    def unsubscribe(self, q: asyncio.Queue) -> None:
        self.queues.pop(q, None)

    def publish(self, by_tank: dict[str, list[dict]], default: str | None) -> None:
        for q, tank in list(self.queues.items()):
            items = by_tank.get(default if tank is None else tank)
            if not items or q.full():  # a stalled browser tab must not hold our memory
                continue
            q.put_nowait(items)


def _json(data: object) -> JSONResponse:
    return JSONResponse(_finite(data), headers={"Cache-Control": "no-store"})


def _no_tank(exc: UnknownTank) -> Response:
    """404 for a tank the store does not hold (plain text: the name is data, not markup)."""
    return PlainTextResponse(
        f"tank {exc.args[0]!r}: not in this store; /tanks lists the tanks it holds",
        status_code=404,
    )


def _finite(x: object) -> object:
    """JSON has no NaN or infinity: turn them into null."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items() if not str(k).startswith("_")}
    if isinstance(x, list | tuple):
        return [_finite(v) for v in x]
    return x


def create_app(
    monitor: Monitor | Fleet,
    *,
    host: str = "127.0.0.1",
    token: str | None = None,
    publisher: object | None = None,
    start_forecast: bool = True,
) -> Starlette:
    """The ASGI app over every tank of the store (a :class:`Monitor` is the default tank's
    page, the others are opened as asked for); ``publisher`` (optional) gets every
    tank's forecast state for Home Assistant."""
    fleet = monitor if isinstance(monitor, Fleet) else Fleet(monitor)
    monitor = fleet.default
    hub = Hub()
    static = static_dir()

    def html(name: str, request: Request) -> Response:
        response = FileResponse(static / name, headers={"Content-Security-Policy": CSP})
        if token and request.query_params.get("token"):
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
        return response

    def tank_of(request: Request) -> Monitor:
        """The page of ``?tank=`` (the default tank without it); UnknownTank if none."""
        return fleet.monitor(request.query_params.get("tank"))

    async def page(request: Request) -> Response:
        if "tank" in request.query_params:
            try:
                await asyncio.to_thread(tank_of, request)
            except UnknownTank as exc:
                return _no_tank(exc)
            return html("index.html", request)
        overview = await asyncio.to_thread(fleet.opens_on_overview)
        return html("overview.html" if overview else "index.html", request)

    async def tanks_page(request: Request) -> Response:
        return html("overview.html", request)

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name == "plotly.min.js":
            path = plotly_js()
        elif name in ("app.js", "overview.js", "style.css"):
            path = static / name
        else:
            return PlainTextResponse("not found", status_code=404)
        return FileResponse(path, headers={"Cache-Control": "max-age=3600"})

    async def series(request: Request) -> Response:
        try:
            hours = float(request.query_params.get("hours", "72"))
        except ValueError:
            return PlainTextResponse("hours: a number", status_code=400)
        if not math.isfinite(hours):
            return PlainTextResponse(f"hours = {hours}: a finite number", status_code=400)
        hours = min(max(hours, 0.1), 24 * 400)
        try:
            m = await asyncio.to_thread(tank_of, request)
        except UnknownTank as exc:
            return _no_tank(exc)
        return _json(await asyncio.to_thread(m.series, hours))

    async def state(request: Request) -> Response:
        try:
            m = await asyncio.to_thread(tank_of, request)
        except UnknownTank as exc:
            return _no_tank(exc)
        return _json(await asyncio.to_thread(m.state))

    async def overview(request: Request) -> Response:
        return _json(await asyncio.to_thread(fleet.overview))

    async def stream(request: Request) -> Response:
        try:
            await asyncio.to_thread(tank_of, request)
        except UnknownTank as exc:
            return _no_tank(exc)
        q = hub.subscribe(request.query_params.get("tank"))

        async def events() -> AsyncIterator[str]:
            try:
                yield "retry: 1000\n\n"
                while True:
                    try:
                        items = await asyncio.wait_for(q.get(), timeout=15)
                    except TimeoutError:
                        yield ": keepalive\n\n"
                        continue
                    yield f"event: readings\ndata: {json.dumps(_finite(items))}\n\n"
            finally:
                hub.unsubscribe(q)

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def poller() -> None:
        failing = ""
        while True:
            try:
                by_tank = await asyncio.to_thread(fleet.poll_new)
                if by_tank:
                    hub.publish(by_tank, monitor.tank)
                failing = ""
            except Exception as exc:  # noqa: BLE001 - a locked or restarting database
                if str(exc) != failing:  # said once, not twice a second
                    failing = str(exc)
                    log.warning("live stream: store not read (%s); trying again", exc)
            await asyncio.sleep(POLL_S)

    async def ha_publisher() -> None:
        """Home Assistant gets every tank's state on its own schedule, page open or not."""
        while True:
            try:
                data = await asyncio.to_thread(fleet.overview)
                publisher.publish_overview(_finite(data))  # type: ignore[union-attr]
            except Exception:  # noqa: BLE001 - the store restarting: next time
                log.warning("Home Assistant state not published", exc_info=True)
            await asyncio.sleep(publisher.interval_s)  # type: ignore[union-attr]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await asyncio.to_thread(fleet.prime)
        task = asyncio.create_task(poller())
        ha_task = asyncio.create_task(ha_publisher()) if publisher is not None else None
        if start_forecast:
            threading.Thread(target=fleet.forecast_loop, daemon=True, name="forecast").start()
        try:
            yield
        finally:
            for t in (task, ha_task):
                if t is not None:
                    t.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await t
            if publisher is not None:
                publisher.close()  # type: ignore[attr-defined]
            fleet.close()

    middleware = [Middleware(NoSniffMiddleware)]
    if is_loopback(host):
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=list(LOOPBACK)))
    middleware.append(Middleware(TokenMiddleware, token=token))
    routes = [
        Route("/", page),
        Route("/tanks", tanks_page),
        Route("/static/{name}", asset),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Route("/api/overview", overview),
        Route("/api/series", series),
        Route("/api/state", state),
        Route("/api/stream", stream),
    ]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
