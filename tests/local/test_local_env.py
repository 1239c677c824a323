"""``var/local.env``, as a second shell uses it beside ``make run``: the same
settings as the running site, whatever its Redis topology (TLS with a private
CA, read replicas, cluster mode) and prefix, and a region for a plain boto3
script. Each process here starts from an environment that names none of them."""

import fcntl
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.embedded.processes import free_port

ROOT = Path(__file__).resolve().parents[2]

# Every Django setting, as JSON (whatever is not JSON as its repr). The web server
# runs the settings that ship, a second shell the development ones (which add the
# devtools app): those two differ by design.
DEVELOPMENT_ONLY = {"INSTALLED_APPS", "SETTINGS_MODULE"}
SETTINGS = (
    "import json; from django.conf import settings; "
    "print(json.dumps({n: getattr(settings, n) for n in dir(settings) if n.isupper()}, default=repr, sort_keys=True))"
)


def _write_env_file(var: Path) -> str:
    """What run_local does once its services are up; prints the environment it
    starts the web server with."""
    return (
        "import json; from pathlib import Path; from devtools.management.commands.run_local import Command; "
        f"Command()._write_env_file(Path({str(var)!r})); print(json.dumps(Command()._child_environment()))"
    )


SECRET_KEY = """it's a "secret" with $HOME, `backticks` and a \\ backslash"""


def _bare_env(home: Path) -> dict[str, str]:
    """A new shell's environment: nothing of the site's."""
    return {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8"}


def _site_env(tmp_path: Path, *, cluster: bool) -> dict[str, str]:
    """How an operator might start ``make run`` against their own Redis."""
    ca = tmp_path / "redis-ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")  # read only when a connection is made
    user = "rediss://tastebook:s3cret%21@127.0.0.1"
    topology = (
        {"REDIS_URL": f"{user}:7001/0,{user}:7002/0", "REDIS_CLUSTER": "true"}
        if cluster
        else {"REDIS_URL": f"{user}:6380/0", "REDIS_REPLICA_URLS": f"{user}:6381/0,{user}:6382/0"}
    )
    return {
        **topology,
        "SESSION_REDIS_URL": f"{user}:6390/0",
        "REDIS_CA_CERTS": str(ca),
        "CACHE_KEY_PREFIX": "tb2",
        "CACHE_TTL_PAGE": "120",
        "DYNAMODB_TABLE": "Restaurants-local",
        # What run_local sets once DynamoDB Local is up (and no region: make run needs none).
        "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{free_port()}",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_SETTINGS_MODULE": "reviews_site.settings_dev",
    }


def _manage_shell(code: str, env: dict[str, str], *, via_local_env: Path | None = None) -> dict:
    if via_local_env is None:
        command = [sys.executable, "manage.py", "shell", "-c", code]
    else:
        command = [sys.executable, "-m", "devtools.local_env", "--var-dir", str(via_local_env), "shell", "-c", code]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def var(tmp_path):
    """``make run``'s folder, with its lock held as a running ``make run`` holds it."""
    folder = tmp_path / "var"
    folder.mkdir()
    with (folder / "run.lock").open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield folder


@pytest.mark.parametrize("cluster", [False, True], ids=["tls-and-replicas", "tls-cluster"])
def test_a_second_shell_gets_the_settings_make_run_was_started_with(tmp_path, var, cluster):
    make_run_env = {**_bare_env(tmp_path), **_site_env(tmp_path, cluster=cluster)}
    web_server_env = _manage_shell(_write_env_file(var), make_run_env)
    site = _manage_shell(SETTINGS, web_server_env)

    second_shell = _manage_shell(SETTINGS, _bare_env(tmp_path), via_local_env=var)

    for settings in (site, second_shell):
        for name in DEVELOPMENT_ONLY:
            settings.pop(name)
    assert second_shell == site
    assert site["REDIS_CLUSTER"] is cluster and site["REDIS_CA_CERTS"] and site["SECRET_KEY"] == SECRET_KEY
    assert (var / "local.env").stat().st_mode & 0o777 == 0o600  # it holds passwords


def test_a_plain_boto3_script_in_a_second_shell_finds_the_region_and_dynamodb(tmp_path, var):
    site_env = _site_env(tmp_path, cluster=False)
    _manage_shell(_write_env_file(var), {**_bare_env(tmp_path), **site_env})
    script = (
        "import json, os, boto3; client = boto3.client('dynamodb'); "
        "print(json.dumps([client.meta.region_name, client.meta.endpoint_url, os.environ['DJANGO_SECRET_KEY']]))"
    )
    sourced = f". {shlex.quote(str(var / 'local.env'))} && exec {shlex.quote(sys.executable)} -c {shlex.quote(script)}"

    done = subprocess.run(["bash", "-c", sourced], env=_bare_env(tmp_path), capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["us-east-1", site_env["AWS_ENDPOINT_URL_DYNAMODB"], SECRET_KEY]
