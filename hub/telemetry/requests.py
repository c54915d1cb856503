"""A server span for every HTTP request the hub takes, continuing the caller's trace.

The span is named by the method and the route's template (``GET /access-history/{personal_id}``)
and records the route, never the path: a path may hold a personal ID. It carries the response
status; a 5xx marks it as failed. The caller's W3C ``traceparent`` (and ``tracestate``) is
honoured, so a client's trace runs on through the hub into the sources it calls.

Added only when tracing is on (see ``hub.telemetry.setup``).
"""

from __future__ import annotations

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.observe import quiet_unless_recording

__all__ = ["TraceRequests"]

_tracer = trace.get_tracer("hub")
_PROPAGATED = (b"traceparent", b"tracestate")


class TraceRequests:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier = {name.decode("latin-1"): value.decode("latin-1")
                   for name, value in scope["headers"] if name in _PROPAGATED}
        method = scope["method"]
        with _tracer.start_as_current_span(
                method, context=propagate.extract(carrier), kind=SpanKind.SERVER,
                attributes={"http.request.method": method,
                            "url.scheme": scope.get("scheme", "http")}) as span:

            async def send_traced(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                await send(message)

            try:
                with quiet_unless_recording(span):
                    await self.app(scope, receive, send_traced)
            finally:
                route = getattr(scope.get("route"), "path", None)
                if route is not None:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
