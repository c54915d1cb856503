"""``hub client ...``, ``hub token`` and ``hub keys rotate``, run through their parser."""

from __future__ import annotations

import argparse
import json
import re
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from joserfc.jwk import ECKey

from hub.auth.cli import add_commands
from tests.auth.conftest import Hub, new_client_id

RunHub = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(hub: Hub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> RunHub:
    monkeypatch.setenv("HUB_DATABASE_URL", hub.dsn)
    monkeypatch.setenv("HUB_AUTH_ISSUER", hub.settings.issuer)
    monkeypatch.setenv("HUB_SIGNING_KEY_FILE", str(hub.settings.signing_key_file))

    def run_hub(*argv: str) -> tuple[int, str, str]:
        parser = argparse.ArgumentParser(prog="hub")
        add_commands(parser.add_subparsers(dest="command", required=True),
                     purposes_loader=lambda: lambda client_id: frozenset({"hr-statistics"}))
        args = parser.parse_args(argv)
        code = args.run(args)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run_hub


def test_client_lifecycle(hub: Hub, run: RunHub) -> None:
    client_id = new_client_id("cli")
    code, out, _ = run("client", "add", client_id, "--name", "Sở Nội vụ Hà Nội",
                       "--generate-secret")
    assert code == 0
    assert f"registered client {client_id}" in out
    secret = re.search(r"shown once; store it now\): (\S+)", out)
    assert secret is not None
    hub.wait_for(lambda: hub.runtime.registry.is_active(client_id), "the new client")
    assert hub.request_token(client_id, secret.group(1)).status_code == 200

    code, out, _ = run("client", "list")
    line = next(line for line in out.splitlines() if line.startswith(client_id))
    assert "Sở Nội vụ Hà Nội" in line
    assert "client_secret_basic" in line
    assert "active" in line

    code, out, _ = run("token", "--client", client_id, "--purpose", "hr-statistics",
                       "--lifetime", "60")
    assert code == 0
    token = out.strip()
    verified = hub.protected(token).json()
    assert (verified["client_id"], verified["purpose"]) == (client_id, "hr-statistics")

    code, _, err = run("token", "--client", client_id, "--purpose", "marketing")
    assert (code, err.strip()) == (1, f"hub: purpose 'marketing' is not declared for "
                                      f"{client_id}")

    code, out, _ = run("client", "revoke", client_id)
    assert code == 0
    assert "revoked" in out
    code, _, err = run("token", "--client", client_id, "--purpose", "hr-statistics")
    assert (code, err.strip()) == (1, f"hub: client {client_id} is revoked")
    code, out, _ = run("client", "list")
    assert "revoked 20" in next(line for line in out.splitlines() if line.startswith(client_id))

    assert run("client", "restore", client_id)[0] == 0
    code, out, _ = run("client", "set-secret", client_id, "--generate-secret")
    assert code == 0
    new_secret = re.search(r"shown once; store it now\): (\S+)", out)
    assert new_secret is not None
    hub.wait_for(lambda: hub.runtime.registry.is_active(client_id), "the restoration")
    hub.wait_for(lambda: hub.request_token(client_id, new_secret.group(1)).status_code == 200,
                 "the new secret")
    assert hub.request_token(client_id, secret.group(1)).status_code == 401


def test_client_with_jwks_and_secret_from_env(run: RunHub, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    key = ECKey.generate_key("P-256", private=True)
    jwks_file = tmp_path / "client.jwk"
    jwks_file.write_text(json.dumps(key.as_dict(private=False)))  # a single key is accepted
    client_id = new_client_id("cli-jwt")
    code, out, _ = run("client", "add", client_id, "--name", "Bộ Tài chính",
                       "--jwks", str(jwks_file))
    assert (code, out.strip()) == (0, f"registered client {client_id}")

    monkeypatch.setenv("CLIENT_SECRET", "from-the-environment-0123456789")
    code, out, _ = run("client", "add", client_id, "--name", "Bộ Tài chính",
                       "--secret-env", "CLIENT_SECRET")
    assert (code, out.strip()) == (0, f"updated client (credentials replaced) {client_id}")

    code, _, err = run("client", "add", client_id, "--name", "x", "--secret-env", "UNSET_VAR")
    assert (code, err.strip()) == (1, "hub: environment variable UNSET_VAR is not set or empty")


def test_refusals(run: RunHub) -> None:
    code, _, err = run("client", "add", "bad id", "--name", "x", "--generate-secret")
    assert code == 1
    assert err.startswith("hub: invalid client id 'bad id'")
    assert run("client", "revoke", "no-such-client") == (1, "", "hub: no client "
                                                               "no-such-client\n")
    code, _, err = run("token", "--client", "no-such-client", "--purpose", "hr-statistics")
    assert (code, err.strip()) == (1, "hub: no client no-such-client: register it with "
                                      "`hub client add`")
    with pytest.raises(SystemExit):  # argparse: one credential is required
        run("client", "add", "some-client", "--name", "x")


def test_keys_rotate_then_running_hub_accepts_new_key(hub: Hub, run: RunHub) -> None:
    client_id = new_client_id("rotate")
    hub.register(client_id, purposes=frozenset({"hr-statistics"}))
    before = hub.token_for(client_id)
    old_kid = hub.runtime.keys.kid

    code, out, _ = run("keys", "rotate")
    assert code == 0
    new_kid = re.search(r"added key (\S+) \(ES256\)", out)
    assert new_kid is not None
    path = hub.settings.signing_key_file
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [k["kid"] for k in json.loads(path.read_text())["keys"]] == [old_kid,
                                                                         new_kid.group(1)]

    # A token signed with the new key by another process: the hub rereads its key file.
    code, out, _ = run("token", "--client", client_id, "--purpose", "hr-statistics")
    assert hub.protected(out.strip()).status_code == 200
    assert hub.runtime.keys.kid == new_kid.group(1)
    assert hub.protected(before).status_code == 200  # the old key still verifies
    published = [k["kid"] for k in hub.runtime.keys.public_jwks()["keys"]]
    assert published == [old_kid, new_kid.group(1)]

    # The old key retired from the file (say it leaked): its tokens stop verifying within
    # moments, although no request names an unknown key.
    keys = json.loads(path.read_text())
    keys["keys"] = [k for k in keys["keys"] if k["kid"] != old_kid]
    path.write_text(json.dumps(keys))
    hub.wait_for(lambda: hub.protected(before).status_code == 401, "the retired key to stop")
    assert hub.protected(out.strip()).status_code == 200
