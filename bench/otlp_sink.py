"""A stand-in OpenTelemetry collector for benchmarks: takes OTLP/HTTP (protobuf) exports,
counts the spans and metric points in them, and answers 200 as a collector does.

    python -m bench.otlp_sink --port 4318   (prints the counts when stopped)

It lets a benchmark pay the real cost of exporting (encoding, HTTP) without a collector
installed; the counts show the hub did export what it sampled.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

__all__ = ["main"]

_counts = {"spans": 0, "metric_points": 0, "exports": 0}
_lock = threading.Lock()


def _spans(body: bytes) -> int:
    request = ExportTraceServiceRequest.FromString(body)
    return sum(len(scope.spans) for resource in request.resource_spans
               for scope in resource.scope_spans)


def _points(body: bytes) -> int:
    request = ExportMetricsServiceRequest.FromString(body)
    total = 0
    for resource in request.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                kind = metric.WhichOneof("data")
                total += len(getattr(metric, kind).data_points) if kind else 0
    return total


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        with _lock:
            _counts["exports"] += 1
            if self.path == "/v1/traces":
                _counts["spans"] += _spans(body)
            elif self.path == "/v1/metrics":
                _counts["metric_points"] += _points(body)
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per export would drown the benchmark's own output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.otlp_sink", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), _Handler)

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"otlp sink listening on http://127.0.0.1:{args.port}", flush=True)
    server.serve_forever()
    print(f"otlp sink received {_counts['exports']} exports: {_counts['spans']} spans, "
          f"{_counts['metric_points']} metric points", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
