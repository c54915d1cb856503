"""OpenTelemetry for the hub: set-up from ``OTEL_*`` (setup), a server span per request
(requests), spans of each operation's phases (spans), and the hub's metrics (metrics). The
sources' own spans and metrics are recorded by the adapters (adapters/observe.py)."""
