"""``hub audit verify`` as an operator runs it: a subprocess on the environment's database."""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg

from hub.auth.keys import SigningKeys, generate_signing_key
from tests.audit.chains import LogWriter, as_superuser
from tests.audit.commands import hub_audit
from tests.audit.test_verify import write_sample


async def test_verify_command(conn: asyncpg.Connection, writer: LogWriter, keys: SigningKeys,
                              cli_env: dict[str, str], tmp_path: Path) -> None:
    sample = await write_sample(writer)
    ok = await hub_audit(cli_env, "verify", "--progress")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("checked 18 record(s) in 3 chain(s) and 7 checkpoint(s); "
                                "newest checkpoint #7 hash ")
    assert "warning: chain" in ok.stdout
    assert "the audit log is intact" in ok.stdout
    assert "rec" in ok.stderr  # the progress bar
    assert "warning" not in (await hub_audit(cli_env, "verify", "--grace", "86400")).stdout

    # An auditor checks with the published public keys only.
    public = tmp_path / "jwks.json"
    public.write_text(json.dumps(keys.public_jwks()))
    assert (await hub_audit(cli_env, "verify", "--jwks", str(public))).returncode == 0
    stranger = tmp_path / "stranger.json"
    stranger.write_text(json.dumps({"keys": [generate_signing_key("ES256").as_dict()]}))
    unknown = await hub_audit(cli_env, "verify", "--jwks", str(stranger))
    assert unknown.returncode == 1
    assert "checkpoint: checkpoint #1: its signature does not hold: signed with an unknown " \
           "key" in unknown.stdout

    await as_superuser(conn, "DELETE FROM audit_record WHERE chain_id = $1 AND seq = 4",
                       sample.a)
    broken = await hub_audit(cli_env, "verify")
    assert broken.returncode == 1
    record = writer.records[sample.a][4]
    assert (f"FAILED: 1 problem(s); the first:\n  deleted: chain {sample.a} seq 5 (recorded "
            f"{record.entry['at']}, request {record.request}): the record(s) before it, "
            "seq 4, are missing") in broken.stdout


async def test_verify_usage_errors(conn: asyncpg.Connection, cli_env: dict[str, str],
                                   tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    cases = [
        (cli_env, ["verify", "--jwks", str(garbage)], "cannot read the JWK set"),
        (cli_env, ["verify", "--keys", str(tmp_path / "missing.jwks")], "no signing key file"),
        (cli_env, ["verify", "--grace", "-1"], "--grace must not be negative"),
        ({**cli_env, "HUB_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nothing"},
         ["verify"], "cannot connect to the national database"),
        ({**cli_env, "HUB_DATABASE_URL": cli_env["HUB_DATABASE_URL"].rsplit("/", 1)[0]
          + "/postgres"}, ["verify"], "no audit log tables: run `hub migrate`"),
    ]
    for env, arguments, message in cases:
        done = await hub_audit(env, *arguments)
        assert done.returncode == 2, (arguments, done)
        assert done.stderr.startswith("hub audit verify: ")
        assert message in done.stderr
        assert "Traceback" not in done.stderr
    both = await hub_audit(cli_env, "verify", "--keys", "a", "--jwks", "b")
    assert both.returncode == 2
    assert "not allowed with argument" in both.stderr
