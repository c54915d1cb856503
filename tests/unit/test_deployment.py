"""The deployment files in deploy/ are valid for the tools that run them: the systemd unit for
``systemd-analyze verify`` (with ExecStart pointed at this checkout's own ``hub``), the
Kubernetes manifest for the API's schema (``kubernetes-validate --strict``); and both start
the hub the way the README says, with the settings it reads."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from hub.config import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    assert shutil.which("systemd-analyze"), "install systemd (Debian: apt install systemd)"
    unit = (DEPLOY / "hub.service").read_text(encoding="utf-8")
    here = str(Path(sys.executable).parent / "hub")
    local = tmp_path / "hub.service"
    local.write_text(unit.replace("/opt/hub/.venv/bin/hub", here), encoding="utf-8")
    result = subprocess.run(["systemd-analyze", "verify", str(local)], capture_output=True,
                            text=True, timeout=60, check=False)
    problems = [line for line in result.stderr.splitlines()
                if "hub.service" in line and "Failed to" in line]
    assert result.returncode == 0, result.stderr
    assert not problems, result.stderr
    assert "ExecStart=/opt/hub/.venv/bin/hub serve" in unit
    assert "ExecReload=/bin/kill -HUP $MAINPID" in unit  # SIGHUP reloads the policies


def test_the_kubernetes_manifest_validates_strictly() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "kubernetes-validate"), "--strict",
         str(DEPLOY / "kubernetes.yaml")],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed") == 4, result.stdout


def test_the_manifest_probes_and_settings_are_the_hubs() -> None:
    documents = {d["kind"]: d for d in yaml.safe_load_all(
        (DEPLOY / "kubernetes.yaml").read_text(encoding="utf-8"))}
    (container,) = documents["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    settings = set(documents["ConfigMap"]["data"]) | {e["name"] for e in container["env"]}
    for name in settings:  # every setting the manifest gives is one the README documents
        assert f"`{name}`" in readme, name
