"""Turning OpenTelemetry on from the standard ``OTEL_*`` variables, once per process.

Nothing is traced or measured unless ``OTEL_TRACES_EXPORTER`` / ``OTEL_METRICS_EXPORTER``
name an exporter (as with the SDK's own auto-configuration, unset means none): a hub without
a collector must not spend time on spans nobody reads, nor log export failures.

Exporters are found by name through the SDK's entry points, as ``opentelemetry-instrument``
finds them: ``console`` (the demo) and ``otlp`` (OTLP over HTTP/protobuf, the one OTLP
transport installed) out of the box, any other installed exporter package by its own name.
The rest is read by the SDK itself: ``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES``
(resource), ``OTEL_TRACES_SAMPLER`` / ``_ARG`` (sampling), ``OTEL_BSP_*`` (span batching),
``OTEL_METRIC_EXPORT_INTERVAL``, ``OTEL_EXPORTER_OTLP_*`` (where and how to send).

When tracing is on, asyncpg and httpx are instrumented: every PostgreSQL statement (its text,
never its parameters) and every HTTP call gets a span, and httpx sends W3C ``traceparent`` to
the systems it calls, which continue the trace.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExporter, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from adapters.observe import enable_tracing

__all__ = ["Telemetry", "TelemetryError", "check_telemetry_settings", "configure_telemetry"]

# What the OTLP exporter package installed here calls itself (the SDK's default for "otlp"
# is the gRPC transport, which is not installed).
_ALIASES = {"otlp": "otlp_proto_http"}
_SUPPORTED_OTLP_PROTOCOLS = ("", "http/protobuf")


class TelemetryError(ValueError):
    """An ``OTEL_*`` setting the hub cannot honour: start-up stops and says which."""


@dataclass(slots=True)
class Telemetry:
    """What was turned on in this process (and must be flushed when it stops)."""

    tracing: bool = False
    measuring: bool = False
    _providers: list[Any] = field(default_factory=list)

    def flush(self) -> None:
        """Export what is buffered now (an app stopping; the providers themselves shut down
        when the process exits, and stay usable by another app of the same process)."""
        for provider in self._providers:
            provider.force_flush()


_configured: Telemetry | None = None


def _names(environ: Mapping[str, str], variable: str) -> list[str]:
    raw = environ.get(variable, "").strip()
    if not raw or raw.lower() == "none":
        return []
    names = [name.strip().lower() for name in raw.split(",") if name.strip()]
    if "none" in names:
        raise TelemetryError(f"{variable}: 'none' cannot be combined with exporters")
    return names


def _exporter(group: str, name: str, variable: str) -> type[Any]:
    found = entry_points(group=group, name=_ALIASES.get(name, name))
    if not found:
        known = sorted({e.name for e in entry_points(group=group)} | set(_ALIASES))
        raise TelemetryError(f"{variable}: no exporter named {name!r} is installed "
                             f"(installed: {', '.join(known)})")
    exporter: type[Any] = next(iter(found)).load()
    return exporter


def _check_protocol(environ: Mapping[str, str], names: list[str]) -> None:
    if "otlp" not in names:
        return
    for variable in ("OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
                     "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"):
        protocol = environ.get(variable, "").strip()
        if protocol not in _SUPPORTED_OTLP_PROTOCOLS:
            raise TelemetryError(f"{variable}={protocol!r}: the hub sends OTLP over "
                                 "http/protobuf only (point it at the collector's HTTP port, "
                                 "4318)")


def _exporters(environ: Mapping[str, str]) -> tuple[list[type[Any]], list[type[Any]]]:
    trace_names = _names(environ, "OTEL_TRACES_EXPORTER")
    metric_names = _names(environ, "OTEL_METRICS_EXPORTER")
    _check_protocol(environ, trace_names + metric_names)
    span_exporters = [_exporter("opentelemetry_traces_exporter", n, "OTEL_TRACES_EXPORTER")
                      for n in trace_names]
    for exporter in span_exporters:
        if not issubclass(exporter, SpanExporter):
            raise TelemetryError(f"OTEL_TRACES_EXPORTER: {exporter.__name__} does not "
                                 "export spans")
    metric_exporters = [_exporter("opentelemetry_metrics_exporter", n,
                                  "OTEL_METRICS_EXPORTER") for n in metric_names]
    for exporter in metric_exporters:
        if not issubclass(exporter, MetricExporter):
            raise TelemetryError(f"OTEL_METRICS_EXPORTER: {exporter.__name__} does not "
                                 "push metrics")
    return span_exporters, metric_exporters


def check_telemetry_settings(environ: Mapping[str, str] | None = None) -> None:
    """Raise TelemetryError for an ``OTEL_*`` setting the hub cannot honour, before any
    worker starts (each worker configures itself)."""
    environ = os.environ if environ is None else environ
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() != "true":
        _exporters(environ)


def configure_telemetry(service_name: str, environ: Mapping[str, str] | None = None
                        ) -> Telemetry:
    """Set this process's tracer and meter providers from ``environ`` (idempotent: a process
    configures once, whichever app asks first). ``service_name`` applies when
    ``OTEL_SERVICE_NAME`` does not say."""
    global _configured
    if _configured is not None:
        return _configured
    environ = os.environ if environ is None else environ
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        _configured = Telemetry()
        return _configured
    span_exporters, metric_exporters = _exporters(environ)
    attributes = {} if environ.get("OTEL_SERVICE_NAME") else {"service.name": service_name}
    resource = Resource.create(attributes)
    telemetry = Telemetry(tracing=bool(span_exporters), measuring=bool(metric_exporters))
    if span_exporters:
        tracer_provider = TracerProvider(resource=resource)  # sampler from OTEL_TRACES_SAMPLER
        for exporter in span_exporters:
            tracer_provider.add_span_processor(BatchSpanProcessor(exporter()))
        trace.set_tracer_provider(tracer_provider)
        enable_tracing()
        telemetry._providers.append(tracer_provider)
        _instrument_clients()
    if metric_exporters:
        readers = [PeriodicExportingMetricReader(exporter()) for exporter in metric_exporters]
        meter_provider = MeterProvider(resource=resource, metric_readers=readers)
        metrics.set_meter_provider(meter_provider)
        telemetry._providers.append(meter_provider)
    _configured = telemetry
    return telemetry


def _instrument_clients() -> None:
    # Imported only when tracing is on: instrumenting patches the libraries' classes.
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    AsyncPGInstrumentor(capture_parameters=False).instrument()  # type: ignore[no-untyped-call]
    HTTPXClientInstrumentor().instrument()
