from __future__ import annotations

from pathlib import Path

import pytest

from adapters import GraphQLAgencySystemConfig, RestAgencySystemConfig
from adapters.agency_database import DatabaseAgencySystemConfig
from adapters.file_drop import FileDropConfig
from hub.config import PROJECT_ROOT
from hub.source_config import load_source_config


def test_the_shipped_registry_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POPULATION_URL", "http://registry.example:9")
    config = load_source_config(PROJECT_ROOT / "config/sources.yaml")
    assert config.population.base_url == "http://registry.example:9"
    kinds = {s.name: type(s) for s in config.agency_systems}
    assert kinds == {"mof-hrmis": RestAgencySystemConfig, "hanoi-hrm": GraphQLAgencySystemConfig,
                     "moh-hris": DatabaseAgencySystemConfig, "danang-hrm": FileDropConfig}


def test_missing_variable_without_default_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text("population: {base_url: '${NOT_SET_ANYWHERE_123}', api_key: k}\n")
    with pytest.raises(ValueError, match="NOT_SET_ANYWHERE_123"):
        load_source_config(path)


@pytest.mark.parametrize("text", ["", "population: 5", "population: {base_url: x}",
                                  "population: {base_url: x, api_key: k}\nagency_systems:\n"
                                  "  - {name: a, kind: soap, serves: ['*'], lookup: {}, "
                                  "fields: {}}",
                                  ": : :"])
def test_invalid_registries_are_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match="invalid source registry"):
        load_source_config(path)


def test_values_from_the_environment_are_not_reparsed_as_yaml(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_KEY", "0123")
    monkeypatch.setenv("REGISTRY_URL", "http://r.example:9/*x")
    path = tmp_path / "sources.yaml"
    path.write_text("population:\n  base_url: ${REGISTRY_URL}\n  api_key: ${REGISTRY_KEY}\n")
    config = load_source_config(path)
    assert config.population.api_key == "0123"
    assert config.population.base_url == "http://r.example:9/*x"


def test_resilience_from_the_hubs_defaults_and_a_sources_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.resilience import Resilience

    monkeypatch.setenv("HUB_SOURCE_RETRIES", "3")
    monkeypatch.setenv("HUB_BREAKER_OPEN_SECONDS", "2.5")
    path = tmp_path / "sources.yaml"
    path.write_text("population: {base_url: x, api_key: k, resilience: "
                    "{breaker_failures: 9, max_concurrency: 4}}\n")
    assert load_source_config(path).population.resilience == Resilience(
        retries=3, breaker_open_seconds=2.5, breaker_failures=9, max_concurrency=4)
    monkeypatch.delenv("HUB_SOURCE_RETRIES")
    monkeypatch.delenv("HUB_BREAKER_OPEN_SECONDS")
    assert load_source_config(PROJECT_ROOT / "config/sources.yaml").population.resilience == (
        Resilience())


@pytest.mark.parametrize("resilience", ["{retries: -1}", "{breaker_failures: 0}",
                                        "{max_concurrency: 0}", "{retry: 2}",
                                        "{retries: many}"])
def test_bad_resilience_settings_are_refused(tmp_path: Path, resilience: str) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(f"population: {{base_url: x, api_key: k, resilience: {resilience}}}\n")
    with pytest.raises(ValueError, match="invalid source registry"):
        load_source_config(path)


def test_list_fields_of_an_agency_system(tmp_path: Path) -> None:
    """The shipped systems map their discipline decisions as list fields; a malformed
    `lists:` section is refused."""
    config = load_source_config(PROJECT_ROOT / "config/sources.yaml")
    rest = next(s for s in config.agency_systems if s.name == "mof-hrmis")
    assert isinstance(rest, RestAgencySystemConfig)
    decisions = rest.mapping.lists["disciplines"]
    assert decisions.path == "ky_luat"
    assert decisions.mapping.codes["form_code"]["BTV"] == "forced_resignation"
    head = ("population: {base_url: x, api_key: k}\nagency_systems:\n"
            "  - {name: a, kind: rest, serves: ['*'], base_url: x, lookup: {path: /l, "
            "ids_field: i, records_field: r}, fields: {personal_id: p}, lists: ")
    for bad in ("[1, 2]", "{disciplines: {path: k}}", "{disciplines: 5}",
                "{disciplines: {path: k, fields: {}, sql: x}}",
                "{disciplines: {path: k, fields: {a: b}, types: {a: money}}}"):
        path = tmp_path / "sources.yaml"
        path.write_text(head + bad + "}\n")
        with pytest.raises(ValueError, match="invalid source registry"):
            load_source_config(path)
