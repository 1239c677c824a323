import io
import sys

from devtools import heartbeat


def test_a_silent_command_is_said_to_be_still_running_and_its_status_passes_through():
    out = io.StringIO()
    script = "import sys, time; print('first', flush=True); time.sleep(0.7); print('last'); sys.exit(3)"
    status = heartbeat.run("installing", [sys.executable, "-c", script], silence=0.2, out=out)
    lines = out.getvalue().splitlines()
    assert status == 3
    assert lines[0] == "first" and lines[-1] == "last"
    assert any(line.startswith("  still installing (") for line in lines[1:-1])


def test_a_chatty_command_gets_no_heartbeat():
    out = io.StringIO()
    status = heartbeat.run("installing", [sys.executable, "-c", "print('done')"], silence=5, out=out)
    assert status == 0 and out.getvalue() == "done\n"
