"""Staff access for the local site, as a newcomer gets it: a fresh copy of the
repository, `make run` in one shell, `make superuser` in a second one (which
knows nothing of the ports and keys of make run's services), then a login to
/admin/ over HTTP."""

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.embedded.processes import free_port

from .test_make_run import Visitor, _wait_for_site

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("run_local")]
ROOT = Path(__file__).resolve().parents[2]


def _fresh_clone(target: Path) -> Path:
    """The files a clone of this working tree holds (tracked, and new ones not
    ignored): no var/, no .venv, no local.env of an earlier run."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, map(os.fsdecode, listed)):
        if (ROOT / name).is_file():  # not a file deleted from the working tree
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target


def _second_shell() -> dict[str, str]:
    """A new terminal: none of the test process's AWS or Redis settings."""
    return {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}


def _make_superuser(clone: Path, **env: str) -> subprocess.CompletedProcess:
    # PY: the interpreter running the tests stands in for the clone's .venv, which make run would create.
    return subprocess.run(
        ["make", "--no-print-directory", "superuser", f"PY={sys.executable}"],
        cwd=clone,
        env={**_second_shell(), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_make_superuser_in_a_second_shell_gives_a_newcomer_the_admin(tmp_path):
    clone = _fresh_clone(tmp_path / "clone")
    staff = {
        "DJANGO_SUPERUSER_USERNAME": "newcomer",
        "DJANGO_SUPERUSER_EMAIL": "newcomer@example.com",
        "DJANGO_SUPERUSER_PASSWORD": "Staff-pass-9271",
    }

    refused = _make_superuser(clone, **staff)
    assert refused.returncode != 0
    assert "make run is not running" in refused.stderr and "Traceback" not in refused.stderr

    port, log = free_port(), tmp_path / "run.log"
    env = {**_second_shell(), "DJANGO_SETTINGS_MODULE": "reviews_site.settings_dev", "PYTHONUNBUFFERED": "1"}
    if (ROOT / ".dynamodb-local").exists():  # the Maven download of an earlier make run, shared
        env["DYNAMODB_LOCAL_HOME"] = str((ROOT / ".dynamodb-local").resolve())
    command = [sys.executable, "manage.py", "run_local", "--port", str(port), "--workers", "1"]
    command += ["--demo-restaurants", "10"]
    with log.open("w") as output:
        run = subprocess.Popen(command, cwd=clone, env=env, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_site(run, f"{base}/", log)
        assert "make superuser" in log.read_text()  # make run tells the newcomer

        made = _make_superuser(clone, **staff)
        assert made.returncode == 0, made.stdout + made.stderr
        assert "Superuser created successfully." in made.stdout

        visitor = Visitor(base)
        login = visitor.post_form(
            "/admin/login/?next=/admin/",
            {"username": "newcomer", "password": staff["DJANGO_SUPERUSER_PASSWORD"], "next": "/admin/"},
        )
        assert "Tastebook staff" in login and "Cache dashboard" in login
        assert re.search(r"<form[^>]+logout", login)

        refused_login = Visitor(base).post_form("/admin/login/", {"username": "newcomer", "password": "not-it-9"})
        assert "Please enter the correct username and password" in refused_login
        assert "Cache dashboard" not in refused_login
    finally:
        run.send_signal(signal.SIGINT)
        assert run.wait(timeout=60) == 0, log.read_text()
    assert not (clone / "var" / "local.env").exists()
