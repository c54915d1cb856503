"""Trusted documents end to end: the identity service (``mps-identity``, whose policy requires
them) runs its registered query by id, by Apollo's persisted-query extension or by its exact
text, and nothing else; ids that are malformed, unknown or contradicted are refused with a
clear error; every refusal is audited."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.databases import DatabaseSet
from hub.policy.cli import main as policy_main
from hub.policy.load import POLICY_DIR
from hub.policy.model import document_id
from tests.conftest import Tokens
from tests.e2e.audit_records import fetch_rows, record, request_id

CLIENT = ("mps-identity", "identity-verification")
VERIFY = (POLICY_DIR / "mps-identity.yaml").read_text(encoding="utf-8").split(
    "    - |\n", 1)[1].split("\npurposes:", 1)[0]
TEXT = "\n".join(line[6:] for line in VERIFY.strip("\n").splitlines()).strip()
ID = document_id(TEXT)


@pytest.fixture(scope="module")
def person(databases: DatabaseSet) -> str:
    (row,) = fetch_rows(databases.national, "SELECT personal_id FROM employee"
                                            " WHERE status = 'active' ORDER BY 1 LIMIT 1")
    return str(row["personal_id"])


def _post(hub_url: str, tokens: Tokens, body: dict[str, Any], client: tuple[str, str] = CLIENT,
          request: str | None = None) -> httpx.Response:
    return httpx.post(f"{hub_url}/graphql", json=body, timeout=30,
                      headers={**tokens.headers(*client),
                               "x-request-id": request or request_id("trusted")})


def _error(answer: httpx.Response) -> tuple[int, str, str]:
    (error,) = answer.json()["errors"]
    return answer.status_code, error["extensions"]["code"], error["message"]


def test_the_registered_query_runs_by_id_by_extension_and_by_text(
        hub_url: str, tokens: Tokens, person: str) -> None:
    variables = {"personalId": person}
    for body in ({"documentId": ID, "variables": variables},
                 {"extensions": {"persistedQuery": {"version": 1,
                                                    "sha256Hash": ID.split(":")[1]}},
                  "variables": variables},
                 {"query": TEXT, "variables": variables},
                 {"query": f"\n  {TEXT}  \n", "documentId": ID, "variables": variables}):
        answer = _post(hub_url, tokens, body)
        assert answer.status_code == 200, (body, answer.text)
        assert answer.json()["data"]["civilServantByPersonalId"]["personalId"] == person
    by_get = httpx.get(f"{hub_url}/graphql", headers=tokens.headers(*CLIENT), timeout=30,
                       params={"documentId": ID, "variables": f'{{"personalId": "{person}"}}'})
    assert by_get.status_code == 200, by_get.text


def test_anything_else_is_refused_for_a_client_that_requires_them(
        hub_url: str, tokens: Tokens, person: str, databases: DatabaseSet) -> None:
    request = request_id("untrusted")
    # Within its grants, but not registered: refused before it is even validated.
    other = (f'{{ civilServantByPersonalId(personalId: "{person}") {{ fullName }} }}')
    status, code, message = _error(_post(hub_url, tokens, {"query": other}, request=request))
    assert (status, code) == (403, "FORBIDDEN")
    assert "trusted documents only" in message
    entry = record(databases.national, request)
    assert (entry["outcome"], entry["errors"], entry["disclosed"]) == (
        "refused", ["FORBIDDEN"], [])


@pytest.mark.parametrize(("body", "expected"), [
    ({"documentId": "sha256:" + "0" * 64}, (400, "NOT_FOUND", "no trusted document")),
    ({"documentId": "md5:abc"}, (400, "BAD_USER_INPUT", "documentId")),
    ({"documentId": ID.upper()}, (400, "BAD_USER_INPUT", "documentId")),
    ({"documentId": 7}, (400, "BAD_USER_INPUT", "documentId")),
    ({"extensions": {"persistedQuery": {"sha256Hash": "x"}}},
     (400, "BAD_USER_INPUT", "sha256Hash")),
    ({"extensions": {"persistedQuery": "yes"}}, (400, "BAD_USER_INPUT", "sha256Hash")),
    ({"documentId": ID, "extensions": {"persistedQuery": {"sha256Hash": "a" * 64}}},
     (400, "BAD_USER_INPUT", "two documents")),
    ({"documentId": ID, "query": "{ __typename }"},
     (400, "BAD_USER_INPUT", "is not the trusted document")),
    ({}, (400, "BAD_USER_INPUT", "`query` must be")),
])
def test_naming_a_document_wrongly_is_a_clear_error(hub_url: str, tokens: Tokens,
                                                    body: dict[str, Any],
                                                    expected: tuple[int, str, str]) -> None:
    status, code, message = _error(_post(hub_url, tokens, body))
    assert (status, code) == expected[:2]
    assert expected[2] in message


def test_a_client_without_documents_runs_any_text_and_no_id(hub_url: str,
                                                             tokens: Tokens) -> None:
    admin = ("moha-personnel-db", "administration")
    assert _post(hub_url, tokens, {"query": "{ __typename }"}, admin).status_code == 200
    status, code, _ = _error(_post(hub_url, tokens, {"documentId": ID}, admin))
    assert (status, code) == (400, "NOT_FOUND")


def test_the_policy_tools_list_ids_and_refuse_a_document_no_purpose_can_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert policy_main(["policy", "documents"]) == 0
    assert f"{ID}  VerifyIdentity" in capsys.readouterr().out
    folder = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, folder)
    path = folder / "mps-identity.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "agencyCode\n        }", "agencyCode rank { code }\n        }"), encoding="utf-8")
    assert policy_main(["policy", "check", "--dir", str(folder)]) == 1
    assert "valid for none of the client's purposes" in capsys.readouterr().out
    path.write_text(path.read_text(encoding="utf-8").replace(
        "query VerifyIdentity(", "query VerifyIdentity(("), encoding="utf-8")
    assert policy_main(["policy", "check", "--dir", str(folder)]) == 1
    assert "not a GraphQL document" in capsys.readouterr().out
