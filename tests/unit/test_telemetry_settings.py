"""The OTEL_* settings the hub reads itself, and the bound on metric series."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.telemetry.metrics import MAX_OPERATION_NAMES, _BoundedNames
from hub.telemetry.setup import TelemetryError, check_telemetry_settings


@pytest.mark.parametrize("env", [
    {},
    {"OTEL_TRACES_EXPORTER": "none", "OTEL_METRICS_EXPORTER": " None "},
    {"OTEL_TRACES_EXPORTER": "console"},
    {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_METRICS_EXPORTER": "otlp,console"},
    {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
    {"OTEL_TRACES_EXPORTER": "CONSOLE , otlp_proto_http"},
    # Disabled: nothing else is read.
    {"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "zipkin"},
])
def test_settings_the_hub_can_honour(env: dict[str, str]) -> None:
    check_telemetry_settings(env)


@pytest.mark.parametrize(("env", "message"), [
    ({"OTEL_TRACES_EXPORTER": "jaeger"}, "OTEL_TRACES_EXPORTER: no exporter named 'jaeger'"),
    ({"OTEL_METRICS_EXPORTER": "prometheus"}, "no exporter named 'prometheus'"),
    ({"OTEL_TRACES_EXPORTER": "console,none"}, "'none' cannot be combined"),
    ({"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "grpc"},
     "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL='grpc'"),
    ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
     "http/protobuf only"),
])
def test_settings_the_hub_cannot_honour_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(TelemetryError) as refused:
        check_telemetry_settings(env)
    assert message in str(refused.value)


@given(st.text(max_size=40))
def test_any_exporter_list_is_accepted_or_refused_clearly(names: str) -> None:
    problem = ""
    try:
        check_telemetry_settings({"OTEL_TRACES_EXPORTER": names})
    except TelemetryError as error:
        problem = str(error)
    assert not problem or problem.startswith("OTEL_TRACES_EXPORTER: ")


def test_operation_names_are_counted_by_name_up_to_the_bound_then_as_other() -> None:
    names = _BoundedNames(3)
    assert [names(n) for n in ("a", "b", "a", "c")] == ["a", "b", "a", "c"]  # at the bound
    assert names("d") == "(other)"  # just over
    assert names("b") == "b"  # names already counted stay themselves
    assert names(None) == names("") == ""


def test_the_default_bound_holds_whatever_clients_send() -> None:
    names = _BoundedNames(MAX_OPERATION_NAMES)
    seen = {names(f"op{i}") for i in range(MAX_OPERATION_NAMES * 3)}
    assert len(seen) == MAX_OPERATION_NAMES + 1
