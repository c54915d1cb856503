"""``hub signer ...`` as an operator runs it: the installed command, in a subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from joserfc.jwk import OctKey, import_key

from hub.config import PROJECT_ROOT
from hub.updates.cli import KEYGEN_ALGORITHMS
from hub.updates.keys import ALGORITHMS, SignerKeys
from hub.updates.signatures import sign_submission, verify_submission
from tests.updates.signers import claims
from tests.updates.test_registry import new_code, weak_rsa_jwk

HUB = str(PROJECT_ROOT / ".venv" / "bin" / "hub")
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def hub(signers_dsn: str) -> Run:
    env = {**os.environ, "HUB_DATABASE_URL": signers_dsn}

    def run(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([HUB, "signer", *arguments], env=env, capture_output=True,
                              text=True, timeout=120, check=False)

    return run


def write(path: Path, content: Any) -> str:
    path.write_text(content if isinstance(content, str) else json.dumps(content),
                    encoding="utf-8")
    return str(path)


def one_line_error(result: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    assert result.returncode == code, result
    assert result.stderr.startswith("hub: ") or result.stderr.startswith("usage: "), result
    assert text in result.stderr
    assert "Traceback" not in result.stderr


def test_keygen_add_list_revoke(hub: Run, tmp_path: Path, signers_dsn: str) -> None:
    agency = new_code("G")
    private_file = tmp_path / "agency.jwk"
    made = hub("keygen", "--out", str(private_file))
    assert made.returncode == 0, made.stderr
    public = json.loads(made.stdout)
    assert "d" not in public
    assert stat.S_IMODE(private_file.stat().st_mode) == 0o600
    private = import_key(json.loads(private_file.read_text()))
    assert private.is_private
    kid: str = public["kid"]
    assert kid == private.kid
    # Never overwrites a private key.
    one_line_error(hub("keygen", "--out", str(private_file)), 1, "not overwriting")

    # The private file is refused unless its public part is asked for explicitly.
    one_line_error(hub("add", "--agency", agency, "--jwk",
                       str(private_file)), 1, "private key material")
    added = hub("add", "--agency", agency, "--jwk", str(private_file), "--public-only",
                "--valid-from", "2026-01-01", "--valid-until", "2028-01-01T00:00:00+07:00")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == (
        f"registered ES256 key {kid} for agency {agency}, signing from "
        "2026-01-01 00:00Z until 2027-12-31 17:00Z")
    one_line_error(hub("add", "--agency", agency, "--jwk", write(tmp_path / "pub.jwk", public)),
                   1, f"key {kid} is already registered (for agency {agency})")

    listing = hub("list", "--agency", agency)
    assert listing.returncode == 0
    lines = listing.stdout.splitlines()
    assert lines[0].split() == ["OWNER", "KID", "ALG", "VALID", "FROM", "VALID", "UNTIL",
                                "STATUS"]
    assert len(lines) == 2
    assert lines[1].split()[:4] == ["agency", agency, kid, "ES256"]
    assert lines[1].endswith("active")
    assert kid in hub("list").stdout
    assert "no signer keys registered for employee" in hub("list", "--employee",
                                                           agency).stdout

    # What the CLI registered verifies what the generated key signs.
    token = sign_submission(claims(iss=agency, iat=int(time.time())), private)

    async def load() -> SignerKeys:
        conn = await asyncpg.connect(signers_dsn)
        try:
            return await SignerKeys.load(conn, kids=[kid])
        finally:
            await conn.close()

    verified = verify_submission(token, asyncio.run(load()), now=datetime.now(UTC))
    assert verified.owner_id == agency

    revoked = hub("revoke", kid)
    assert revoked.returncode == 0, revoked.stderr
    assert f"revoked key {kid} of agency {agency} from" in revoked.stdout
    again = hub("revoke", kid)
    assert (again.returncode, again.stdout) == (0, revoked.stdout)  # idempotent
    assert "revoked 20" in hub("list", "--agency", agency).stdout.splitlines()[1]
    one_line_error(hub("revoke", "no-such-kid"), 1, "no registered key has kid no-such-kid")


@pytest.mark.parametrize("algorithm", KEYGEN_ALGORITHMS)
def test_an_employee_key_from_a_jwks_file(hub: Run, tmp_path: Path, algorithm: str) -> None:
    employee = new_code("CB")
    made = hub("keygen", "--out", str(tmp_path / "employee.jwk"), "--alg", algorithm)
    assert made.returncode == 0, made.stderr
    public = {key: value for key, value in json.loads(made.stdout).items() if key != "kid"}
    added = hub("add", "--employee", employee, "--jwk",
                write(tmp_path / "employee.jwks", {"keys": [public]}))
    assert added.returncode == 0, added.stderr
    assert f"registered {algorithm} key" in added.stdout
    line = hub("list", "--employee", employee).stdout.splitlines()[1]
    assert line.split()[:2] == ["employee", employee]


@pytest.mark.parametrize(("content", "message"), [
    (OctKey.generate_key(256).as_dict(), "symmetric (oct) keys cannot be registered"),
    (weak_rsa_jwk(), "RSA keys must have 2048 to 8192 bits, not 1024"),
    ("{not json", "is not JSON"),
    ("", "is not JSON"),
    ([1, 2], "holds no JWK"),
    ({"keys": [weak_rsa_jwk(), weak_rsa_jwk()]}, "JWK set with 2 keys"),
    ({"keys": []}, "JWK set with 0 keys"),
])
def test_bad_key_files_are_refused(hub: Run, tmp_path: Path, content: Any,
                                   message: str) -> None:
    result = hub("add", "--agency", new_code("G"), "--jwk", write(tmp_path / "key", content))
    one_line_error(result, 1, message)


def test_a_missing_file_is_refused(hub: Run, tmp_path: Path) -> None:
    one_line_error(hub("add", "--agency", "G01", "--jwk", str(tmp_path / "nothing.jwk")),
                   1, "cannot read")


def test_wrong_questions_exit_2(hub: Run, tmp_path: Path) -> None:
    jwk = write(tmp_path / "k.jwk", {"kty": "oct", "k": "AAAA"})
    one_line_error(hub("add", "--jwk", jwk), 2, "one of the arguments --agency --employee")
    one_line_error(hub("add", "--agency", "G01", "--employee", "E1", "--jwk", jwk), 2,
                   "not allowed with argument")
    one_line_error(hub("add", "--agency", "G01", "--jwk", jwk, "--valid-from", "tomorrow"), 2,
                   "not an ISO 8601 date or time")
    one_line_error(hub("keygen", "--out", str(tmp_path / "x"), "--alg", "HS256"), 2,
                   "invalid choice")
    one_line_error(hub("revoke"), 2, "KID")


def test_an_unreachable_database_exits_2(tmp_path: Path) -> None:
    env = {**os.environ, "HUB_DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none"}
    result = subprocess.run([HUB, "signer", "list"], env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    one_line_error(result, 2, "cannot connect to the national database")
    assert "nobody" not in result.stderr


def test_the_parser_offers_the_registrys_algorithms() -> None:
    assert KEYGEN_ALGORITHMS == ALGORITHMS
