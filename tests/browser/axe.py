"""axe-core in the browser tests: fetched once from the npm registry, checked, injected.

The tarball is fetched with npm itself (``npm pack``, so the machine's npm
configuration, registry and proxy apply) into ``.axe-core/`` (ignored, like
``.dynamodb-local/``) and kept there. Its SHA-512 is pinned below and checked at
every test session, so a changed or corrupt download fails loudly instead of
running another axe. To move to another version: ``npm view axe-core@<version>
dist.integrity`` gives the new checksum.

Only serious and critical violations fail a page: those are the ones that keep
someone from using it (an unlabelled control, text below the contrast ratio, a
list that assistive technology cannot read). No rule is disabled.
"""

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from playwright.sync_api import Page

AXE_VERSION = "4.14.1"
AXE_INTEGRITY = "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
AXE_SCRIPT_IN_TARBALL = "package/axe.min.js"
FAILING_IMPACTS = ("serious", "critical")
NPM_TIMEOUT = 300


def integrity_of(data: bytes) -> str:
    """npm's Subresource Integrity string of ``data``."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def tarball_path(cache_dir: Path) -> Path:
    return cache_dir / f"axe-core-{AXE_VERSION}.tgz"


def fetch_tarball(cache_dir: Path) -> bytes:
    """The pinned axe-core tarball: from ``cache_dir`` if it is there and intact, else from npm."""
    path = tarball_path(cache_dir)
    if path.exists():
        data = path.read_bytes()
        if integrity_of(data) == AXE_INTEGRITY:
            return data
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is missing: install Debian's npm (make test does) to fetch axe-core.")
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir) as download:
        command = [npm, "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", download, "--json", "--silent"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=NPM_TIMEOUT, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"npm pack axe-core@{AXE_VERSION} failed:\n{result.stderr}")
        (packed,) = json.loads(result.stdout)
        data = (Path(download) / packed["filename"]).read_bytes()
        if integrity_of(data) != AXE_INTEGRITY:
            raise RuntimeError(f"axe-core {AXE_VERSION} from npm is not the pinned one: {integrity_of(data)}")
        # Several xdist workers may fetch at once: each renames its own complete file into place.
        staged = Path(download) / "staged.tgz"
        staged.write_bytes(data)
        os.replace(staged, path)
    return data


def install_axe(cache_dir: Path, into: Path) -> Path:
    """Writes the pinned ``axe.min.js`` into the folder ``into`` and returns its path."""
    with tarfile.open(fileobj=io.BytesIO(fetch_tarball(cache_dir)), mode="r:gz") as tarball:
        member = tarball.extractfile(AXE_SCRIPT_IN_TARBALL)
        if member is None:
            raise RuntimeError(f"{AXE_SCRIPT_IN_TARBALL} is missing from axe-core {AXE_VERSION}")
        script = into / "axe.min.js"
        script.write_bytes(member.read())
    return script


def serious_violations(page: Page, axe_script: Path) -> list[dict]:
    """Runs axe on the page as it is now; the violations that fail it."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(axe_script))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [violation for violation in results["violations"] if violation["impact"] in FAILING_IMPACTS]


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['failureSummary'].splitlines()[-1].strip()}")
    return "\n".join(lines)


def assert_no_serious_violations(page: Page, axe_script: Path, what: str = "") -> None:
    """Fails with each serious or critical violation axe finds: rule, impact, elements, help page."""
    violations = serious_violations(page, axe_script)
    where = f"{what} ({page.url})" if what else page.url
    assert not violations, f"axe-core {AXE_VERSION} finds serious or critical violations on {where}:\n" + describe(
        violations
    )
