"""The fault-load runner: it files each answer as the visitor read it, it can
see a lost review, a wrong answer and a stale page when there is one, and a
short real run (DynamoDB Local, redis-server, gunicorn) reports and stops."""

import os
import subprocess
import sys
from email.message import Message
from pathlib import Path

import pytest

from devtools.bench.web import BenchError, Response
from devtools.faultload import check, load

ROOT = Path(__file__).resolve().parents[2]
PATHS = load.Paths(
    detail="/restaurants/Olive/",
    reviews="/restaurants/Olive/reviews/",
    create="/restaurants/Olive/review/",
    edit="/restaurants/Olive/review/edit/",
    user="/users/kim/",
)


def response(status: int, body: str = "", location: str | None = None) -> Response:
    headers = Message()
    if location:
        headers["Location"] = location
    return Response(status, headers, body.encode())


class FakeSite:
    """Answers GETs from a dict of path -> page; nobody can log in."""

    def __init__(self, pages: dict[str, str] | None = None) -> None:
        self.pages = pages or {}

    def get(self, path: str, *, cookies=None) -> Response:
        return response(200, self.pages[path]) if path in self.pages else response(404)

    def log_in(self, username: str, password: str) -> dict[str, str]:
        raise BenchError("no logins here")


def writer(*outcomes: str) -> load.Writer:
    """A writer whose writes 1..n got these outcomes, with texts "text 1".. "text n"."""
    person = load.Writer(FakeSite(), load.Log(), "kim", "Olive", PATHS, "test", think=0)
    for number, outcome in enumerate(outcomes, start=1):
        person.writes.append(load.Write(number, "edit", f"text {number}", 3, 0.0, outcome, outcome))
    return person


def held(text: str | None, *, rating: int = 3, count: int = 1) -> check.Truth:
    return check.Truth(text=text, rating=rating, count=count, average="3.00")


def test_answers_are_filed_as_the_visitor_read_them():
    person = writer()
    filed = {
        "redirect to the restaurant": person._classify(response(302, location=PATHS.detail), "hi")[0],
        "done page": person._classify(response(200, '<h1>Done</h1><a class="button" href="/x/">Continue</a>'), "hi"),
        "refused, text kept": person._classify(response(503, "<textarea>hi</textarea>"), "hi")[:2],
        "refused, text lost": person._classify(response(503, "Please try again"), "hi")[1],
        "sent to log in": person._classify(response(302, location="/accounts/login/?next=/"), "hi")[:2],
        "no answer": person._classify(None, "hi")[0],
    }
    assert filed == {
        "redirect to the restaurant": "confirmed",
        "done page": ("confirmed", "200 Done page", "/x/"),
        "refused, text kept": ("refused", "503, text kept"),
        "refused, text lost": "503, text NOT kept: Please try again",
        "sent to log in": ("unclear", "302 to the login page"),
        "no answer": "unclear",
    }
    assert "sent to the login page" in person.notes[0]


def test_a_confirmed_write_dynamodb_does_not_hold_is_a_lost_review():
    person = writer("confirmed", "confirmed", "unclear")
    assert check.lost_review(person, held("text 1")) is not None
    assert check.lost_review(person, held(None)) is not None
    assert check.lost_review(person, held("text 2")) is None
    assert check.lost_review(person, held("text 3")) is None  # a later write that did happen


def test_a_refused_write_dynamodb_holds_is_a_wrong_answer():
    person = writer("confirmed", "refused")
    assert check.wrong_answers(person, held("text 1")) == []
    assert "write 2" in check.wrong_answers(person, held("text 2"))[0]


def test_a_refused_write_seen_in_the_edit_form_is_a_wrong_answer_even_if_edited_later():
    person = writer("confirmed", "refused", "unclear")
    person._saw("text 2")
    assert list(person.wrong) == [2]
    assert person.writes[2].applied.startswith("not applied")
    assert check.wrong_answers(person, held("text 4")) == [person.wrong[2]]


def test_a_page_that_does_not_show_what_dynamodb_holds_is_stale():
    review = '<a class="review-author" href="/users/kim/">kim</a><p class="review-text">{}</p>'
    fresh = review.format("text 2") + '<p class="muted">1 review</p><strong>3.00</strong> (3 stars)'
    stale = review.format("text 1") + '<p class="muted">1 review</p><strong>3.00</strong> (3 stars)'
    person = writer("confirmed", "confirmed")
    person.site = FakeSite({PATHS.detail: fresh, PATHS.reviews: fresh, PATHS.user: stale})
    found = check.stale_pages(person.site, person, held("text 2"))
    assert len(found) == 1
    assert found[0].startswith(f"anonymous GET {PATHS.user} -> 200") and "shows review 'text 1'" in found[0]
    person.site.pages[PATHS.user] = fresh
    assert check.stale_pages(person.site, person, held("text 2")) == []


def test_a_writer_shown_logged_out_is_a_lost_session_not_a_stale_page():
    person = writer("confirmed")
    person.site = FakeSite({PATHS.detail: '<a href="/accounts/login/?next=/">Log in</a>'})
    assert "logged out" in check.session_lost(person.site, person)
    person.site.pages[PATHS.detail] = '<button type="submit" class="link">Log out</button>'
    assert check.session_lost(person.site, person) is None


@pytest.mark.integration
def test_one_short_fault_runs_reports_and_stops_everything(tmp_path):
    output = tmp_path / "results.md"
    command = [sys.executable, "-m", "devtools.faultload", "--faults", "d", "--seconds", "11"]
    command += ["--readers", "2", "--writers", "2", "--output", str(output)]
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "reviews_site.settings_dev"}
    done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = output.read_text().splitlines()
    header = next(line for line in lines if line.startswith("| fault"))
    row = next(line for line in lines if line.startswith("| (d)"))
    cells = dict(zip(_cells(header), _cells(row), strict=True))
    assert int(cells["requests"]) > 50 and int(cells["confirmed writes"]) > 0, row
    assert cells["logged-in 503s: session unreadable"] == "0", row
    assert (tmp_path / "d" / "gunicorn.log").exists()
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True)
    assert leftovers.stdout == ""  # the redis-server started with --dir under tmp_path is gone


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip("|").split("|")]
