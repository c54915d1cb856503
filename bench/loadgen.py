"""A lean closed-loop HTTP/1.1 load generator (keep-alive connections, asyncio streams).

Lighter than an HTTP client library, so the machine's two cores go to the servers under test
rather than to the load. Every request is bounded in number and time; only loopback targets.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["LoadResult", "run_load"]

_KEPT_BODY = 600  # of an error's answer, kept as an example


@dataclass(frozen=True, slots=True)
class LoadResult:
    requests: int
    errors: int  # answers other than 200, and requests that got no answer
    seconds: float
    latencies_ms: list[float]
    # Each status other than 200, and 0 for a connection lost before the answer: what the
    # errors were, printed so that an error is never just a number.
    failures: dict[int, int] = field(default_factory=dict)
    examples: dict[int, str] = field(default_factory=dict)  # the first answer of each status

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")


def _request_bytes(url: str, method: str, body: bytes | None,
                   headers: dict[str, str] | None = None) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    assert parts.hostname in {"127.0.0.1", "localhost", "::1"}, "loopback targets only"
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    head = [f"{method} {path} HTTP/1.1", f"Host: {parts.netloc}", "Connection: keep-alive",
            *(f"{name}: {value}" for name, value in (headers or {}).items())]
    if body is not None:
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    raw = ("\r\n".join(head) + "\r\n\r\n").encode() + (body or b"")
    return parts.hostname, parts.port or 80, raw


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    chunked = False
    body = b""
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
        elif name.lower() == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if len(body) < _KEPT_BODY:
                body += chunk[:-2]
            if size == 0:
                break
    else:
        body = await reader.readexactly(length)
    return status, body[:_KEPT_BODY]


async def run_load(url: str, *, body: bytes | None = None, method: str = "POST",
                   concurrency: int = 32, seconds: float = 10.0,
                   max_requests: int = 1_000_000,
                   headers: dict[str, str] | None = None) -> LoadResult:
    host, port, raw = _request_bytes(url, method, body, headers)
    latencies: list[float] = []
    errors = 0
    sent = 0
    deadline = time.perf_counter() + seconds

    failures: Counter[int] = Counter()
    examples: dict[int, str] = {}

    async def worker() -> None:
        nonlocal errors, sent
        while time.perf_counter() < deadline and sent < max_requests:
            reader, writer = await asyncio.open_connection(host, port)
            try:
                while time.perf_counter() < deadline and sent < max_requests:
                    sent += 1
                    started = time.perf_counter()
                    writer.write(raw)
                    status, answer = await _read_response(reader)
                    latencies.append((time.perf_counter() - started) * 1000)
                    if status != 200:
                        errors += 1
                        failures[status] += 1
                        examples.setdefault(status, answer.decode(errors="replace"))
            except (ConnectionError, asyncio.IncompleteReadError) as lost:
                # Counted, and the worker carries on over a new connection: one lost answer
                # must not end the measurement.
                errors += 1
                failures[0] += 1
                examples.setdefault(0, repr(lost))
            finally:
                writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return LoadResult(len(latencies), errors, time.perf_counter() - started, latencies,
                      dict(failures), examples)
