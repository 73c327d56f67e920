"""`/metrics` (Prometheus text format) and `/healthz` on METRICS_PORT, served by aiohttp.

`/healthz` answers 200 while every registered heartbeat is fresh and every condition holds, and 503 naming
the component otherwise (a scheduler that stopped ticking, a delivery loop that stopped turning, a database
that cannot be used), so an orchestrator can restart the process or page someone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """A component is stalled when `last_beat()` (monotonic seconds) is older than `max_silence`."""

    name: str
    last_beat: Callable[[], float]
    max_silence: float


class HealthChecks:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._beats: list[Heartbeat] = []
        self._conditions: list[tuple[str, Callable[[], tuple[bool, str]]]] = []
        self._clock = clock

    def watch(self, name: str, last_beat: Callable[[], float], max_silence: float) -> None:
        self._beats.append(Heartbeat(name, last_beat, max_silence))

    def condition(self, name: str, state: Callable[[], tuple[bool, str]]) -> None:
        """A component that says itself whether it is healthy, e.g. the database ("unusable for 12s: …")."""
        self._conditions.append((name, state))

    def report(self) -> tuple[bool, dict[str, str]]:
        now = self._clock()
        healthy = True
        details: dict[str, str] = {}
        for beat in self._beats:
            silence = now - beat.last_beat()
            if silence > beat.max_silence:
                healthy = False
                details[beat.name] = (
                    f"stalled: no heartbeat for {silence:.0f}s (limit {beat.max_silence:.0f}s)"
                )
            else:
                details[beat.name] = f"ok: last heartbeat {silence:.1f}s ago"
        for name, state in self._conditions:
            fine, detail = state()
            healthy = healthy and fine
            details[name] = detail
        return healthy, details


def build_app(health: HealthChecks, registry: CollectorRegistry = REGISTRY) -> web.Application:
    async def metrics_view(_request: web.Request) -> web.Response:
        body = generate_latest(registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def health_view(_request: web.Request) -> web.Response:
        healthy, details = health.report()
        return web.json_response(
            {"status": "ok" if healthy else "unhealthy", "checks": details}, status=200 if healthy else 503
        )

    app = web.Application()
    app.router.add_get("/metrics", metrics_view)
    app.router.add_get("/healthz", health_view)
    return app


class MetricsServer:
    """The endpoint's lifecycle; `port` 0 picks a free port (read `bound_port` after `start`)."""

    def __init__(self, health: HealthChecks, port: int, host: str = "0.0.0.0") -> None:
        self._app = build_app(health)
        self._port = port
        self._host = host
        self._runner: web.AppRunner | None = None
        self.bound_port: int | None = None

    async def start(self) -> None:
        self._runner = web.AppRunner(self._app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or ()
        self.bound_port = sockets[0].getsockname()[1] if sockets else self._port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
