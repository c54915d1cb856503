"""``python -m sandbox``: startup, clean shutdown on signals, failure on a bad database."""

from __future__ import annotations

import signal
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from sandbox import SYSTEMS
from tests.sandbox.sandbox_testkit import ServiceProcess, Services, service_env


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_one_and_stop_cleanly(services: Services, sig: signal.Signals) -> None:
    process = ServiceProcess(["serve", "agency_rest", "--port", "0",
                              "--dsn", services.databases.agency_rest], service_env())
    urls = process.wait_listening(1)
    assert list(urls) == ["agency_rest"]
    assert httpx.get(urls["agency_rest"] + "/healthz").json() == {"status": "ok"}
    process.process.send_signal(sig)
    process.process.wait(10)
    assert process.stop() == 0
    assert "Traceback" not in process.stderr_text


def test_missing_database_fails_startup(services: Services) -> None:
    parts = urlsplit(services.databases.population)
    missing = urlunsplit(parts._replace(path="/sandboxtest_does_not_exist"))
    args = ["serve-all"]
    for system in SYSTEMS:
        flag = system.replace("_", "-")
        dsn = missing if system == "population" else getattr(services.databases, system)
        args += [f"--{flag}-port", "0", f"--{flag}-dsn", dsn]
    process = ServiceProcess(args, service_env())
    with pytest.raises(RuntimeError, match="sandboxtest_does_not_exist") as failure:
        process.wait_listening(len(SYSTEMS))
    assert "exit status 1" in str(failure.value)


def test_bad_setting_fails_startup(services: Services) -> None:
    process = ServiceProcess(["serve", "population", "--port", "0", "--dsn",
                              services.databases.population],
                             service_env(SANDBOX_POPULATION_MAX_BATCH="lots"))
    with pytest.raises(RuntimeError, match="SANDBOX_POPULATION_MAX_BATCH must be an integer"
                       ) as failure:
        process.wait_listening(1)
    assert "exit status 2" in str(failure.value)
    assert "Traceback" not in process.stderr_text
