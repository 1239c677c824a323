"""The layering holds by test: import-linter's contracts in pyproject.toml.

web -> services/selectors -> restaurants.cache -> restaurants.dynamo, one way
only; inside restaurants.cache, each package above those it uses; and the
shipped site never imports devtools. ``lint-imports`` runs in a
subprocess, as a developer would run it; a broken contract fails the test with
import-linter's report, which names every offending import and its line.

A contract can also stop checking anything without anyone noticing (a typo in
a module name, an ``ignore_imports`` entry, indirect imports allowed where they
should not be), so the last test copies the packages, adds one forbidden
import, and checks that the right contract catches it.
"""

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
ROOT_PACKAGES = ("restaurants", "reviews_site", "devtools")


def lint_imports(project: Path, *options: str) -> subprocess.CompletedProcess:
    """Run the contracts of ``project/pyproject.toml`` on the packages in ``project``."""
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", *options],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {contract["id"]: contract for contract in config["tool"]["importlinter"]["contracts"]}


def test_every_import_contract_is_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout


def test_the_web_layer_is_listed_alike_in_both_contracts():
    """The forbidden contract must cover every web module the layers contract
    names, or a new web module could reach the cache unnoticed."""
    layers = contracts()["layers"]["layers"]
    web_layer = next(layer for layer in layers if "views" in [name.strip() for name in layer.split(":")])
    web_modules = {f"restaurants.{name.strip()}" for name in web_layer.split(":")}
    sources = set(contracts()["web-skips-no-layer"]["source_modules"])
    assert {module for module in sources if module.startswith("restaurants.")} == web_modules
    assert not contracts()["web-skips-no-layer"]["ignore_imports"]


@pytest.fixture
def project_copy(tmp_path) -> Path:
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    for package in ROOT_PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


@pytest.mark.parametrize(
    ("module", "statement", "contract", "reported"),
    [
        (
            "restaurants/admin/views.py",
            "from restaurants.cache.operations import flush",
            "web-skips-no-layer",
            "restaurants.admin.views -> restaurants.cache.operations.flush",
        ),
        (
            "restaurants/templatetags/restaurant_cache.py",
            "from restaurants.dynamo import entities",
            "web-skips-no-layer",
            "restaurants.templatetags.restaurant_cache -> restaurants.dynamo.entities",
        ),
        (
            "restaurants/cache/rules/keys.py",
            "from restaurants import services",
            "layers",
            "restaurants.cache.rules.keys -> restaurants.services",
        ),
        (
            "restaurants/dynamo/client.py",
            "from restaurants.cache.rules import policy",
            "layers",
            "restaurants.dynamo.client -> restaurants.cache.rules.policy",
        ),
        (
            "restaurants/waiting.py",
            "from restaurants.dynamo import client",
            "layers",
            "restaurants.waiting -> restaurants.dynamo.client",
        ),
        ("restaurants/unplaced.py", "", "layers", "- restaurants.unplaced"),
        (
            "restaurants/cache/rules/keys.py",
            "from restaurants.cache.plumbing import connection",
            "cache-layers",
            "restaurants.cache.rules.keys -> restaurants.cache.plumbing.connection",
        ),
        (
            "restaurants/cache/accounts/sessions.py",
            "from restaurants.cache.data import summaries",
            "cache-layers",
            "restaurants.cache.accounts.sessions -> restaurants.cache.data.summaries",
        ),
        ("restaurants/cache/unplaced.py", "", "cache-layers", "- restaurants.cache.unplaced"),
        ("reviews_site/settings_dev.py", "import devtools", "no-devtools", "reviews_site.settings_dev -> devtools"),
        ("restaurants/models.py", "import devtools", "no-devtools", "restaurants.models -> devtools"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(project_copy, module, statement, contract, reported):
    path = project_copy / module
    source = path.read_text(encoding="utf-8") if path.exists() else ""
    path.write_text(f"{source}\n{statement}\n", encoding="utf-8")

    result = lint_imports(project_copy, "--contract", contract)

    assert result.returncode == 1, result.stdout + result.stderr
    assert reported in result.stdout, result.stdout
