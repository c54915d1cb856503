"""``hub audit verify`` as an operator runs it: a subprocess on the environment's database."""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg

from hub.auth.keys import SigningKeys, generate_signing_key
from tests.audit.chains import LogWriter, as_superuser
from tests.audit.commands import hub_audit
from tests.audit.test_verify import insert_row, write_sample


async def test_verify_command(conn: asyncpg.Connection, writer: LogWriter, keys: SigningKeys,
                              cli_env: dict[str, str], tmp_path: Path) -> None:
    sample = await write_sample(writer)
    ok = await hub_audit(cli_env, "verify", "--progress")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("checked 18 record(s) in 3 chain(s) and 7 checkpoint(s); "
                                "newest checkpoint #7 hash ")
    assert ("warning: UNCLOSED CHAINS: 1 chain(s) stopped without a signed close and quiet "
            "for over 60 s (a hub killed or crashed, or idle); 2 record(s) after their last "
            f"checkpoints are unprotected:\n  unclosed chain {sample.a}: never closed"
            ) in ok.stdout
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
        (cli_env, ["verify", "--keys", str(tmp_path / "missing.jwks")], "no audit key file"),
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


async def test_verify_strict_and_a_checkpoint_kept_elsewhere(
        conn: asyncpg.Connection, writer: LogWriter, cli_env: dict[str, str]) -> None:
    sample = await write_sample(writer)
    first = await hub_audit(cli_env, "verify")
    assert first.returncode == 0, first.stdout + first.stderr
    newest = first.stdout.splitlines()[1]
    assert newest.startswith("keep it outside the database, and check it next time with "
                             "--expect-checkpoint 7:")
    kept = newest.rsplit(" ", 1)[1]

    # a's last two records are protected by no signature, and no close ended a.
    strict = await hub_audit(cli_env, "verify", "--strict")
    assert strict.returncode == 1, strict.stdout
    assert "problem: UNCLOSED CHAINS: 1 chain(s)" in strict.stdout
    assert f"unclosed chain {sample.a}" in strict.stdout
    assert strict.stdout.endswith("FAILED (--strict): 1 unclosed chain(s), whose last records "
                                  "no signature protects\n")
    # Within the grace period, a's writer may still be at work.
    assert (await hub_audit(cli_env, "verify", "--strict", "--grace", "86400")).returncode == 0

    assert (await hub_audit(cli_env, "verify", "--expect-checkpoint", kept)).returncode == 0
    await as_superuser(conn, "DELETE FROM audit_checkpoint WHERE id = 7")
    cut = await hub_audit(cli_env, "verify", "--expect-checkpoint", kept)
    assert cut.returncode == 1, cut.stdout
    assert ("FAILED: 1 problem(s); the first:\n  checkpoint: checkpoint #7: it is missing, "
            "but the copy kept outside the log names it") in cut.stdout
    # Without it, only the chain c lost its close.
    alone = await hub_audit(cli_env, "verify", "--grace", "0")
    assert alone.returncode == 0, alone.stdout
    assert f"unclosed chain {sample.c}" in alone.stdout

    for wrong in ("7", "x:ab", "0:" + "00" * 32, "7:" + "0" * 63):
        refused = await hub_audit(cli_env, "verify", "--expect-checkpoint", wrong)
        assert refused.returncode == 2, (wrong, refused)
        assert "is not ID:HASH" in refused.stderr


async def test_verify_names_a_row_it_cannot_read(conn: asyncpg.Connection, writer: LogWriter,
                                                 cli_env: dict[str, str]) -> None:
    """Valid jsonb that orjson refuses: the row is named, verification does not stop."""
    sample = await write_sample(writer)
    last = writer.records[sample.a][-1]
    await insert_row(conn, sample.a, last.seq + 1, last.hash, '{"n": 1e400}', last)
    done = await hub_audit(cli_env, "verify")
    assert done.returncode == 1, done.stdout + done.stderr
    assert (f"FAILED: 1 problem(s); the first:\n  altered: chain {sample.a} seq 10 (recorded "
            ) in done.stdout
    assert "its entry cannot be read as JSON" in done.stdout
