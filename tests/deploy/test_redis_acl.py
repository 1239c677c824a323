"""deploy/redis-acl.txt, the one home of the least Redis ACL: the shell line
its header gives operators prints the rules the tests grant the site, and no
line is lost to a mistyped mode."""

import re
import subprocess

import pytest

from tests.faults.conftest import REDIS_ACL, documented_acl

ROOT = REDIS_ACL.parents[1]


def header_command() -> str:
    [command] = re.findall(r"^#\s+(sed .+ deploy/redis-acl\.txt \| xargs)$", REDIS_ACL.read_text(), re.M)
    return command


@pytest.mark.parametrize("mode", ["single", "cluster"])
def test_the_files_shell_line_prints_the_rules_the_site_is_tested_with(mode):
    printed = subprocess.run(
        ["bash", "-c", header_command()],
        cwd=ROOT,
        env={"MODE": mode, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert printed.split() == documented_acl(cluster=mode == "cluster")


def test_every_tagged_line_names_a_mode():
    """A line of another tag would be dropped from both modes without a word."""
    tags = re.findall(r"^([a-z]+): ", REDIS_ACL.read_text(), re.M)
    assert set(tags) == {"single", "cluster"}
