"""GraphiQL served from the hub itself, so it works on a network without internet access.

Strawberry's GraphiQL page loads React, GraphiQL and its explorer plugin from unpkg.com. On a
government network that cannot reach it the page stays blank. ``hub graphiql-assets`` fetches
exactly those files once through npm (the versions the page names), checks each against the
page's Subresource Integrity hash, and keeps them under ``.hub/graphiql``; the hub then serves
them at ``/graphql/assets/...`` and rewrites the page to load them from there. Without them the
page is served as strawberry ships it.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import mimetypes
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from strawberry.http.ides import get_graphql_ide_html

__all__ = ["ASSET_PREFIX", "GraphiQLPage", "install_assets", "load_page"]

log = logging.getLogger(__name__)

ASSET_PREFIX = "/graphql/assets/"
# A script or stylesheet of the page: its unpkg address, then its integrity hash.
_ASSET = re.compile(r'(?:src|href)="https://unpkg\.com/(?P<package>(?:@[\w.-]+/)?[\w.-]+)'
                    r'@(?P<version>[\w.-]+)/(?P<path>[\w./-]+)"\s+'
                    r'integrity="sha384-(?P<digest>[A-Za-z0-9+/=]+)"')


@dataclass(frozen=True, slots=True)
class _Asset:
    package: str
    version: str
    path: str
    digest: str  # base64 SHA-384, as in the page's integrity attribute

    @property
    def local_name(self) -> str:
        return f"{self.package}@{self.version}/{self.path}"

    @property
    def remote(self) -> str:
        return f"https://unpkg.com/{self.local_name}"

    def matches(self, content: bytes) -> bool:
        return base64.b64encode(hashlib.sha384(content).digest()).decode() == self.digest


@dataclass(frozen=True, slots=True)
class GraphiQLPage:
    html: str
    assets: dict[str, tuple[bytes, str]]  # local name -> (content, media type)

    @property
    def local(self) -> bool:
        return bool(self.assets)


def _assets(html: str) -> list[_Asset]:
    return [_Asset(m["package"], m["version"], m["path"], m["digest"])
            for m in _ASSET.finditer(html)]


def load_page(assets_dir: Path) -> GraphiQLPage:
    """The GraphiQL page, loading its scripts from the hub when they are installed (and
    intact), else from unpkg.com as strawberry ships it."""
    html = get_graphql_ide_html()
    wanted = _assets(html)
    loaded: dict[str, tuple[bytes, str]] = {}
    for asset in wanted:
        file = assets_dir / asset.local_name
        try:
            content = file.read_bytes()
        except OSError:
            break
        if not asset.matches(content):
            log.warning("GraphiQL asset %s does not match its integrity hash: run "
                        "`hub graphiql-assets` again", file)
            break
        media_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        loaded[asset.local_name] = (content, media_type)
    if not wanted or len(loaded) != len(wanted):
        log.info("GraphiQL loads its scripts from unpkg.com; run `hub graphiql-assets` to "
                 "serve them from the hub (needed without internet access)")
        return GraphiQLPage(html, {})
    for asset in wanted:
        html = html.replace(asset.remote, ASSET_PREFIX + asset.local_name)
    return GraphiQLPage(html, loaded)


def install_assets(assets_dir: Path, npm: str = "npm") -> list[Path]:
    """Fetch the page's scripts and stylesheets through npm (a registry mirror works as well
    as the public one) into ``assets_dir``; every file is checked against its integrity hash
    before it is kept."""
    executable = shutil.which(npm)
    if executable is None:
        raise RuntimeError("npm is not installed: install Node.js and npm (apt-get install "
                           "npm), or leave GraphiQL loading from unpkg.com")
    wanted = _assets(get_graphql_ide_html())
    packages = sorted({f"{a.package}@{a.version}" for a in wanted})
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="hub-graphiql-") as work:
        result = subprocess.run(  # fixed arguments: npm and the page's package names
            [executable, "install", "--no-audit", "--no-fund", "--no-save",
             "--legacy-peer-deps", "--prefix", work, *packages],
            capture_output=True, text=True, timeout=600, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"npm install failed: {result.stderr.strip()[-500:]}")
        for asset in wanted:
            source = Path(work) / "node_modules" / asset.package / asset.path
            content = source.read_bytes()
            if not asset.matches(content):
                raise RuntimeError(f"{asset.local_name} from npm does not match the integrity "
                                   "hash the GraphiQL page expects")
            target = assets_dir / asset.local_name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            written.append(target)
    return written
